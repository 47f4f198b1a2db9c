"""Stage 2: where is the bleeding? Asked of every model, for the reports the run's gate model called ``Yes``.

As in the study, the gate is one model of the run (``localization.gate`` in
the run file). Stage 2 marks every row of the reports it asks about
``gated``, the one record of them that tables and figures read. Each model's
sites fill the ``locations`` of its stage-1 row, with their own status and
response keys; the ensemble's sites are those more than half of the models
name. A report the gate did not call ``Yes`` is ``not asked``.

Two designs, as the run file's localization task says. A task that writes a
list (``extravasation_location``, the study's) names the sites itself. A task
with probes (``location_probes``) asks one yes/no question per site, decided at
the first answer token as stage 1 is: each site's probability goes to its
``p_<site>`` column, and a site is named where it reaches ``localization.cut``.
The ensemble's ``p_<site>`` is then the mean of the models' probabilities.

Beside the sites, where the run's localization names an ``evidence`` task,
every model is asked which sentences of the impression report the bleeding
(``analysis.labeling.evidence``): the ``evidence`` of its row, and the sites
those sentences name, ``evidence_locations`` (†: read by the rules' site
vocabulary). The ensemble's evidence is the sentences most models chose, its
evidence sites the majority of the models'.

``stage2_step`` is the run's step: it reads ``stage1_ensemble.csv`` and
writes ``labels.csv``, with each report's review priority (the run's
``review.priority``: ``analysis.labeling.priority``) once every label is
known, and adds stage 2 to the manifest.
"""

import sys
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.config import RunFiles
from analysis.data.vocabulary import ENSEMBLE, LOCATIONS, POSITIVE, Role, Status, site_score_column
from analysis.labeling.ensemble import vote_locations, vote_sites
from analysis.labeling.evidence import evidence_of, voted_evidence
from analysis.labeling.inputs import read_inputs
from analysis.labeling.labels import read_labels, said_yes, write_labels
from analysis.labeling.manifest import Manifest, Stage2, save_manifest
from analysis.labeling.priority import with_priority
from analysis.labeling.session import Session
from analysis.llm.asking import Answer, AskSummary
from analysis.specs import SpecError


def skipped_because(session: Session) -> str:
    """Why this session runs no stage 2, or "" when it does."""
    if not session.locator:
        return f"run '{session.run.name}' has no localization task"
    if session.run.localization.gate not in session.tags:
        return f"the gate model {session.run.localization.gate} is not among the models asked ({', '.join(session.tags) or 'none'})"
    return ""


def stage2_step(session: Session, files: RunFiles) -> pd.DataFrame:
    """Every label set's labels with the sites of the reports the gate model called Yes and each report's review
    priority (``labels.csv``)."""
    labels, gated, summaries = label_stage2(session, read_inputs(files.inputs), read_labels(files.ensemble))
    labels = with_priority(labels, session.priority)
    write_labels(labels, files.labels)
    skipped = skipped_because(session)
    record = Stage2(ran=not skipped, gate=session.run.localization and session.run.localization.gate,
                    sent=len(gated), skipped_because=skipped,
                    site_cuts=session.site_cuts.model_dump() if session.site_cuts else None,
                    review_priority=session.priority.model_dump() if session.priority else None)
    manifest = Manifest.read(files.manifest)
    manifest.preflight |= {name: check.record() for name, check in session.checks.items()}
    save_manifest(manifest.recorded(summaries, labels, record), files, session.cache_path)
    return labels


