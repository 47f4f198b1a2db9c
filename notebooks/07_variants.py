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
# # 7. Prompt variants on the test split
#
# The paper's tables use the study's zero-shot prompt. Here each stage-1
# prompt variant (`analysis/tasks/extravasation_<variant>.yaml`) labels every
# report, with the same models, and is scored on the reports of the tables
# (the test split):
#
# - `zeroshot`: the study's design, instruction plus impression;
# - `guideline`: the labeling guideline's rules stated in the prompt;
# - `fewshot`: seven worked examples taken from the development split.
#
# Every variant was written while looking only at the development split;
# their F1 is measured here once, on the test split, with paired bootstrap
# intervals for the difference from zero-shot. Answers are cached like every
# other answer, so rerunning costs no model call.

# %% tags=["parameters"]
run_name = "embedded"  # a run file in analysis/runs: embedded or paper
processed_dir = ""  # this run's files; empty for data/processed/<run_name>
figures_dir = "figures"  # where variants.md goes
variants = ["zeroshot", "guideline", "fewshot"]  # zeroshot first: the others are compared with it
models = []  # only these model tags of the run; empty for all
readme_results = False  # rewrite README.md's variants section from this run (the demo run only)

# %%
import pandas as pd

from analysis.config import ROOT, run_dir
from analysis.data.io import read_truth, write_table
from analysis.evaluation.variants import compare_variants
from analysis.labeling.ensemble import add_ensemble
from analysis.labeling.inputs import read_inputs
from analysis.labeling.labeler import Labeler
from analysis.labeling.stage1 import label_stage1
from analysis.reporting.readme import update_variants_section
from analysis.reporting.tables import write_variants
from analysis.specs import load_run

out = run_dir(run_name, processed_dir)
run = load_run(run_name)
inputs = read_inputs(out / "inputs.csv")
truth = read_truth(out / "truth.csv")  # the test split, or every report when there is no split
print(f"{len(inputs)} reports labeled by each variant, scored on {len(truth)} with ground truth")

# %%
labels_by_variant = {}
for variant in variants:
    labeler = Labeler(run, models=models or run.tags, task=variant)
    stage1, _ = label_stage1(labeler, inputs)
    labels_by_variant[variant] = add_ensemble(stage1)
    print(f"{variant}: {labeler.task.name} v{labeler.task.version}")
every_variant = pd.concat([labels.assign(variant=variant) for variant, labels in labels_by_variant.items()], ignore_index=True)
write_table(every_variant, out / "variants.csv")

# %%
table = compare_variants(labels_by_variant, truth, run.bootstrap)
write_variants(table, ROOT / figures_dir)
print((ROOT / figures_dir / "variants.md").read_text())

# %% [markdown]
# Where F1 moves, precision and recall say why; the AUC of `p_yes` says
# whether the model still ranks the reports well when its plain answer
# shifts (a variant that makes a model cautious moves its answers, not
# necessarily its ranking).

# %%
table[["model", "variant", "precision", "recall", "auc", "n_undefined"]].round(3)

# %% [markdown]
# What each variant changes for the first model on the scored reports: those
# whose answer differs from zero-shot's, with the ground truth.

# %%
first = (models or run.tags)[0]
scored = every_variant[(every_variant.model == first) & every_variant.report_id.isin(truth.report_id)]
answers = scored.pivot(index="report_id", columns="variant", values="extravasation")[variants]
changed = answers[answers.ne(answers[variants[0]], axis=0).any(axis=1)].join(truth.set_index("report_id").extravasation.rename("truth"))
print(f"{first}: {len(changed)} of {len(answers)} reports change with some variant")
changed

# %%
if readme_results:
    print("README.md variants section", "updated" if update_variants_section(ROOT / figures_dir) else "unchanged")
