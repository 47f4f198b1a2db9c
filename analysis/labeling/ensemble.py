"""The ensemble label: a strict majority vote of the models of a run.

Stage 1: with three models a label needs two votes. ``Undefined`` votes like
any other answer; when no label has a majority (Yes, No and Undefined once
each), the ensemble says ``Undefined`` with status ``no majority``. Its
``p_yes`` is the mean of the models' ``p_yes``, a continuous score for ROC
curves.

Only the label sets whose role is ``model`` vote: the rule-based baseline is
what the models are compared with, and the combination is built on the vote.

Stage 2: a site is an ensemble location when more than half of the models
name it, on the reports that went to stage 2.

``ensemble_step`` is the run's step: it reads ``stage1.csv`` and writes
``stage1_ensemble.csv``, the vote and the combination (``analysis.labeling.
combination``) beside the labels they are made of. It asks no model.
"""

from collections import Counter

import pandas as pd

from analysis.config import RunFiles
from analysis.data.vocabulary import ENSEMBLE, LOCATIONS, UNDEFINED, Role, Status
from analysis.labeling.combination import add_combination
from analysis.labeling.inputs import read_inputs
from analysis.labeling.labels import label, label_table, read_labels, voters, write_labels
from analysis.labeling.manifest import Manifest, save_manifest
from analysis.labeling.session import Session


def ensemble_step(session: Session, files: RunFiles) -> pd.DataFrame:
    """The stage-1 labels with the ensemble's and, where the run asks for it, the combination's
    (``stage1_ensemble.csv``); the manifest counts them."""
    labels = add_combination(add_ensemble(read_labels(files.stage1)), read_inputs(files.inputs), session.run)
    write_labels(labels, files.ensemble)
    save_manifest(Manifest.read(files.manifest).recorded([], labels), files, session.cache_path)
    return labels


def vote(answers: list[str]) -> tuple[str, Status, str]:
    """The majority answer, the vote's status and, if there is no majority, the reason."""
    answer, count = Counter(answers).most_common(1)[0]
    if count * 2 > len(answers):
        return answer, Status.VOTED, ""
    return UNDEFINED, Status.NO_MAJORITY, "no majority: " + "/".join(answers)


def vote_locations(site_lists: list[list[str]]) -> list[str]:
    """Sites named by more than half of the models, in canonical order."""
    counts = Counter(site for sites in site_lists for site in sites)
    return [site for site in LOCATIONS if counts[site] * 2 > len(site_lists)]


def majority_vote(labels: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """Stage-1 ensemble rows for every report of the models' labels.

    When every model is Undefined for the same reasons and not by its own
    answer (e.g. no impression: no model was asked), the ensemble carries that
    status and those reasons.
    """
    rows = []
    members = labels[labels.model.isin(models)]
    for report_id, group in members.groupby("report_id", sort=False):
        group = group.set_index("model").loc[models]
        answer, status, reason = vote(group.extravasation.tolist())
        reasons = [reason]
        if answer == UNDEFINED and status == Status.VOTED:
            shared = {(status, tuple(reasons)) for status, reasons in zip(group.status, group.reasons)}
            if len(shared) == 1 and group.status.iloc[0] != Status.ANSWERED:
                status, reasons = group.status.iloc[0], list(group.reasons.iloc[0])
            else:
                reasons = ["a majority of the models said Undefined"]
        scores = group.p_yes.dropna()
        rows.append(label(report_id, ENSEMBLE, Role.ENSEMBLE, answer, status, reasons=reasons,
                          p_yes=scores.mean() if len(scores) else None))
    return label_table(rows)


def add_ensemble(labels: pd.DataFrame) -> pd.DataFrame:
    """The models' labels, the ensemble's when there is more than one model, then the other label sets'."""
    models = voters(labels)
    if len(models) < 2:
        return labels
    members = labels[labels.model.isin(models)]
    return pd.concat([members, majority_vote(members, models), labels[~labels.model.isin(models)]], ignore_index=True)


def vote_sites(labels: pd.DataFrame, models: list[str], located: list[str]) -> pd.Series:
    """The ensemble's sites for each report of ``located``: those more than half of ``models`` name."""
    members = labels[labels.model.isin(models) & labels.report_id.isin(located)]
    return members.groupby("report_id", sort=False).locations.agg(lambda cells: vote_locations(cells.tolist()))
