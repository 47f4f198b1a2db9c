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
from analysis.ensemble import voters
from analysis.data import write_table
from analysis.labeling import add_ensemble, read_labels
from analysis.statistics import agreement_table

out = run_dir(run_name, processed_dir)
stage1 = read_labels(out / "stage1.csv")
models = voters(stage1)
labels = add_ensemble(stage1)
write_table(labels, out / "stage1_ensemble.csv")
labels.groupby("model", sort=False).extravasation.value_counts().unstack(fill_value=0)

# %% [markdown]
# Agreement between the models (Fleiss' kappa over Yes/No/Undefined), and the
# reports on which they split.

# %%
agreement_table(labels)

# %%
wide = labels.pivot(index="report_id", columns="model", values="extravasation")[models + ["ensemble"] if len(models) > 1 else models]
wide[wide[models].nunique(axis=1) > 1]
