"""Stage 2: where is the bleeding? Asked of every model, for the reports the run's gate model called ``Yes``.

As in the study, the gate is one model of the run (``localization.gate`` in
the run file). Each model's sites fill the ``locations`` of its stage-1 row,
with their own status and response key; the ensemble's sites are those more
than half of the models name. A report the gate did not call ``Yes`` is
``not asked``.

Two designs, as the run file's localization task says. A task that writes a
list (``extravasation_location``, the study's) names the sites itself. A task
with probes (``location_probes``) asks one yes/no question per site, decided at
the first answer token as stage 1 is: each site's probability goes to its
``p_<site>`` column, and a site is named where it reaches ``localization.cut``.
The ensemble's ``p_<site>`` is then the mean of the models' probabilities.
"""

import sys
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.data.vocabulary import (
    COMBINATION,
    ENSEMBLE,
    LOCATIONS,
    POSITIVE,
    SITE_SCORE_COLUMNS,
    Status,
    join_locations,
    site_score_column,
)
from analysis.labeling.ensemble import vote_sites
from analysis.labeling.labeler import Labeler
from analysis.llm.asking import Answer, AskSummary
from analysis.specs import SpecError


def skipped_because(labeler: Labeler) -> str:
    """Why this labeler runs no stage 2, or "" when it does."""
    if not labeler.locator:
        return f"run '{labeler.run.name}' has no localization task"
    if labeler.run.localization.gate not in labeler.tags:
        return f"the gate model {labeler.run.localization.gate} is not among the models asked ({', '.join(labeler.tags) or 'none'})"
    return ""


def gated_reports(labeler: Labeler, labels: pd.DataFrame) -> list[str]:
    """The reports stage 2 asks about: those the gate model called Yes."""
    if skipped_because(labeler):
        return []
    gate = labels[(labels.model == labeler.run.localization.gate) & (labels.extravasation == POSITIVE)]
    return gate.report_id.tolist()


def label_stage2(labeler: Labeler, inputs: pd.DataFrame,
                 labels: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[AskSummary]]:
    """``labels`` with each model's sites for the gated reports and the ensemble's vote, the gated reports, and
    the time each model took. Without a gate among the models, stage 2 is skipped and says so on stderr."""
    if reason := skipped_because(labeler):
        print(f"Stage 2 skipped: {reason}.", file=sys.stderr)
    gated = gated_reports(labeler, labels)
    texts = inputs.set_index("report_id").prompt_text
    located, summaries = {}, []
    if gated:
        labeler.check(labeler.locator, [texts[i] for i in gated])
        located, summaries = labeler.ask(labeler.locator, {i: texts[i] for i in gated})
    probes = labeler.locator.probes if labeler.locator else []
    if unknown := set(probes) - set(LOCATIONS):
        raise SpecError(f"task {labeler.locator.name} probes sites that are not among {LOCATIONS}: {sorted(unknown)}")
    labels = labels.copy()
    for tag, answers in located.items():
        by_report = sites_from_probes(answers, probes, labeler.run.localization.cut) if probes else answers
        for report_id, answer in by_report.items():
            row = (labels.model == tag) & (labels.report_id == report_id)
            labels.loc[row, ["locations", "locations_status", "locations_key"]] = [
                join_locations(answer.value or []), answer.status, answer.key]
            if probes:
                labels.loc[row, [site_score_column(site) for site in probes]] = answer.site_scores
            if answer.reason:
                labels.loc[row, "reason"] = labels.loc[row, "reason"].map(
                    lambda before: "; ".join(filter(None, [before, f"sites: {answer.reason}"])))
    ensemble = labels.model == ENSEMBLE
    if gated and ensemble.any():
        voted = labels.loc[ensemble, "report_id"].map(vote_sites(labels, labeler.tags, gated))
        labels.loc[ensemble, "locations"] = voted.fillna("")
        labels.loc[ensemble & labels.report_id.isin(gated), "locations_status"] = Status.VOTED
        if probes:
            columns = [site_score_column(site) for site in probes]
            members = labels[labels.model.isin(labeler.tags) & labels.report_id.isin(gated)]
            # Averaged over the models that gave a probability; NaN where none did.
            mean = members.groupby("report_id")[columns].mean()
            at = ensemble & labels.report_id.isin(gated)
            labels.loc[at, columns] = mean.reindex(labels.loc[at, "report_id"]).to_numpy()
        combined = (labels.model == COMBINATION) & (labels.extravasation == POSITIVE)
        if combined.any():  # the combination's sites are the ensemble's, on the reports it calls Yes
            voted_sites = labels[ensemble].set_index("report_id")
            columns = ["locations", "locations_status", *[c for c in SITE_SCORE_COLUMNS if c in labels]]
            labels.loc[combined, columns] = voted_sites.loc[labels.loc[combined, "report_id"], columns].to_numpy()
    return labels, gated, summaries


@dataclass
class SitesAnswer(Answer):
    """A report's sites from its per-site questions, with each site's probability in the probes' order."""

    site_scores: list[float] = field(default_factory=list)  # NaN where a site has none


def sites_from_probes(answers: dict[tuple[str, str], Answer], probes: list[str], cut: float) -> dict[str, SitesAnswer]:
    """One answer per report from its per-site answers: the sites whose probability reaches ``cut`` (or, with
    no log-probabilities, whose answer is Yes), each site's probability, the first failure's status, and every
    response's key, ";"-joined."""
    reports = list(dict.fromkeys(report_id for report_id, _ in answers))
    combined = {}
    for report_id in reports:
        asked = [answers[report_id, probe] for probe in probes]
        scores = [np.nan if answer.p_yes is None else answer.p_yes for answer in asked]
        named = [probe for probe, answer, score in zip(probes, asked, scores)
                 if (score >= cut if not np.isnan(score) else answer.value == POSITIVE)]
        failed = [(probe, answer) for probe, answer in zip(probes, asked) if answer.status != Status.ANSWERED]
        reasons = [f"{probe}: {answer.reason}" for probe, answer in zip(probes, asked) if answer.reason]
        combined[report_id] = SitesAnswer(
            named, failed[0][1].status if failed else Status.ANSWERED, "; ".join(reasons),
            key=";".join(answer.key for answer in asked), cached=all(answer.cached for answer in asked),
            seconds=sum(answer.seconds for answer in asked), site_scores=scores)
    return combined

