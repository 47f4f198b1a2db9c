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
# every model with the localization prompt: any of eight sites. The run file
# says how: a list the model writes (the study's prompt), or one yes/no
# question per site decided by its probability (`p_<site>`, the site named
# where it reaches `localization.cut`). The ensemble's sites are those more
# than half of the models name; with site probabilities, their mean stands
# beside the vote as a second ensemble row. Table 1B:
# F1 per site, one-vs-rest, on the scored test reports, in two designs
# (stage 2 alone; end to end), each with its counts (see Table 1B below).

# %% tags=["parameters"]
run_name = "embedded"  # a run file in analysis/runs: embedded or paper
processed_dir = ""  # this run's files; empty for data/processed/<run_name>
allow_raw = False  # ask models whose template has no chat structure (make paper ALLOW_RAW=True)
figures_dir = "figures"  # where the tables go

# %%
import pandas as pd

from analysis.config import ROOT, RunFiles, run_dir
from analysis.data.io import read_truth
from analysis.data.vocabulary import ENSEMBLE, Status, site_score_column
from analysis.labeling.labels import gated_reports
from analysis.labeling.session import Session
from analysis.labeling.stage2 import stage2_step
from analysis.reporting.tables import table1b_step
from analysis.reporting.views import exchange

files = RunFiles(run_dir(run_name, processed_dir))
session = Session(run_name, allow_raw=allow_raw)

# %% [markdown]
# The gated reports go to every model; answers already in the response
# cache are not asked again. The step writes `labels.csv` and adds stage 2
# to the manifest.

# %%
labels = stage2_step(session, files)
gated = gated_reports(labels)
print(f"{len(gated)} reports sent to stage 2 (the gate model {session.run.localization.gate} said Yes)")
labels[labels.locations_status != Status.NOT_ASKED].groupby("model", sort=False).locations_status.value_counts().unstack(fill_value=0)

# %% [markdown]
# ## One gated report, as the model saw it and answered

# %%
asked = labels[(labels.model == session.tags[0]) & (labels.locations_status == Status.ANSWERED)]
if len(asked):
    shown = asked.iloc[0]
    # With one question per site, the first site's exchange; the others differ only in the site named.
    seen = exchange(session.cache_path, shown.locations_keys[0], session.locator.answers)
    for message in seen.messages:
        print(f"--- {message['role']} ---\n{message['content']}")
    print(f"--- reply ---\n{seen.content}\n\n{shown.model} on {shown.report_id}: {', '.join(shown.locations) or 'no site'}")
    if session.locator.probes:
        display(shown[[site_score_column(site) for site in session.locator.probes]].rename("p").to_frame().T.round(3))

# %% [markdown]
# ## Where the models name different sites
#
# The first gated reports on which the models' site lists differ, beside the
# ground truth's sites.

# %%
sites = labels[labels.gated].pivot(index="report_id", columns="model", values="locations").map(", ".join)
truth_sites = pd.concat([read_truth(files.truth), read_truth(files.truth_dev)]).set_index("report_id").locations
split_sites = sites[sites[session.tags].nunique(axis=1) > 1]
split_sites.join(truth_sites.map(", ".join).rename("truth")).head(10)

# %% [markdown]
# ## The evidence: which sentences report the bleeding
#
# Each model also chose the sentence of the impression that reports the
# bleeding (`evidence`: its offsets in the impression, its text and its
# probability), and the sites that sentence names are read from its words
# (`evidence_locations`, by the rules' site vocabulary: marked † in Table 1B).
# For the first gated reports: each model's sentence and sites beside the
# truth's sites.

# %%
if session.evidence_task:
    chosen = labels[labels.gated & labels.model.isin([*session.tags, ENSEMBLE])].assign(
        sentence=lambda rows: rows.evidence.map(lambda spans: " | ".join(f"{span['text']} (p {span['p']:.2f})" for span in spans) or "none"),
        sites=lambda rows: rows.evidence_locations.map(", ".join))
    first = list(dict.fromkeys(chosen.report_id))[:4]
    with pd.option_context("display.max_colwidth", None):
        display(chosen[chosen.report_id.isin(first)].set_index(["report_id", "model"])[["sentence", "sites"]]
                .join(truth_sites.map(", ".join).rename("truth"), on="report_id"))

# %% [markdown]
# ## Table 1B
#
# F1 per site on the scored test reports, in two designs: *stage 2 alone*
# (the reports the gate model called Yes whose truth is Yes: what the sites
# are worth once a bleed is found) and *end to end* (every scored report; a
# site counts only where the gate said Yes and the model named it). Read
# each F1 beside its support: a site with five true reports cannot give a
# tight interval.

# %%
evaluation = table1b_step(files, session.run, ROOT / figures_dir)
table = evaluation.table1b
print(table.attrs["gate_counts"])
table.pivot_table(index=["design", "location"], columns="model", values="f1", sort=False).round(3)

# %% [markdown]
# How well the chosen sentences point at the true evidence statements, where
# the truth lists them (the demo corpus does: `figures/evidence.md`).

# %%
for part, scores in evaluation.evidence.items():
    print(part)
    display(scores.round(3))
