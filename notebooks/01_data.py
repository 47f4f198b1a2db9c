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
#
# With a split file, prompts are developed (and few-shot examples drawn) on
# the development part only, and Tables 1A/1B are computed on the test part:
# `truth.csv` holds the test part's ground truth, `truth_dev.csv` the
# development part's. Every report is still labeled. Without a split file
# (your own data may have none) every report is evaluated.

# %% tags=["parameters"]
run_name = "embedded"  # a run file in analysis/runs: embedded or paper
reports_file = "data/demo/reports.csv"  # CSV or Parquet, one report per row
id_column = "report_id"  # the column of report ids in reports_file
text_column = "report_text"  # the column of report texts in reports_file
truth_file = "data/demo/ground_truth.csv"  # report_id, extravasation, locations
split_file = "data/demo/split.csv"  # report_id, split (dev or test); empty: evaluate on every report
limit = 0  # only the first N reports; 0 for all
processed_dir = ""  # where this run's files go; empty for data/processed/<run_name>

# %%
from analysis.config import ROOT, run_dir
from analysis.data import DEV, read_reports, read_split, read_truth, write_table
from analysis.labeling import prompt_inputs
from analysis.specs import load_run
from analysis.split import assign_split, evaluated

out = run_dir(run_name, processed_dir)
reports = read_reports(ROOT / reports_file, id_column=id_column, text_column=text_column)
if limit:
    reports = reports.head(limit)
truth = read_truth(ROOT / truth_file)
truth = truth[truth.report_id.isin(reports.report_id)]
inputs = prompt_inputs(reports, load_run(run_name))
inputs["split"] = assign_split(inputs.report_id, read_split(ROOT / split_file) if split_file else None)
development = truth.report_id.isin(inputs.report_id[inputs.split == DEV])
write_table(inputs, out / "inputs.csv")
write_table(truth[~development], out / "truth.csv")
write_table(truth[development], out / "truth_dev.csv")
print(f"{len(reports)} reports, {len(truth)} with ground truth, {inputs.prompt_text.notna().sum()} sent to the models; "
      f"tables on {evaluated(inputs.split)} ({(~development).sum()} reports with ground truth)")

# %% [markdown]
# How the impression was found, and why some reports send nothing (they are
# labeled `Undefined` with that reason, and no model is asked).

# %%
inputs.impression_method.value_counts().rename("reports").to_frame()

# %%
inputs[inputs.prompt_text.isna()][["report_id", "reason"]]

# %%
inputs[["report_id", "split"]].merge(truth).groupby("split").extravasation.value_counts().unstack(fill_value=0)
