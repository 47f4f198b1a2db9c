"""Reading and writing tables: the reports and ground truth a run starts from, and every table it writes.

Reports may be CSV or Parquet, with any column names (an export from a
hospital system will not call its columns ``report_id`` and ``report_text``).
Every cell is read as text: a report that says "N/A" or "NULL" is a report,
not a missing value.

The tables the project writes (``write_table``) hold lists as lists: a
Parquet file keeps them as list columns, a CSV file as JSON arrays
(``["bowel", "liver"]``), and ``read_table`` gives them back as Python lists,
so that nothing downstream splits a string. A file written by hand (ground
truth, case features) may list several values with ``;`` instead;
``parse_list`` reads either, where such a file comes in.
"""

import csv
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.data.vocabulary import DEV, HAND_WRITTEN_SEPARATOR, LABELS, LOCATIONS, TEST

PARQUET_SUFFIXES = {".parquet", ".pq"}


def open_private(path: Path):
    """``path`` opened for writing text, unreadable to others from its first byte.

    Every file beside report text or ids goes through here: chmod-ing after
    writing would leave a moment in which others can read it.
    """
    handle = open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8", newline="")
    os.fchmod(handle.fileno(), 0o600)  # an existing file keeps its old mode through os.open
    return handle


def _is_list(value) -> bool:
    return isinstance(value, (list, tuple, np.ndarray))


def parse_list(cell) -> list:
    """The values a cell lists: a list as it is, a JSON array as this project writes one, or ``;``-separated
    text as a hand-written file may hold it; nothing for an empty cell."""
    if _is_list(cell):
        return list(cell)
    text = "" if cell is None or (isinstance(cell, float) and np.isnan(cell)) else str(cell).strip()
    if text.startswith("["):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise DataError(f"not a JSON list: {text[:80]!r} ({error})") from None
        if not isinstance(value, list):
            raise DataError(f"not a JSON list: {text[:80]!r}")
        return value
    return [part.strip() for part in text.split(HAND_WRITTEN_SEPARATOR) if part.strip()]


def _csv_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every list cell as its JSON array, for a CSV file."""
    listed = [name for name in frame.columns if frame[name].map(_is_list).any()]
    return frame.assign(**{name: frame[name].map(lambda cell: json.dumps(list(cell), ensure_ascii=False)
                                                 if _is_list(cell) else cell) for name in listed})


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    """A CSV (or, by its suffix, Parquet) file readable by its owner only: every file of a run sits beside
    report ids or text. Lists stay lists (JSON arrays in a CSV)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            frame.to_parquet(handle, index=False)
        return path
    with open_private(path) as handle:
        # Every field quoted: pandas leaves a lone carriage return unquoted, and a reader then splits the row there.
        _csv_cells(frame).to_csv(handle, index=False, quoting=csv.QUOTE_ALL)
    return path