def label_stage2(session: Session, inputs: pd.DataFrame,
                 labels: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[AskSummary]]:
    """``labels`` with the gated reports marked, each model's sites for them and the ensemble's vote; the gated
    reports; and the time each model took. Without a gate among the models, stage 2 is skipped and says so on
    stderr."""
    if reason := skipped_because(session):
        print(f"Stage 2 skipped: {reason}.", file=sys.stderr)
    gated = [] if reason else said_yes(labels, session.run.localization.gate)
    texts = inputs.set_index("report_id").prompt_text
    located, summaries = {}, []
    if gated:
        session.check(session.locator, [texts[i] for i in gated])
        located, summaries = session.ask(session.locator, {i: texts[i] for i in gated})
    probes = session.locator.probes if session.locator else []
    if unknown := set(probes) - set(LOCATIONS):
        raise SpecError(f"task {session.locator.name} probes sites that are not among {LOCATIONS}: {sorted(unknown)}")
    labels = labels.copy()
    labels["gated"] = labels.report_id.isin(gated)
    cut = session.run.localization.cut if session.run.localization else None
    for tag, answers in located.items():
        by_report = sites_from_probes(answers, probes, dict.fromkeys(probes, cut)) if probes else answers
        for report_id, answer in by_report.items():
            row = _row(labels, tag, report_id)
            labels.at[row, "locations"] = list(answer.value or [])
            labels.at[row, "locations_status"] = answer.status
            labels.at[row, "locations_keys"] = answer.keys if probes else [answer.key]
            labels.at[row, "reasons"] = [*labels.at[row, "reasons"], *(f"sites: {reason}" for reason in answer.reasons)]
            if probes:
                labels.loc[row, [site_score_column(site) for site in probes]] = answer.site_scores
    if gated and session.evidence_task:
        summaries += add_evidence(session, labels, {i: texts[i] for i in gated})
    if gated and session.site_task:
        summaries += add_site_probabilities(session, labels, {i: texts[i] for i in gated})
    ensemble = labels.role == Role.ENSEMBLE
    if gated and ensemble.any():
        at = ensemble & labels.gated
        voted = vote_sites(labels, session.tags, gated)
        labels.loc[at, "locations"] = labels.loc[at, "report_id"].map(voted)
        labels.loc[at, "locations_status"] = Status.VOTED
        members = labels[labels.model.isin(session.tags) & labels.gated]
        if session.evidence_task:
            by_report = members.groupby("report_id", sort=False)
            for row in labels.index[at]:
                chosen = by_report.get_group(labels.at[row, "report_id"])
                labels.at[row, "evidence"] = voted_evidence(chosen.evidence.tolist())
                labels.at[row, "evidence_locations"] = vote_locations(chosen.evidence_locations.tolist())
            labels.loc[at, "evidence_status"] = Status.VOTED
        if scored_sites := probes or (session.site_task.probes if session.site_task else []):
            columns = [site_score_column(site) for site in scored_sites]
            # Averaged over the models that gave a probability; NaN where none did.
            mean = members.groupby("report_id")[columns].mean()
            labels.loc[at, columns] = mean.reindex(labels.loc[at, "report_id"]).to_numpy()
        if session.site_cuts:
            cuts = session.site_cuts.cuts_of(ENSEMBLE, cut)
            for row in labels.index[at]:
                labels.at[row, "cut_locations"] = [site for site in scored_sites
                                                   if labels.at[row, site_score_column(site)] >= cuts[site]]
        combined = (labels.role == Role.COMBINATION) & (labels.extravasation == POSITIVE)
        if combined.any():  # the combination's sites are the ensemble's, on the reports it calls Yes
            voted_sites = labels[ensemble].set_index("report_id")
            columns = ["locations", "locations_status", *[site_score_column(site) for site in scored_sites],
                       *(["cut_locations"] if session.site_cuts else []),
                       *(["evidence", "evidence_status", "evidence_locations"] if session.evidence_task else [])]
            for row in labels.index[combined]:
                labels.loc[row, columns] = voted_sites.loc[labels.at[row, "report_id"], columns]
    return labels, gated, summaries


def _row(labels: pd.DataFrame, model: str, report_id: str):
    """The index of ``model``'s row for ``report_id``."""
    return labels.index[(labels.model == model) & (labels.report_id == report_id)][0]


