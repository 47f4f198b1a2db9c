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
# # 2. Stage 1: does the impression describe active extravasation?
#
# Every model of the run answers the prompt of the run's stage-1 task file
# (`analysis/tasks/`; the study's zero-shot prompt unless the run file names
# a variant): the likeliest of Yes, No and Undefined at the first token of
# its JSON answer, whose log-probabilities also give `p_yes`. Answers come from the response cache
# (`data/interim/responses.sqlite`) whenever the same model was asked the
# same question before: rerunning costs no model call, and editing the prompt
# re-asks only what changed.
#
# With the embedded run the models are small CPU models: a working miniature
# of the study's trio, not a substitute for it. Their numbers are not the paper's.
#
# Beside the models, the rule-based baseline (`rules`: medspaCy target rules
# and ConText, from the rule file the run names in `analysis/rules/`) labels
# the same impressions. It asks no model and does not vote in the ensemble:
# it answers "would a negation-aware keyword system have done as well?".

# %% tags=["parameters"]
run_name = "embedded"  # a run file in analysis/runs: embedded or paper
processed_dir = ""  # this run's files; empty for data/processed/<run_name>
allow_raw = False  # ask models whose template has no chat structure (make paper ALLOW_RAW=True)

# %%
import pandas as pd

from analysis.config import RunFiles, run_dir
from analysis.data.vocabulary import Status
from analysis.labeling.inputs import read_inputs
from analysis.labeling.session import Session
from analysis.labeling.stage1 import stage1_step
from analysis.reporting.views import answer_counts, disagreements, exchange

files = RunFiles(run_dir(run_name, processed_dir))
session = Session(run_name, allow_raw=allow_raw)
print(f"Task {session.task.name} v{session.task.version}, decided by {session.task.decision}; models: {', '.join(session.tags)}")

# %% [markdown]
# Every model answers every report that sends an impression; answers already
# in the response cache are not asked again. The step writes `stage1.csv` and
# the run's manifest.

# %%
stage1 = stage1_step(session, files)
answer_counts(stage1)

# %% [markdown]
# ## One report, as the model saw it and answered
#
# The request exactly as sent (the messages; with the first-token decision
# the last one is the start of the reply, which the server continues), the
# raw reply, and the log-probabilities at the answer token: `p_yes` is the
# probability of `Yes` renormalised over the tokens that begin an allowed
# answer.

# %%
answered = stage1[(stage1.model == session.tags[0]) & (stage1.status == Status.ANSWERED)]
shown = answered.iloc[0]
seen = exchange(session.cache_path, shown.response_key, session.task.answers)
for message in seen.messages:
    print(f"--- {message['role']} ---\n{message['content']}")
print(f"--- reply ---\n{seen.content!r}\n\n{shown.model} on {shown.report_id}: {shown.extravasation}, p_yes {shown.p_yes:.3f}")
print("renormalised over the answers:", {answer: round(p, 3) for answer, p in seen.answer_token.attrs["renormalised"].items()})
seen.answer_token

# %% [markdown]
# ## Where the models disagree
#
# The first reports on which the models give different answers, with each
# model's `p_yes`: a close call shows as a `p_yes` near 0.5. The reviewer
# sheet (notebook 6) lists them all, closest calls first.

# %%
disagreements(stage1)

# %% [markdown]
# Labels that are not a clean model answer, by status and reason.

# %%
stage1.explode("reasons").dropna(subset="reasons").groupby(["model", "status", "reasons"], sort=False).size().rename("reports").to_frame()

# %% [markdown]
# ## Adding a rule to the baseline
#
# The baseline's rules are data (`analysis/rules/<name>.yaml`). Try a rule on
# a few sentences first: `with_added_rules` takes rules written as in the
# file, and leaves the file alone. Here the rules know no site for the
# omentum, which the guideline counts as `other`. Once the new rule gives
# what the guideline says, add it to the file and raise the file's `version`:
# `make paper` then reruns stage 1 and everything after it.

# %%
from analysis.data.vocabulary import BASELINE
from analysis.labeling.baseline import label_impression, label_with_rules, with_added_rules


def said(text, rules):
    label = label_impression(text, rules)
    return " ".join([label.extravasation, *label.locations])


trial = with_added_rules(session.rules, sites={"other": ["omentum", "omental"]})
examples = [
    "Active extravasation within the omentum.",
    "Omental hematoma without active extravasation.",
    "Grade 3 splenic laceration with active extravasation.",
]
pd.DataFrame({
    "impression": examples,
    f"rules v{session.rules.version}": [said(text, session.rules) for text in examples],
    "with the new rule": [said(text, trial) for text in examples],
})

# %% [markdown]
# What the trial rule would change on this run's reports:

# %%
current = stage1[stage1.model == BASELINE].set_index("report_id")[["extravasation", "locations"]]
tried = label_with_rules(read_inputs(files.inputs), trial).set_index("report_id")[["extravasation", "locations"]]
changed = (current.extravasation != tried.extravasation) | (current.locations != tried.locations)
print(f"{changed.sum()} of {len(current)} reports change")
current[changed].join(tried[changed], rsuffix=" (new rule)")
