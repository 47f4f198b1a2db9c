"""The labels table: one row per report and label set (each model, the ensemble, the rules, their combination).

Columns, in order (``COLUMNS``):

- ``report_id``, ``model`` (the label set's name) and ``role`` (what it is:
  ``analysis.data.vocabulary.Role``; the models with role ``model`` vote);
- ``extravasation`` (Yes, No or Undefined), ``status`` (how it came about:
  ``analysis.data.vocabulary.Status``), ``p_yes``, ``reasons`` (a list: why,
  wherever the label is not a clean model answer) and ``response_key`` (the
  response cache's key of the response the label was read from), so that a
  reviewer can open exactly that response;
- ``gated``: the run's gate model called the report Yes, and stage 2 asked
  about it (the same on every row of a report);
- ``locations`` (the sites, a list), ``locations_status`` and
  ``locations_keys`` (the keys of the responses the sites were read from);
- ``evidence`` (the sentences of the impression that report the bleeding, a
  list of ``{start, end, text, p}``: ``analysis.labeling.evidence``),
  ``evidence_status``, ``evidence_key`` and ``evidence_locations`` (the sites
  those sentences name, by the rules' site vocabulary, so marked †);
- ``cut_locations``: the sites whose probability (``p_<site>``, from the
  run's ``site_probes``) reaches the cut chosen for the label set and site on
  a development split (the run's ``site_cuts``);
- ``p_<site>`` for each site, where the sites were asked one at a time (the
  ensemble's: the mean of its members'), NaN elsewhere;
- ``review_priority``: the estimated probability that the run's chosen label
  set's label (Yes against not-Yes) is wrong on the report, the same on
  every row of a report (``analysis.labeling.priority``); NaN where the run
  has no priority model.

Lists are lists, in memory and in the files (``analysis.data.io``).
``read_labels`` also reads a labels file that another labeler wrote: it needs
``report_id``, ``model`` and ``extravasation``, names any of them that is
missing, and derives what it lacks (every label set a model, a status from the
answer, ``gated`` from the gate model's answer where the gate is given).
"""

import math
from pathlib import Path

import pandas as pd

from analysis.data.io import DataError, parse_list, read_table, write_table
from analysis.data.vocabulary import LABELS, POSITIVE, SITE_SCORE_COLUMNS, UNDEFINED, Role, Status

COLUMNS = [
    "report_id", "model", "role", "extravasation", "status", "p_yes", "reasons", "response_key",
    "gated", "locations", "locations_status", "locations_keys",
    "evidence", "evidence_status", "evidence_key", "evidence_locations", "cut_locations", *SITE_SCORE_COLUMNS,
    "review_priority",
]
LISTS = ("reasons", "locations", "locations_keys", "evidence", "evidence_locations", "cut_locations")
NUMBERS = ("p_yes", *SITE_SCORE_COLUMNS, "review_priority")
FLAGS = ("gated",)
REQUIRED = ("report_id", "model", "extravasation")


def label(report_id: str, model: str, role: Role, extravasation: str, status: Status, **fields) -> dict:
    """One row of the labels table; what ``fields`` does not give is empty (no sites, not asked about them).
    Empty reasons are dropped."""
    row = {"report_id": report_id, "model": model, "role": role, "extravasation": extravasation, "status": status,
           "p_yes": math.nan, "reasons": [], "response_key": "", "gated": False, "locations": [],
           "locations_status": Status.NOT_ASKED, "locations_keys": [], "evidence": [],
           "evidence_status": Status.NOT_ASKED, "evidence_key": "", "evidence_locations": [], "cut_locations": [],
           **dict.fromkeys(SITE_SCORE_COLUMNS, math.nan), "review_priority": math.nan,
           **fields}
    row["reasons"] = [reason for reason in row["reasons"] if reason]
    if row["p_yes"] is None:
        row["p_yes"] = math.nan
    return row


def label_table(rows: list[dict]) -> pd.DataFrame:
    """The labels table of ``rows`` (each from ``label``), its columns in order."""
    table = pd.DataFrame(rows, columns=COLUMNS)
    for name in NUMBERS:  # a probability given as text (as a CSV holds it) or None is a number or NaN
        table[name] = pd.to_numeric(table[name], errors="coerce").astype(float)
    return table.astype({"gated": bool})


def read_labels(path: Path, gate: str | None = None) -> pd.DataFrame:
    """The labels table in ``path``, as ``write_labels`` wrote it or as another labeler did (see the module's
    docstring); ``gate``: the run's gate model, whose Yes marks a report ``gated`` where the file does not say."""
    labels = read_table(path, lists=LISTS, numbers=NUMBERS, flags=FLAGS)
    if missing := [name for name in REQUIRED if name not in labels]:
        raise DataError(f"{path}: a labels file needs the column(s) {list(REQUIRED)}; missing {missing}, "
                        f"found {list(labels.columns)}")
    if "role" not in labels:
        labels["role"] = Role.MODEL
    if "reasons" not in labels:
        labels["reasons"] = labels["reason"].map(lambda reason: [reason] if reason else []) if "reason" in labels else [[]] * len(labels)
    if "status" not in labels:
        answered = labels.extravasation.isin(LABELS)
        labels["status"] = [Status.ANSWERED if ok else Status.INVALID for ok in answered]
        labels["reasons"] = [reasons if ok else [*reasons, f"not one of {'/'.join(LABELS)}: {answer!r}"]
                             for reasons, ok, answer in zip(labels.reasons, answered, labels.extravasation)]
        labels["extravasation"] = labels.extravasation.where(answered, UNDEFINED)
    if "gated" not in labels:
        labels["gated"] = labels.report_id.isin(said_yes(labels, gate)) if gate else False
    defaults = {"p_yes": math.nan, "response_key": "", "locations": None, "locations_status": Status.NOT_ASKED,
                "locations_keys": None, "evidence": None, "evidence_status": Status.NOT_ASKED, "evidence_key": "",
                "evidence_locations": None, "cut_locations": None, **dict.fromkeys(SITE_SCORE_COLUMNS, math.nan),
                "review_priority": math.nan}
    for name, value in defaults.items():
        if name not in labels:
            labels[name] = [[] for _ in range(len(labels))] if value is None else value
    labels["locations"] = labels.locations.map(parse_list)
    return label_table(labels[COLUMNS].to_dict("records"))


def write_labels(labels: pd.DataFrame, path: Path) -> Path:
    return write_table(labels[COLUMNS], path)


def voters(labels: pd.DataFrame) -> list[str]:
    """The label sets that vote in the ensemble (role ``model``), in the order of ``labels``."""
    return labels.model[labels.role == Role.MODEL].unique().tolist()


def with_evidence(labels: pd.DataFrame) -> list[str]:
    """The label sets that have evidence sentences (each model asked for them, and the ensemble), in order."""
    asked = labels.role.isin([Role.MODEL, Role.ENSEMBLE]) & (labels.evidence_status != Status.NOT_ASKED)
    return labels.model[asked].unique().tolist()


def said_yes(labels: pd.DataFrame, model: str) -> list[str]:
    """The reports ``model`` called Yes, in the order of ``labels``: the gate model's are those stage 2 asks about."""
    return labels.report_id[(labels.model == model) & (labels.extravasation == POSITIVE)].tolist()


def gated_reports(labels: pd.DataFrame) -> list[str]:
    """The reports stage 2 asked about, as the labels record them."""
    return labels.report_id[labels.gated].unique().tolist()
