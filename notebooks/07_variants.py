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
readme_results = False  # rewrite the variants section of docs/variants.md from this run (the demo run only)

# %%
from analysis.config import ROOT, RunFiles, run_dir
from analysis.data.io import read_table, read_truth
from analysis.reporting.readme import update_variants_section
from analysis.reporting.variants import variants_step
from analysis.specs import load_run

files = RunFiles(run_dir(run_name, processed_dir))
run = load_run(run_name)
truth = read_truth(files.truth)  # the test split, or every report when there is no split
print(f"Each variant labels every report in {files.inputs}, scored on the {len(truth)} with ground truth")

# %% [markdown]
# Each variant runs the run's stage-1 and ensemble steps in its own folder
# (`variants/<variant>/` beside the run's files); every variant's labels are
# also in one table, `variants.csv`.

# %%
table = variants_step(run, files, ROOT / figures_dir, variants, models or None)
every_variant = read_table(files.variants)
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
    print("docs/variants.md variants section", "updated" if update_variants_section(ROOT / figures_dir) else "unchanged")
