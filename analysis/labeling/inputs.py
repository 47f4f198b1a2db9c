"""What each report sends to the models: its impression, screened, or nothing and why. The run's first step.

The impression is found by ``analysis.labeling.impression``; instruction-like
sentences are cut from it by ``analysis.labeling.screening``. A report that
sends nothing is labeled ``Undefined`` with the reason, and no model is asked.
``inputs_step`` writes what each report sends (``inputs.csv``) and the ground
truth of each part of the split (``truth_step``).
"""

from pathlib import Path

import pandas as pd

from analysis.config import RunFiles
from analysis.data.io import write_table
from analysis.data.split import assign_split, truth_parts
from analysis.labeling.impression import extract_impression
from analysis.labeling.screening import remove_instructions
from analysis.specs import Run

INPUT_COLUMNS = ["report_id", "prompt_text", "reason", "impression_method", "note"]


def prompt_inputs(reports: pd.DataFrame, run: Run) -> pd.DataFrame:
    """What each report sends to the models: its impression, or nothing (``None``) and why.

    Instruction-like sentences are cut from the text first; ``note`` says what
    was cut, and every label of that report carries it.
    """
    rows = []
    for report_id, text in zip(reports.report_id, reports.report_text):
        impression = extract_impression(text)
        prompt_text, reason, note = impression.text, impression.reason, ""
        if prompt_text is None and run.no_impression == "full_report" and text.strip():
            prompt_text, reason = text, ""
        if prompt_text is not None:
            prompt_text, removed = remove_instructions(prompt_text)
            if removed:
                note = "instruction-like text removed before labeling: " + " | ".join(removed)
            if not prompt_text.strip():
                prompt_text, reason = None, "impression holds only instruction-like text"
        rows.append({"report_id": report_id, "prompt_text": prompt_text, "reason": reason,
                     "impression_method": impression.method, "note": note})
    inputs = pd.DataFrame(rows, columns=INPUT_COLUMNS)
    # Object dtype keeps None (not sent) apart from text; a string column would turn it into NaN.
    inputs["prompt_text"] = pd.Series([row["prompt_text"] for row in rows], index=inputs.index, dtype=object)
    return inputs


def prepare_inputs(reports: pd.DataFrame, split: pd.DataFrame | None, run: Run) -> pd.DataFrame:
    """The inputs of every report with its part of the split (``analysis.data.split.assign_split``)."""
    inputs = prompt_inputs(reports, run)
    inputs["split"] = assign_split(inputs.report_id, split)
    return inputs


def read_inputs(path: Path) -> pd.DataFrame:
    """``prompt_inputs`` as written to CSV, where a report not sent has an empty ``prompt_text``."""
    inputs = pd.read_csv(path, dtype=str, keep_default_na=False)
    inputs["prompt_text"] = pd.Series([text or None for text in inputs.prompt_text], index=inputs.index, dtype=object)
    return inputs


def inputs_step(files: RunFiles, run: Run, reports: pd.DataFrame, truth: pd.DataFrame | None = None,
                split: pd.DataFrame | None = None) -> pd.DataFrame:
    """What each report sends to the models and its part of the split (``inputs.csv``), and with ``truth`` the
    ground truth of those reports, by part (``truth_step``)."""
    inputs = prepare_inputs(reports, split, run)
    write_table(inputs, files.inputs)
    if truth is not None:
        truth_step(files, truth[truth.report_id.isin(reports.report_id)], split)
    return inputs


def truth_step(files: RunFiles, truth: pd.DataFrame, split: pd.DataFrame | None) -> None:
    """The ground truth of the part the tables score (``truth.csv``: the test part, or every report without a
    split) and of the development part (``truth_dev.csv``; see ``analysis.data.split``)."""
    scored, development = truth_parts(truth, split)
    write_table(scored, files.truth)
    write_table(development, files.truth_dev)
