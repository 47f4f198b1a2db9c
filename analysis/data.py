"""Reading reports and ground truth, with the checks that keep every report in every table."""

from pathlib import Path

import pandas as pd

LABELS = ("Yes", "No", "Undefined")


class DataError(ValueError):
    """An input file cannot be used as it is."""


def _read_csv(path: Path, required: list[str]) -> pd.DataFrame:
    # Every cell is text: a report that says "N/A" or "NULL" is a report, not a missing value.
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; found {list(frame.columns)}")
    return frame


def read_reports(path: Path) -> pd.DataFrame:
    """``report_id, report_text``; a repeated id with different text is an error."""
    frame = _read_csv(path, ["report_id", "report_text"])[["report_id", "report_text"]]
    duplicated = frame[frame.duplicated("report_id", keep=False)]
    conflicting = sorted(duplicated.groupby("report_id").filter(lambda g: g.report_text.nunique() > 1).report_id.unique())
    if conflicting:
        raise DataError(f"{path}: report_id(s) with different texts: {conflicting}")
    return frame.drop_duplicates("report_id").reset_index(drop=True)


def read_truth(path: Path) -> pd.DataFrame:
    """``report_id, extravasation, locations`` as the labeling guideline defines them."""
    frame = _read_csv(path, ["report_id", "extravasation", "locations"])
    invalid = frame[~frame.extravasation.isin(LABELS)]
    if len(invalid):
        raise DataError(f"{path}: extravasation must be one of {LABELS}; rows {invalid.report_id.tolist()[:10]}")
    if frame.report_id.duplicated().any():
        raise DataError(f"{path}: repeated report_id(s) {sorted(frame.report_id[frame.report_id.duplicated()])[:10]}")
    return frame
