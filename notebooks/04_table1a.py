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
from analysis.data import read_truth
from analysis.labeling import read_labels
from analysis.metrics import table1a
from analysis.specs import load_run
from analysis.statistics import agreement_table, mcnemar_table, paired_differences
from analysis.tables import write_statistics, write_table1a

out = run_dir(run_name, processed_dir)
bootstrap = load_run(run_name).bootstrap
labels = read_labels(out / "stage1_ensemble.csv")
truth = read_truth(out / "truth.csv")
table = table1a(labels, truth, bootstrap.resamples, bootstrap.seed, bootstrap.confidence)
write_table1a(table, ROOT / figures_dir)
table[["model", "precision", "recall", "f1", "accuracy", "f1_lo", "f1_hi", "n", "n_undefined", "n_invalid", "auc"]]

# %%
differences = paired_differences(labels, truth, bootstrap.resamples, bootstrap.seed, bootstrap.confidence)
mcnemar = mcnemar_table(labels, truth)
write_statistics(differences, mcnemar, agreement_table(labels), ROOT / figures_dir)
differences

# %%
mcnemar

# %% [markdown]
# ## Deciding from `p_yes`
#
# The table above keeps each model's plain answer (the likeliest of Yes, No
# and Undefined). `p_yes` allows another decision: Yes when `p_yes` reaches
# a cut. Here the cut that maximises F1 is chosen on the development split
# (`truth_dev.csv`) and applied unchanged to the test split, the reports of
# the table; its reliability diagram and ROC curves are in notebook 6.

# %%
from analysis.tables import write_thresholds
from analysis.variants import threshold_table

thresholds = threshold_table(labels, read_truth(out / "truth_dev.csv"), truth, bootstrap)
write_thresholds(thresholds, ROOT / figures_dir)
print((ROOT / figures_dir / "thresholds.md").read_text())
