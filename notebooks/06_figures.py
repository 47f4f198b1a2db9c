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
# the ROC curves and reliability diagram of `p_yes`, as PNG and PDF under
# `figures/`, on the reports of the tables (the test split, if there is one). Nothing here
# calls a model: changing a colour reruns this notebook only.
#
# The reviewer sheet lists every report where a model disagrees with the
# ground truth or with another model, with its impression, each model's
# answer, `p_yes` and raw response. It quotes reports, so it stays in the
# run's git-ignored folder.

# %% tags=["parameters"]
run_name = "embedded"  # a run file in analysis/runs: embedded or paper
processed_dir = ""  # this run's files; empty for data/processed/<run_name>
figures_dir = "figures"  # where the figures go
readme_results = False  # rewrite README.md's results section from this run (the demo run only)
case_features_file = "data/demo/case_features.csv"  # each report's kind, for the reviewer sheet's filter; empty: none

# %%
import pandas as pd

from analysis.config import RESPONSE_CACHE_FILE, ROOT, run_dir
from analysis.data.io import read_case_features, read_truth
from analysis.evaluation.metrics import STAGE2_ALONE
from analysis.evaluation.scoring import scored_truth
from analysis.labeling.inputs import read_inputs
from analysis.labeling.labels import read_labels
from analysis.labeling.manifest import read_manifest
from analysis.reporting import figures
from analysis.reporting.readme import update_readme
from analysis.reporting.review import reviewer_sheet, write_reviewer_sheet
from analysis.specs import load_run

out = run_dir(run_name, processed_dir)
figures_out = ROOT / figures_dir
labels = read_labels(out / "labels.csv")
truth = read_truth(out / "truth.csv")
manifest = read_manifest(out)

# %%
figure1 = figures.pipeline_figure(manifest, labels, study_models=load_run("paper").tags)
figures.save(figure1, figures_out, "figure1_pipeline")
figure1

# %%
confusion = figures.confusion_matrices(labels, truth)
figures.save(confusion, figures_out, "confusion_matrices")
confusion

# %%
forest = figures.forest_plot(pd.read_csv(figures_out / "table1a.csv"))
figures.save(forest, figures_out, "forest_f1")
forest

# %%
table1b = pd.read_csv(figures_out / "table1b.csv")
heatmap = figures.location_heatmap(table1b[table1b.design == STAGE2_ALONE])
figures.save(heatmap, figures_out, "locations_f1")
heatmap

# %%
roc = figures.roc_curves(labels, scored_truth(truth))
figures.save(roc, figures_out, "roc_p_yes")
roc

# %%
reliability = figures.reliability_diagram(labels, scored_truth(truth))
figures.save(reliability, figures_out, "reliability_p_yes")
reliability

# %% [markdown]
# ## Reviewer sheet
#
# Every report on which a model, the ensemble or the rules disagrees with the
# ground truth, or the models with one another, closest calls first (`p_yes`
# nearest 0.5), with the raw response behind each label and the
# log-probabilities at its answer token. The HTML page filters by model,
# split, kind of report and why a report is listed; it loads nothing from the
# network. Development reports are listed too, with their split.

# %%
every_truth = pd.concat([truth, read_truth(out / "truth_dev.csv")], ignore_index=True)
kinds = read_case_features(ROOT / case_features_file) if case_features_file else None
sheet = reviewer_sheet(labels, every_truth, read_inputs(out / "inputs.csv"), RESPONSE_CACHE_FILE, kinds)
paths = write_reviewer_sheet(sheet, out)
print(f"{len(sheet)} reports listed: " + ", ".join(str(p) for p in paths))
sheet.head(10)

# %%
if readme_results:
    print("README.md results section", "updated" if update_readme(figures_out, manifest) else "unchanged")
