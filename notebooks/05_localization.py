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
# # 5. Stage 2: where is the bleeding? Table 1B
#
# As in the study, the reports that the run's gate model called `Yes` go to
# every model with the localization prompt: any of eight sites. The
# ensemble's sites are those more than half of the models name. Table 1B:
# F1 per site, one-vs-rest, over the reports whose ground truth is `Yes`
# (a true-Yes report the gate missed counts as a miss for every site).

# %% tags=["parameters"]
run_name = "embedded"  # a run file in analysis/runs: embedded or paper
processed_dir = ""  # this run's files; empty for data/processed/<run_name>
figures_dir = "figures"  # where the tables go

# %%
import pandas as pd

from analysis.config import ROOT, run_dir
from analysis.data import read_truth, write_table
from analysis.labeling import LABEL_COLUMNS, Labeler, export_responses, read_inputs, read_labels
from analysis.manifest import read_manifest, record_stage, write_manifest
from analysis.metrics import table1b
from analysis.tables import write_comparisons, write_table1b

out = run_dir(run_name, processed_dir)
labeler = Labeler(run_name)
print(labeler.locator.template)

# %%
labels, gated, summaries = labeler.stage2(read_inputs(out / "inputs.csv"), read_labels(out / "stage1_ensemble.csv"))
write_table(labels[LABEL_COLUMNS], out / "labels.csv")
write_manifest(record_stage(read_manifest(out), summaries, labels, gated), out)
export_responses()
print(f"{len(gated)} reports sent to stage 2 (the gate model {labeler.run.localization.gate} said Yes)")

# %%
bootstrap = labeler.run.bootstrap
table = table1b(labels, read_truth(out / "truth.csv"), bootstrap.resamples, bootstrap.seed, bootstrap.confidence)
write_table1b(table, ROOT / figures_dir)
write_comparisons(pd.read_csv(ROOT / figures_dir / "table1a.csv"), table, ROOT / figures_dir)
table.pivot(index="location", columns="model", values="f1").loc[table.location.unique(), table.model.unique()]
