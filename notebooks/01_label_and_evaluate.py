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
# # Stage 1: label active extravasation, then Table 1A
#
# Each report's IMPRESSION goes to every model of the run with the zero-shot
# prompt of `analysis/tasks/extravasation_zeroshot.yaml`; a majority vote of
# the models makes the ensemble label; precision, recall, F1 and accuracy
# against the ground truth fill Table 1A.
#
# Answers come from the response cache (`data/interim/responses.sqlite`)
# whenever the same model was asked the same question before, so rerunning
# this notebook costs no model call. Change the prompt and only the changed
# requests go to the server.
#
# With the embedded run the models are small CPU models: a working miniature
# of the study's trio, not a substitute for it. Their numbers are not the paper's.

# %% tags=["parameters"]
run_name = "embedded"  # a run file in analysis/runs: embedded or paper
reports_file = "data/demo/reports.csv"  # CSV or Parquet, one report per row
id_column = "report_id"  # the column of report ids in reports_file
text_column = "report_text"  # the column of report texts in reports_file
truth_file = "data/demo/ground_truth.csv"  # report_id, extravasation, locations
limit = 0  # label only the first N reports; 0 for all
labels_dir = ""  # where labels.csv goes; empty for data/processed/<run_name>
figures_dir = "figures"  # where Table 1A goes

# %%
from analysis.config import PROCESSED_DIR, ROOT
from analysis.data import read_reports, read_truth
from analysis.labeling import label_reports, write_outputs
from analysis.metrics import table1a
from analysis.tables import write_table1a

reports = read_reports(ROOT / reports_file, id_column=id_column, text_column=text_column)
truth = read_truth(ROOT / truth_file)
if limit:
    reports = reports.head(limit)
    truth = truth[truth.report_id.isin(reports.report_id)]
labels_path = ROOT / labels_dir if labels_dir else PROCESSED_DIR / run_name
print(f"{len(reports)} reports, {len(truth)} with ground truth")

# %% [markdown]
# ## Labels
# One row per report and model, and one per report for the ensemble.
# `reason` says why a label is not a clean model answer (no impression,
# invalid answer, no majority).

# %%
labels, manifest = label_reports(reports, run=run_name)
write_outputs(labels, manifest, labels_path)
labels.pivot(index="report_id", columns="model", values="extravasation").head(10)

# %%
labels.groupby("model", sort=False).extravasation.value_counts().unstack(fill_value=0)

# %%
labels[labels.reason != ""].groupby(["model", "reason"], sort=False).size().rename("reports").to_frame()

# %% [markdown]
# ## Table 1A
# `Yes` is positive; `No`, `Undefined` and invalid answers are negative.

# %%
table = table1a(labels, truth)
write_table1a(table, ROOT / figures_dir)
table