def read_table(path: Path, lists=(), numbers=(), flags=()) -> pd.DataFrame:
    """A table ``write_table`` wrote: text columns as text, ``lists`` as lists, ``numbers`` as floats (NaN where
    empty) and ``flags`` as booleans; the columns it names that the file lacks are left out."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if path.suffix.lower() in PARQUET_SUFFIXES:
        frame = pd.read_parquet(path)
        text = [name for name in frame.columns if name not in (*lists, *numbers, *flags)]
        frame[text] = frame[text].astype(object).where(frame[text].notna(), "").astype(str)
    else:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])
    for name in (name for name in lists if name in frame):
        frame[name] = frame[name].map(parse_list)
    for name in (name for name in numbers if name in frame):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    for name in (name for name in flags if name in frame):
        frame[name] = frame[name].map(lambda cell: cell if isinstance(cell, (bool, np.bool_)) else str(cell) == "True")
        frame[name] = frame[name].astype(bool)
    return frame


class DataError(ValueError):
    """An input file cannot be used as it is."""


class DataWarning(UserWarning):
    """An input file was used, but something in it was changed or dropped."""


def _read_input(path: Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if path.suffix.lower() in PARQUET_SUFFIXES:
        frame = pd.read_parquet(path)
        return frame.astype(object).where(frame.notna(), "").astype(str)
    # utf-8-sig: exports from Windows tools often start with a byte-order mark.
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[], encoding="utf-8-sig")


def _require(frame: pd.DataFrame, path: Path, columns: dict[str, str], hint: str) -> pd.DataFrame:
    """Keep the wanted columns under their canonical names, or say which are missing."""
    missing = [source for source in columns if source not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; found {list(frame.columns)}. {hint}")
    return frame[list(columns)].rename(columns=columns)


def read_reports(path: Path, id_column: str = "report_id", text_column: str = "report_text") -> pd.DataFrame:
    """``report_id, report_text``, one row per id.

    An id repeated with different texts is an error; a row repeated exactly
    is kept once, with a warning. Empty texts are kept (they become
    ``Undefined`` with a reason, never a lost row).
    """
    frame = _require(
        _read_input(path), path, {id_column: "report_id", text_column: "report_text"},
        "Name the columns with --id-column/--text-column (or the notebook's id_column/text_column).",
    )
    blank_ids = frame.report_id.str.strip() == ""
    if blank_ids.any():
        raise DataError(f"{path}: {blank_ids.sum()} row(s) without a report id, e.g. row {blank_ids.idxmax() + 2} of the file")
    repeated = frame[frame.report_id.duplicated(keep=False)]
    conflicting = sorted(repeated.groupby("report_id").filter(lambda g: g.report_text.nunique() > 1).report_id.unique())
    if conflicting:
        raise DataError(f"{path}: report_id(s) with different texts: {conflicting}")
    exact = frame.duplicated()
    if exact.any():
        ids = sorted(frame.report_id[exact].unique())
        warnings.warn(f"{path}: {exact.sum()} exact duplicate row(s) kept once: {ids[:10]}", DataWarning, stacklevel=2)
    return frame.drop_duplicates("report_id").reset_index(drop=True)


def read_truth(path: Path, evidence: Path | None = None) -> pd.DataFrame:
    """``report_id, extravasation, locations`` as the labeling guideline defines them; ``locations`` as lists.

    With ``evidence`` (``report_id, evidence``: one row per statement that makes a report Yes, as the demo
    corpus's evidence.csv), or where the file has the column already (as the truth a run writes), ``evidence``
    too: each report's true evidence statements, a list (the file may list reports the truth does not have, as
    the whole corpus's file does for a part of it).
    """
    read = _read_input(path)
    frame = _require(
        read, path, {c: c for c in ("report_id", "extravasation", "locations", *(["evidence"] if "evidence" in read else []))},
        "Ground truth uses the guideline's column names.",
    )
    invalid = frame[~frame.extravasation.isin(LABELS)]
    if len(invalid):
        raise DataError(f"{path}: extravasation must be one of {LABELS}; rows {invalid.report_id.tolist()[:10]}")
    if frame.report_id.duplicated().any():
        raise DataError(f"{path}: repeated report_id(s) {sorted(frame.report_id[frame.report_id.duplicated()])[:10]}")
    frame["locations"] = frame.locations.map(parse_list)
    unknown = {site for sites in frame.locations for site in sites} - set(LOCATIONS)
    if unknown:
        raise DataError(f"{path}: unknown location(s) {sorted(unknown)}; allowed: {list(LOCATIONS)}")
    if "evidence" in frame:
        frame["evidence"] = frame.evidence.map(parse_list)
    if evidence is not None:
        statements = _require(_read_input(evidence), evidence, {"report_id": "report_id", "evidence": "evidence"},
                              "An evidence file has columns report_id, evidence (see data/demo/README.md).")
        listed = statements.groupby("report_id").evidence.agg(list)
        frame["evidence"] = [listed.get(report_id, []) for report_id in frame.report_id]
    return frame


def read_split(path: Path) -> pd.DataFrame:
    """``report_id, split``: each report's part, development or test."""
    frame = _require(_read_input(path), path, {c: c for c in ("report_id", "split")}, "A split file has columns report_id, split.")
    unknown = sorted(set(frame.split) - {DEV, TEST})
    if unknown:
        raise DataError(f"{path}: split must be {DEV!r} or {TEST!r}; found {unknown}")
    if frame.report_id.duplicated().any():
        raise DataError(f"{path}: report_id(s) listed twice: {sorted(frame.report_id[frame.report_id.duplicated()])[:10]}")
    return frame


def read_case_features(path: Path) -> pd.DataFrame:
    """``report_id, template, hard_cases``: each demo report's layout and kinds (``hard_cases`` as lists)."""
    frame = _require(_read_input(path), path, {c: c for c in ("report_id", "template", "hard_cases")},
                     "A case features file has columns report_id, template, hard_cases (see data/demo/README.md).")
    return frame.assign(hard_cases=frame.hard_cases.map(parse_list))
