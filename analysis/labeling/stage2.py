"""Stage 2: where is the bleeding? Asked of every model, for the reports the run's gate model called ``Yes``.

As in the study, the gate is one model of the run (``localization.gate`` in
the run file). Each model's sites fill the ``locations`` of its stage-1 row,
with their own status and response key; the ensemble's sites are those more
than half of the models name. A report the gate did not call ``Yes`` is
``not asked``.
"""

import sys

import pandas as pd

from analysis.data.vocabulary import ENSEMBLE, POSITIVE, Status, join_locations
from analysis.labeling.ensemble import vote_sites
from analysis.labeling.labeler import Labeler
from analysis.llm.asking import AskSummary


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
    labels = labels.copy()
    for tag, answers in located.items():
        for report_id, answer in answers.items():
            row = (labels.model == tag) & (labels.report_id == report_id)
            labels.loc[row, ["locations", "locations_status", "locations_key"]] = [
                join_locations(answer.value or []), answer.status, answer.key]
            if answer.reason:
                labels.loc[row, "reason"] = labels.loc[row, "reason"].map(
                    lambda before: "; ".join(filter(None, [before, f"sites: {answer.reason}"])))
    ensemble = labels.model == ENSEMBLE
    if gated and ensemble.any():
        voted = labels.loc[ensemble, "report_id"].map(vote_sites(labels, labeler.tags, gated))
        labels.loc[ensemble, "locations"] = voted.fillna("")
        labels.loc[ensemble & labels.report_id.isin(gated), "locations_status"] = Status.VOTED
    return labels, gated, summaries
