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
# # 6. Figures and the reviewer sheet
#
# Figure 1 (the pipeline, annotated with this run's counts), the confusion
# matrices, a forest plot of F1 with intervals, the per-location heatmap and
# the ROC curves and reliability diagram of `p_yes` and the review budget, as PNG and PDF under
# `figures/`, on the reports of the tables (the test split, if there is one). Nothing here
# calls a model: changing a colour reruns this notebook only.
#
# The reviewer sheet is the review queue: every report, those most likely
# to be wrong first, with its impression, each model's answer, `p_yes` and
# raw response. It quotes reports, so it stays in the run's git-ignored
# folder.

# %% tags=["parameters"]
run_name = "embedded"  # a run file in analysis/runs: embedded or paper
processed_dir = ""  # this run's files; empty for data/processed/<run_name>
figures_dir = "figures"  # where the figures go
readme_results = False  # rewrite README.md's results section from this run (the demo run only)
case_features_file = "data/demo/case_features.csv"  # each report's kind, for the reviewer sheet's filter; empty: none

# %%
from analysis.config import RESPONSE_CACHE_FILE, ROOT, RunFiles, run_dir
from analysis.data.io import read_case_features
from analysis.reporting.figures import figures_step
from analysis.specs import load_run

files = RunFiles(run_dir(run_name, processed_dir))
kinds = read_case_features(ROOT / case_features_file) if case_features_file else None
made = figures_step(files, ROOT / figures_dir, load_run("paper").tags, RESPONSE_CACHE_FILE, kinds, readme=readme_results)
print("Wrote " + ", ".join(str(path) for path in made.written))

# %%
made.figures["figure1_pipeline"]

# %%
made.figures["confusion_matrices"]

# %%
made.figures["forest_f1"]

# %%
made.figures["locations_f1"]

# %%
made.figures["roc_p_yes"]

# %%
made.figures["reliability_p_yes"]

# %% [markdown]
# ## Review budget
#
# Reviewing the test reports in the order of the review priority (the
# estimated probability that the chosen label set is wrong, written with the
# labels), beside the reviewer sheet's order without a priority (closest call first) and
# random order: the errors left and F1 after each report reviewed
# (`figures/review_budget.md` gives the 5, 10 and 20% points, the priority's
# calibration and its coefficients). A run without a priority model draws
# none.

# %%
made.figures.get("review_budget")

# %% [markdown]
# ## Reviewer sheet
#
# The review queue: every report, highest review priority first (without a
# priority model, closest calls first: `p_yes` nearest 0.5), flagged where a
# label set disagrees with the ground truth or the models with one another,
# with the raw response behind each label and the log-probabilities at its
# answer token. The HTML page marks how many errors the first 5, 10 and 20%
# of the queue are estimated to hold, filters by model, split, kind of report
# and why a report is flagged, and takes a reviewer's right/wrong decisions,
# saved to a CSV file for `python -m analysis adjudicate`; it loads nothing
# from the network. Development reports are in the queue too, with their split.

# %%
print(f"{len(made.sheet)} reports in the queue")
made.sheet.head(10)
