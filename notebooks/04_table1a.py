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
# Scored: the reports whose ground truth is Yes or No, as the study scored
# them; those whose truth is Undefined are listed and left out (and a
# sensitivity analysis counts them as negatives). `Yes` is positive; `No`,
# `Undefined` and invalid answers are negative, and their counts stand
# beside the metrics. Proportions carry Clopper–Pearson exact intervals; F1,
# AUC, κ and paired differences carry BCa bootstrap intervals over reports,
# paired across models (settings in the run file). With a development/test
# split (notebook 1) every number here is computed on the test split only.

# %% tags=["parameters"]
run_name = "embedded"  # a run file in analysis/runs: embedded or paper
processed_dir = ""  # this run's files; empty for data/processed/<run_name>
figures_dir = "figures"  # where the tables go
case_features_file = "data/demo/case_features.csv"  # each report's kind, for the table by kind; empty: none

# %%
from analysis.config import ROOT, RunFiles, run_dir
from analysis.data.io import read_case_features
from analysis.reporting.tables import table1a_step
from analysis.specs import load_run

files = RunFiles(run_dir(run_name, processed_dir))
features = read_case_features(ROOT / case_features_file) if case_features_file else None
evaluation = table1a_step(files, load_run(run_name), ROOT / figures_dir, features)
left_out = evaluation.undefined_truth.report_id
print(f"{evaluation.table1a.n.iloc[0] + len(left_out)} evaluated reports with ground truth; {len(left_out)} whose "
      f"truth is Undefined are left out of the scored set: {', '.join(left_out)}")
evaluation.table1a[["model", "precision", "recall", "specificity", "npv", "f1", "f1_lo", "f1_hi", "f1_method",
                    "accuracy", "auc", "n", "n_undefined", "n_invalid"]].round(3)

# %% [markdown]
# Read each F1 with its interval, not alone: two models whose intervals
# overlap widely may not differ. `n_undefined` and `n_invalid` are negatives
# the metrics cannot see: a model that says `Undefined` often has a high
# precision for free. `auc` ranks reports by `p_yes`, whatever the plain
# answer. A `rules` row is training-set performance when the rules were
# written reading the test split (the note says so).
#
# The same table with the Undefined-truth reports counted as negatives (the
# sensitivity analysis): where it differs much from the one above, the
# reports whose truth is unsure drive the result.

# %%
evaluation.sensitivity[["model", "precision", "recall", "f1", "accuracy", "n", "n_truth_undefined"]].round(3)

# %% [markdown]
# Truth × answer for each label set, three-way: where the `Undefined`
# answers and the Undefined truths go.

# %%
evaluation.confusion.pivot_table(index=["model", "truth"], columns="answer", values="reports", sort=False)

# %% [markdown]
# Each pair of label sets on the same reports: an interval of `a − b` that
# holds 0 means these reports cannot tell the two apart. A `note` says when
# a pair is not two independent models.

# %%
evaluation.differences[["model_a", "model_b", "metric", "difference", "difference_lo", "difference_hi", "note"]].round(3)

# %% [markdown]
# McNemar's test counts the reports one label set gets right and the other
# wrong; read `p_holm`, the mid-p adjusted for every comparison of the table.

# %%
evaluation.mcnemar

# %% [markdown]
# Agreement of the models that vote with one another (Fleiss' κ, on the
# scored reports sent to them) and of each label set with the truth
# (Cohen's κ).

# %%
display(evaluation.agreement)
evaluation.cohen.round(3)

# %% [markdown]
# How far `p_yes` can be read as a probability: the Brier score, and the
# calibration intercept (0 is ideal) and slope (1 is ideal). Notebook 6
# draws the reliability diagram.

# %%
evaluation.calibration.round(3)

# %% [markdown]
# ## Which kinds of report each label set gets wrong
#
# Errors on the scored reports of each kind (the demo corpus's hard-case
# categories), first on the development split: that is where a prompt or a
# rule change may be aimed, since the test split must not guide it
# (`figures/by_category_dev.md`). Then the test split, for the record
# (`figures/by_category.md`).

# %%
def errors_by_kind(table):
    if not len(table):
        return "no kinds of report for this run"
    return (table.pivot(index="category", columns="model", values="errors")
            .join(table.drop_duplicates("category").set_index("category")[["support", "positives"]]))


errors_by_kind(evaluation.by_category_dev)

# %%
errors_by_kind(evaluation.by_category)

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
