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
# # Prompt lab
#
# Edit a stage-1 prompt and see at once what it does, on a sample of the
# **development** split with one model: the confusion matrix, the metrics
# beside the default prompt's with a paired bootstrap interval for the
# difference, and every report whose label changed, with its impression.
#
# The test split is never touched here: it stays unseen until a prompt is
# final (then `make variants` or a run file measures it once). It runs the
# same steps as a run, on the sample, in `data/processed/prompt_lab/` (one
# folder per prompt); its answers go to the response cache like every other
# answer, so rerunning a cell after an edit asks only the changed prompt.
# It needs an LLM server: `make serve` in a terminal (or Ollama).

# %% tags=["parameters"]
run_name = "embedded"  # a run file in analysis/runs: its options and bootstrap settings
model = "qwen2.5-coder:1.5b"  # one model of the run
base_variant = "zeroshot"  # the prompt the edit is compared with: zeroshot, guideline, fewshot
sample_size = 40  # development reports to try the prompt on (at most the whole development split)
seed = 1  # which sample
reports_file = "data/demo/reports.csv"
truth_file = "data/demo/ground_truth.csv"
split_file = "data/demo/split.csv"
processed_dir = ""  # the lab's files; empty for data/processed/prompt_lab

# %%
import pandas as pd

from analysis.config import ROOT, RunFiles, run_dir
from analysis.data.io import read_reports, read_split, read_truth
from analysis.data.vocabulary import DEV
from analysis.evaluation.variants import compare_variants
from analysis.labeling.inputs import inputs_step, read_inputs
from analysis.labeling.session import Session
from analysis.labeling.stage1 import stage1_step
from analysis.reporting import figures
from analysis.specs import load_run, load_task, stage1_task_name

run = load_run(run_name)
split = read_split(ROOT / split_file)
reports = read_reports(ROOT / reports_file)
development = reports[reports.report_id.isin(split.report_id[split.split == DEV])]
sample = development.sample(min(sample_size, len(development)), random_state=seed).sort_values("report_id")
lab = RunFiles(run_dir("prompt_lab", processed_dir))
inputs_step(lab, run, sample, read_truth(ROOT / truth_file))  # no split: every sampled report is scored
truth = read_truth(lab.truth)
print(f"{len(sample)} of {len(development)} development reports; ground truth: "
      + ", ".join(f"{k} {v}" for k, v in truth.extravasation.value_counts().items()))
base = load_task(stage1_task_name(base_variant))
print(base.template)

# %% [markdown]
# ## The edited prompt
#
# Change `edited_template` (a Jinja template: `{{ impression }}` is where the
# report goes). It starts as the default prompt with one sentence added
# before its last instruction. An edit that changes nothing (for instance a
# replacement whose target text is no longer in the template) stops here
# with an error rather than comparing the prompt with itself.

# %%
added = ("A pseudoaneurysm, a contained vascular injury, a blush that fades on delayed images, and oral contrast, "
         "urine or IV contrast leaking outside vessels are not active extravasation.")
edited_template = base.template.replace("\nReply only", f"\n{added}\nReply only")
edited = base.edited(edited_template, name="prompt_lab")
print(edited.template)

# %%
labels = {name: stage1_step(Session(run, models=[model], task=task), lab.variant(name))
          for name, task in (("default", base), ("edited", edited))}
comparison = compare_variants(labels, truth, run.bootstrap, reference="default")
comparison[["variant", "f1", "f1_lo", "f1_hi", "precision", "recall", "n_undefined",
            "difference", "difference_lo", "difference_hi"]].round(3)

# %% [markdown]
# `difference` is the edited prompt's F1 minus the default's on the same
# reports, with its paired bootstrap interval: an interval that holds 0
# means this sample cannot tell the two prompts apart.

# %%
both = pd.concat([frame.assign(model=name) for name, frame in labels.items()], ignore_index=True)
figures.confusion_matrices(both, truth)

# %% [markdown]
# Reports whose label changed, with what the model read:

# %%
answers = {name: frame.set_index("report_id")[["extravasation", "p_yes"]] for name, frame in labels.items()}
changed = answers["default"].merge(answers["edited"], left_index=True, right_index=True, suffixes=("_default", "_edited"))
changed = changed[changed.extravasation_default != changed.extravasation_edited]
changed = changed.join(truth.set_index("report_id").extravasation.rename("truth")).join(
    read_inputs(lab.inputs).set_index("report_id").prompt_text.rename("impression"))
print(f"{len(changed)} of {len(sample)} labels changed")
with pd.option_context("display.max_colwidth", None):
    display(changed.style.set_properties(subset=["impression"], **{"white-space": "pre-wrap", "text-align": "left"}))
