"""The ensemble label: a strict majority vote of the models of a run.

Stage 1: with three models a label needs two votes. ``Undefined`` votes like
any other answer; when no label has a majority (Yes, No and Undefined once
each), the ensemble says ``Undefined`` with the reason ``no majority``. Its
``p_yes`` is the mean of the models' ``p_yes``, a continuous score for ROC
curves.

The rule-based baseline (model ``rules``) does not vote: it is what the
models are compared with.

Stage 2: a site is an ensemble location when more than half of the models
name it, on the reports that went to stage 2.
"""

from collections import Counter

import pandas as pd

from analysis.data import BASELINE, LOCATIONS, split_locations

ENSEMBLE = "ensemble"


def voters(labels: pd.DataFrame) -> list[str]:
    """The models that answered themselves and vote, in the order of ``labels``: all but the ensemble and the baseline."""
    return [model for model in labels.model.unique() if model not in (ENSEMBLE, BASELINE)]


def vote(answers: list[str]) -> tuple[str, str]:
    """The majority answer and, if there is none, the reason."""
    answer, count = Counter(answers).most_common(1)[0]
    if count * 2 > len(answers):
        return answer, ""
    return "Undefined", "no majority: " + "/".join(answers)


def vote_locations(cells: list[str], order: list[str]) -> str:
    """Sites named by more than half of the models, in canonical order."""
    counts = Counter(site for cell in cells for site in split_locations(cell))
    return ";".join(site for site in order if counts[site] * 2 > len(cells))


def majority_vote(labels: pd.DataFrame, models: list[str], located: list[str] = ()) -> pd.DataFrame:
    """Ensemble rows for every report; ``located`` are the reports that went to stage 2."""
    located = set(located)
    rows = []
    members = labels[labels.model.isin(models)]
    for report_id, group in members.groupby("report_id", sort=False):
        group = group.set_index("model").loc[models]
        answer, reason = vote(group.extravasation.tolist())
        shared = group.reason.unique()
        if answer == "Undefined" and not reason:
            # e.g. no impression: every model was skipped for the same reason
            reason = shared[0] if len(shared) == 1 and shared[0] else "a majority of the models said Undefined"
        scores = pd.to_numeric(group.p_yes, errors="coerce").dropna()
        rows.append({
            "report_id": report_id, "model": ENSEMBLE, "extravasation": answer,
            "locations": vote_locations(group.locations.tolist(), list(LOCATIONS)) if report_id in located else "",
            "p_yes": scores.mean() if len(scores) else None, "reason": reason,
        })
    return pd.DataFrame(rows)
