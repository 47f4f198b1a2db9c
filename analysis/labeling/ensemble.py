"""The ensemble label: a strict majority vote of the models of a run.

Stage 1: with three models a label needs two votes. ``Undefined`` votes like
any other answer; when no label has a majority (Yes, No and Undefined once
each), the ensemble says ``Undefined`` with status ``no majority``. Its
``p_yes`` is the mean of the models' ``p_yes``, a continuous score for ROC
curves.

The rule-based baseline (model ``rules``) does not vote: it is what the
models are compared with.

Stage 2: a site is an ensemble location when more than half of the models
name it, on the reports that went to stage 2.
"""

from collections import Counter

import pandas as pd

from analysis.data.vocabulary import (
    BASELINE,
    COMBINATION,
    ENSEMBLE,
    LOCATIONS,
    UNDEFINED,
    Status,
    join_locations,
    split_locations,
)
from analysis.labeling.labels import LABEL_COLUMNS


def voters(labels: pd.DataFrame) -> list[str]:
    """The models that answered themselves and vote, in the order of ``labels``: all but the ensemble, the baseline
    and their combination."""
    return [model for model in labels.model.unique() if model not in (ENSEMBLE, BASELINE, COMBINATION)]


def vote(answers: list[str]) -> tuple[str, Status, str]:
    """The majority answer, the vote's status and, if there is no majority, the reason."""
    answer, count = Counter(answers).most_common(1)[0]
    if count * 2 > len(answers):
        return answer, Status.VOTED, ""
    return UNDEFINED, Status.NO_MAJORITY, "no majority: " + "/".join(answers)


def vote_locations(cells: list[str]) -> str:
    """Sites named by more than half of the models, in canonical order."""
    counts = Counter(site for cell in cells for site in split_locations(cell))
    return join_locations(site for site in LOCATIONS if counts[site] * 2 > len(cells))


def majority_vote(labels: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """Stage-1 ensemble rows for every report of the models' labels.

    When every model is Undefined for one same reason that is not an answer
    (e.g. no impression: no model was asked), the ensemble carries that
    status and reason.
    """
    rows = []
    members = labels[labels.model.isin(models)]
    for report_id, group in members.groupby("report_id", sort=False):
        group = group.set_index("model").loc[models]
        answer, status, reason = vote(group.extravasation.tolist())
        if answer == UNDEFINED and status == Status.VOTED:
            shared = group[["status", "reason"]].drop_duplicates()
            if len(shared) == 1 and shared.status.iloc[0] != Status.ANSWERED:
                status, reason = shared.status.iloc[0], shared.reason.iloc[0]
            else:
                reason = "a majority of the models said Undefined"
        scores = pd.to_numeric(group.p_yes, errors="coerce").dropna()
        rows.append({
            "report_id": report_id, "model": ENSEMBLE, "extravasation": answer, "status": status,
            "p_yes": scores.mean() if len(scores) else None, "reason": reason, "response_key": "",
            "locations": "", "locations_status": Status.NOT_ASKED, "locations_key": "",
        })
    return pd.DataFrame(rows, columns=LABEL_COLUMNS)


def add_ensemble(labels: pd.DataFrame) -> pd.DataFrame:
    """The models' labels, the ensemble's when there is more than one model, then the baseline's."""
    models = voters(labels)
    if len(models) < 2:
        return labels
    members = labels[labels.model.isin(models)]
    return pd.concat([members, majority_vote(members, models), labels[~labels.model.isin(models)]], ignore_index=True)


def vote_sites(labels: pd.DataFrame, models: list[str], located: list[str]) -> pd.Series:
    """The ensemble's sites for each report of ``located``: those more than half of ``models`` name."""
    members = labels[labels.model.isin(models) & labels.report_id.isin(located)]
    return members.groupby("report_id", sort=False).locations.agg(lambda cells: vote_locations(cells.tolist()))
