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
from analysis.config import RunFiles, run_dir
from analysis.data.io import read_truth
from analysis.data.vocabulary import Role
from analysis.evaluation.comparisons import agreement_table
from analysis.labeling.ensemble import ensemble_step
from analysis.labeling.session import Session
from analysis.reporting.views import answer_counts, disagreements

files = RunFiles(run_dir(run_name, processed_dir))
session = Session(run_name)
labels = ensemble_step(session, files)
answer_counts(labels)

# %% [markdown]
# How each ensemble label came about: a majority, no majority (one `Yes`,
# one `No`, one `Undefined`), or no model was asked (no impression).

# %%
labels[labels.role == Role.ENSEMBLE].status.value_counts().rename("reports").to_frame()

# %% [markdown]
# Agreement between the models (Fleiss' kappa over Yes/No/Undefined, on the
# scored evaluation reports sent to them), and the first reports on which
# they split, with the ensemble's vote beside them.

# %%
agreement_table(labels, read_truth(files.truth), session.run.bootstrap)

# %%
disagreements(labels)
