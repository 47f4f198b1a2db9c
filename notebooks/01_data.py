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
# # 1. Data: reports, ground truth, impressions
#
# Reads the reports and the ground truth, finds each report's IMPRESSION (the
# text the models are asked about) and writes what each report will send to
# the models, or why it sends nothing. Nothing here calls a model.

# %% tags=["parameters"]
run_name = "embedded"  # a run file in analysis/runs: embedded or paper
reports_file = "data/demo/reports.csv"  # CSV or Parquet, one report per row
id_column = "report_id"  # the column of report ids in reports_file
text_column = "report_text"  # the column of report texts in reports_file
truth_file = "data/demo/ground_truth.csv"  # report_id, extravasation, locations
limit = 0  # only the first N reports; 0 for all
processed_dir = ""  # where this run's files go; empty for data/processed/<run_name>

# %%
from analysis.config import ROOT, run_dir
from analysis.data import read_reports, read_truth, write_table
from analysis.labeling import prompt_inputs
from analysis.specs import load_run

out = run_dir(run_name, processed_dir)
reports = read_reports(ROOT / reports_file, id_column=id_column, text_column=text_column)
if limit:
    reports = reports.head(limit)
truth = read_truth(ROOT / truth_file)
truth = truth[truth.report_id.isin(reports.report_id)]
inputs = prompt_inputs(reports, load_run(run_name))
write_table(inputs, out / "inputs.csv")
write_table(truth, out / "truth.csv")
print(f"{len(reports)} reports, {len(truth)} with ground truth, {inputs.prompt_text.notna().sum()} sent to the models")

# %% [markdown]
# How the impression was found, and why some reports send nothing (they are
# labeled `Undefined` with that reason, and no model is asked).

# %%
inputs.impression_method.value_counts().rename("reports").to_frame()

# %%
inputs[inputs.prompt_text.isna()][["report_id", "reason"]]

# %%
truth.extravasation.value_counts().rename("reports").to_frame()