def add_evidence(session: Session, labels: pd.DataFrame, texts: dict[str, str]) -> list[AskSummary]:
    """Each model's evidence sentences for ``texts`` (the gated reports) and the sites they name, into its rows
    of ``labels``; the time each model took."""
    task, localization = session.evidence_task, session.run.localization
    session.check(task, list(texts.values()))
    asked, summaries = session.ask(task, texts)
    # Imported here: medspaCy and spaCy load only when the rules' vocabulary is needed.
    from analysis.labeling.baseline import load_rules, sites_named

    found = {(tag, report_id): evidence_of(answer, texts[report_id], localization.evidence_share)
             for tag, answers in asked.items() for report_id, answer in answers.items()}
    # One pipeline of the rules for every model's sentences.
    sites = sites_named([" ".join(span["text"] for span in one.spans) for one in found.values()],
                        load_rules(session.run.baseline))
    for ((tag, report_id), one), named in zip(found.items(), sites):
        row = _row(labels, tag, report_id)
        labels.at[row, "evidence"] = one.spans
        labels.at[row, "evidence_status"] = one.status
        labels.at[row, "evidence_key"] = one.key
        labels.at[row, "evidence_locations"] = list(named)
        labels.at[row, "reasons"] = [*labels.at[row, "reasons"], *(f"evidence: {reason}" for reason in one.reasons)]
    return summaries


def add_site_probabilities(session: Session, labels: pd.DataFrame, texts: dict[str, str]) -> list[AskSummary]:
    """Each model's probability of each site for ``texts`` (the gated reports), from the run's ``site_probes``
    task, into the ``p_<site>`` of its rows, and with the run's ``site_cuts`` the sites at the cuts chosen for
    it (``cut_locations``); the time each model took."""
    task, cut = session.site_task, session.run.localization.cut
    session.check(task, list(texts.values()))
    asked, summaries = session.ask(task, texts)
    for tag, answers in asked.items():
        cuts = session.site_cuts.cuts_of(tag, cut) if session.site_cuts else dict.fromkeys(task.probes, cut)
        for report_id, answer in sites_from_probes(answers, task.probes, cuts).items():
            row = _row(labels, tag, report_id)
            labels.loc[row, [site_score_column(site) for site in task.probes]] = answer.site_scores
            if session.site_cuts:
                labels.at[row, "cut_locations"] = list(answer.value)
            labels.at[row, "reasons"] = [*labels.at[row, "reasons"], *(f"site probabilities: {reason}"
                                                                       for reason in answer.reasons)]
    return summaries


@dataclass
class SitesAnswer(Answer):
    """A report's sites from its per-site questions, with each site's probability and response key in the
    probes' order."""

    site_scores: list[float] = field(default_factory=list)  # NaN where a site has none
    keys: list[str] = field(default_factory=list)


def sites_from_probes(answers: dict[tuple[str, str], Answer], probes: list[str],
                      cuts: dict[str, float]) -> dict[str, SitesAnswer]:
    """One answer per report from its per-site answers: the sites whose probability reaches its cut in ``cuts``
    (or, with no log-probabilities, whose answer is Yes), each site's probability, the first failure's status,
    and every response's key."""
    reports = list(dict.fromkeys(report_id for report_id, _ in answers))
    combined = {}
    for report_id in reports:
        asked = [answers[report_id, probe] for probe in probes]
        scores = [np.nan if answer.p_yes is None else answer.p_yes for answer in asked]
        named = [probe for probe, answer, score in zip(probes, asked, scores)
                 if (score >= cuts[probe] if not np.isnan(score) else answer.value == POSITIVE)]
        failed = [answer for answer in asked if answer.status != Status.ANSWERED]
        combined[report_id] = SitesAnswer(
            named, failed[0].status if failed else Status.ANSWERED,
            [f"{probe}: {reason}" for probe, answer in zip(probes, asked) for reason in answer.reasons],
            cached=all(answer.cached for answer in asked), seconds=sum(answer.seconds for answer in asked),
            site_scores=scores, keys=[answer.key for answer in asked])
    return combined
