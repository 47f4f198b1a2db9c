# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 3. Ensemble: majority vote of the models
#
# A label needs more than half of the votes (two of three). `Undefined` votes
# like any other answer; with no majority the ensemble says `Undefined` with
# the reason `no majority`. Its `p_yes` is the mean of the models'. The
# rule-based baseline (`rules`) does not vote.

# %% tags=["parameters"]
run_name = "embedded"  # a run file in analysis/runs: embedded or paper
processed_dir = ""  # this run's files; empty for data/processed/<run_name>

# %%
from analysis.config import run_dir
from analysis.data.io import read_truth, write_table
from analysis.evaluation.comparisons import agreement_table
from analysis.labeling.combination import add_combination
from analysis.labeling.ensemble import add_ensemble
from analysis.labeling.inputs import read_inputs
from analysis.labeling.labels import read_labels
from analysis.reporting.examples import disagreements
from analysis.specs import load_run

out = run_dir(run_name, processed_dir)
run = load_run(run_name)
stage1 = read_labels(out / "stage1.csv")
labels = add_combination(add_ensemble(stage1), read_inputs(out / "inputs.csv"), run)
write_table(labels, out / "stage1_ensemble.csv")
labels.groupby("model", sort=False).extravasation.value_counts().unstack(fill_value=0)

# %% [markdown]
# How each ensemble label came about: a majority, no majority (one `Yes`,
# one `No`, one `Undefined`), or no model was asked (no impression).

# %%
labels[labels.model == "ensemble"].status.value_counts().rename("reports").to_frame()

# %% [markdown]
# Agreement between the models (Fleiss' kappa over Yes/No/Undefined, on the
# scored evaluation reports sent to them), and the first reports on which
# they split, with the ensemble's vote beside them.

# %%
agreement_table(labels, read_truth(out / "truth.csv"), run.bootstrap)

# %%
disagreements(labels)
