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
# # 4. Table 1A: stage-1 metrics with uncertainty
#
# `Yes` is positive; `No`, `Undefined` and invalid answers are negative,
# and their counts stand beside the metrics. Intervals: percentile bootstrap
# over reports, paired across models (settings in the run file). Beside the
# table: paired differences between models, McNemar's test between each pair,
# Fleiss' kappa across models. With a development/test split (notebook 1)
# every number here is computed on the test split only.

# %% tags=["parameters"]
run_name = "embedded"  # a run file in analysis/runs: embedded or paper
processed_dir = ""  # this run's files; empty for data/processed/<run_name>
figures_dir = "figures"  # where the tables go

# %%
from analysis.config import ROOT, run_dir
from analysis.data.io import read_truth
from analysis.evaluation.evaluate import evaluate_stage1
from analysis.labeling.labels import read_labels
from analysis.reporting.tables import write_stage1
from analysis.specs import load_run

out = run_dir(run_name, processed_dir)
labels = read_labels(out / "stage1_ensemble.csv")
truth = read_truth(out / "truth.csv")
evaluation = evaluate_stage1(labels, truth, read_truth(out / "truth_dev.csv"), load_run(run_name).bootstrap)
write_stage1(evaluation, ROOT / figures_dir)
evaluation.table1a[["model", "precision", "recall", "f1", "accuracy", "f1_lo", "f1_hi", "n", "n_undefined", "n_invalid", "auc"]]

# %% [markdown]
# Read each model's F1 with its interval, not alone: two models whose
# intervals overlap widely may not differ. `n_undefined` and `n_invalid` are
# negatives the metrics cannot see: a model that says `Undefined` often has
# a high precision for free. `auc` ranks reports by `p_yes`, whatever the
# plain answer.

# %%
evaluation.differences

# %% [markdown]
# Each pair of models on the same reports: an interval of `a − b` that holds
# 0 means these reports cannot tell the two apart.

# %%
evaluation.mcnemar

# %% [markdown]
# McNemar's test counts the reports one model gets right and the other
# wrong (`only_a_correct`, `only_b_correct`); a small p-value says the two
# err on different reports more often than chance. Agreement of the models
# that vote (Fleiss' κ):

# %%
evaluation.agreement

# %% [markdown]
# ## Deciding from `p_yes`
#
# The table above keeps each model's plain answer (the likeliest of Yes, No
# and Undefined). `p_yes` allows another decision: Yes when `p_yes` reaches
# a cut. Here the cut that maximises F1 is chosen on the development split
# (`truth_dev.csv`) and applied unchanged to the test split, the reports of
# the table; its reliability diagram and ROC curves are in notebook 6.

# %%
print((ROOT / figures_dir / "thresholds.md").read_text())

# %% [markdown]
# A cut that helps on the development split may not on the test split:
# read the difference's interval. The tables keep the plain answer.
