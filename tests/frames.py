"""Labels written by hand, in the labels table's columns, for tests of the code around the models (no model
involved); and ``run_labels``, a whole run's labeling in a test's own folder."""

from pathlib import Path

import pandas as pd

from analysis.config import RunFiles

from analysis.data.io import parse_list
from analysis.data.vocabulary import BASELINE, COMBINATION, ENSEMBLE, Role, Status
from analysis.labeling.labels import COLUMNS, label, label_table, said_yes
from analysis.labeling.pipeline import label_reports
from analysis.labeling.session import Session

SHORT_COLUMNS = ["report_id", "model", "extravasation", "locations", "p_yes", "reason"]
# A hand-written row's role, by its label set's name (the pipeline writes the role itself).
ROLES = {ENSEMBLE: Role.ENSEMBLE, BASELINE: Role.RULES, COMBINATION: Role.COMBINATION}


def labels_frame(rows, columns=SHORT_COLUMNS, gate: str | None = None) -> pd.DataFrame:
    """``rows`` of ``columns``, optionally followed by a status, completed to the labels table's ``COLUMNS``.

    Sites are written ``;``-separated, as a hand-written file may; a reason as
    one string. Without a status a label is ``answered``; response keys are
    empty, the sites' status is ``answered`` where a row names sites, and no
    site has a probability. With ``gate``, the reports it called Yes are the
    ones stage 2 asked about (``gated``).
    """
    rows = [tuple(row) + (Status.ANSWERED,) * (len(columns) + 1 - len(row)) for row in rows]
    frame = pd.DataFrame(rows, columns=[*columns, "status"])
    built = []
    for row in frame.to_dict("records"):
        sites = parse_list(row.pop("locations", ""))
        reason = row.pop("reason", "")
        fields = {name: value for name, value in row.items() if name in COLUMNS}
        fields |= {"locations": sites, "reasons": [reason] if reason else [],
                   "locations_status": row.get("locations_status", Status.ANSWERED if sites else Status.NOT_ASKED)}
        report_id, model, extravasation, status = (fields.pop(name) for name in ("report_id", "model", "extravasation", "status"))
        built.append(label(report_id, model, ROLES.get(model, Role.MODEL), extravasation, status, **fields))
    table = label_table(built)
    if gate:
        table["gated"] = table.report_id.isin(said_yes(table, gate))
    return table


def truth_frame(columns: dict) -> pd.DataFrame:
    """Ground truth written by hand, its sites ``;``-separated as a hand-written file may hold them, as lists."""
    frame = pd.DataFrame(columns)
    return frame.assign(locations=frame.locations.map(parse_list))


def run_labels(reports: pd.DataFrame, out: Path, run="embedded", truth=None, split=None, **session):
    """The labels and manifest of ``run`` on ``reports``, every step written under ``out``: what
    ``python -m analysis label`` does. ``session``: ``Session``'s arguments (models, host, cache_path, ...)."""
    session.setdefault("cache_path", out / "cache.sqlite")
    return label_reports(Session(run, **session), RunFiles(out), reports, truth, split)
