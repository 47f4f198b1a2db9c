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
evidence_file = "data/demo/evidence.csv"  # report_id, evidence: the true evidence statements; empty: none known
split_file = "data/demo/split.csv"  # report_id, split (dev or test); empty: evaluate on every report
limit = 0  # only the first N reports; 0 for all
processed_dir = ""  # where this run's files go; empty for data/processed/<run_name>

# %%
import pandas as pd

from analysis.config import ROOT, RunFiles, run_dir
from analysis.data.io import read_reports, read_split, read_truth
from analysis.data.split import evaluated
from analysis.labeling.inputs import inputs_step
from analysis.reporting.views import impression_examples
from analysis.specs import load_run

files = RunFiles(run_dir(run_name, processed_dir))
reports = read_reports(ROOT / reports_file, id_column=id_column, text_column=text_column)
if limit:
    reports = reports.head(limit)
truth = read_truth(ROOT / truth_file, ROOT / evidence_file if evidence_file else None)
inputs = inputs_step(files, load_run(run_name), reports, truth,
                    read_split(ROOT / split_file) if split_file else None)
truth, truth_dev = read_truth(files.truth), read_truth(files.truth_dev)
print(f"{len(reports)} reports, {len(truth) + len(truth_dev)} with ground truth, {inputs.prompt_text.notna().sum()} "
      f"sent to the models; tables on {evaluated(inputs.split)} ({len(truth)} reports with ground truth)")

# %% [markdown]
# ## What the models will read
#
# One report for each way its impression was found (each header the reports
# use) or not found (each reason). The impression runs from its header to
# the end of the report, addenda included; signature lines are dropped. A
# report that sends nothing is labeled `Undefined` with that reason, and no
# model is asked about it.

# %%
with pd.option_context("display.max_colwidth", None):
    display(impression_examples(reports, inputs).style.set_properties(**{"white-space": "pre-wrap", "text-align": "left"}))

# %% [markdown]
# How many reports each way covers:

# %%
inputs.assign(way=inputs.reason.where(inputs.reason != "", inputs.impression_method)).way.value_counts().rename("reports").to_frame()

# %% [markdown]
# Ground truth by part of the split: the test part is what Tables 1A and 1B
# score; the development part is where prompts and cuts may be tuned.

# %%
inputs[["report_id", "split"]].merge(pd.concat([truth, truth_dev])).groupby("split").extravasation.value_counts().unstack(fill_value=0)
