"""Stage 1: does the impression describe active extravasation? Every model of the run, then the rules.

One row per report and model (``analysis.labeling.labels``): the model's
answer, or ``Undefined`` with the reason and status when the report sent
nothing or no valid answer came back. The rule-based baseline's rows follow,
with their sites already: its stage 2 is the same pass. ``stage1_step`` is
the run's step: it reads ``inputs.csv`` and writes ``stage1.csv`` and a new
manifest.
"""

import time
from datetime import datetime, timezone

import pandas as pd

from analysis.config import RunFiles
from analysis.data.vocabulary import BASELINE, UNDEFINED, Role, Status
from analysis.labeling.inputs import read_inputs
from analysis.labeling.labels import label, label_table, write_labels
from analysis.labeling.manifest import save_manifest
from analysis.labeling.session import Session
from analysis.llm.asking import AskSummary


def stage1_step(session: Session, files: RunFiles) -> pd.DataFrame:
    """Every model's and the rules' stage-1 labels of the run's inputs (``stage1.csv``), and a new manifest."""
    started = datetime.now(timezone.utc)
    inputs = read_inputs(files.inputs)
    labels, summaries = label_stage1(session, inputs)
    write_labels(labels, files.stage1)
    save_manifest(session.manifest(inputs, started).recorded(summaries, labels), files, session.cache_path)
    return labels


def label_stage1(session: Session, inputs: pd.DataFrame) -> tuple[pd.DataFrame, list[AskSummary]]:
    """Labels of every report of ``inputs`` by every model of ``session`` and by its rules, and the time each took.

    The preflight runs first (printed, and kept for the manifest): a model
    whose template closes the reply's turn is asked for its structured answer.
    A report's screening note (instruction-like text cut before labeling) is
    added to the reasons of each of its labels.
    """
    sendable = {r.report_id: r.prompt_text for r in inputs.itertuples() if isinstance(r.prompt_text, str)}
    session.check(session.task, sendable.values())
    answers, summaries = session.ask(session.task, sendable)
    notes = {report.report_id: [report.note] if report.note else [] for report in inputs.itertuples()}
    rows = []
    for tag in session.tags:
        for report in inputs.itertuples():
            answer = answers[tag].get(report.report_id)
            if answer is None:
                rows.append(label(report.report_id, tag, Role.MODEL, UNDEFINED, Status.NOT_SENT,
                                  reasons=[report.reason, *notes[report.report_id]]))
            else:
                rows.append(label(report.report_id, tag, Role.MODEL, answer.value or UNDEFINED, answer.status,
                                  p_yes=answer.p_yes, response_key=answer.key,
                                  reasons=[*answer.reasons, *notes[report.report_id]]))
    labels = label_table(rows)
    if session.rules:
        baseline, summary = _label_with_rules(session, inputs)
        baseline["reasons"] = [[*reasons, *notes[report_id]] for reasons, report_id in zip(baseline.reasons, baseline.report_id)]
        labels = pd.concat([labels, baseline], ignore_index=True)
        summaries.append(summary)
    return labels, summaries


def _label_with_rules(session: Session, inputs: pd.DataFrame) -> tuple[pd.DataFrame, AskSummary]:
    # Imported here: medspaCy and spaCy load only when the baseline runs.
    from analysis.labeling.baseline import label_with_rules

    started = time.perf_counter()
    labels = label_with_rules(inputs, session.rules)
    return labels, AskSummary(BASELINE, f"rules {session.run.baseline} v{session.rules.version}",
                              asked=len(inputs), from_cache=0, seconds=time.perf_counter() - started)
