"""Stage 1: does the impression describe active extravasation? Every model of the run, then the rules.

One row per report and model (``analysis.labeling.labels``): the model's
answer, or ``Undefined`` with the reason and status when the report sent
nothing or no valid answer came back. The rule-based baseline's rows follow,
with their sites already: its stage 2 is the same pass.
"""

import time

import pandas as pd

from analysis.data.vocabulary import BASELINE, UNDEFINED, Status
from analysis.labeling.labeler import Labeler
from analysis.labeling.labels import LABEL_COLUMNS
from analysis.llm.asking import AskSummary


def label_stage1(labeler: Labeler, inputs: pd.DataFrame) -> tuple[pd.DataFrame, list[AskSummary]]:
    """Labels of every report of ``inputs`` by every model of ``labeler`` and by its rules, and the time each took.

    The preflight runs first (printed, and kept for the manifest): a model
    whose template closes the reply's turn is asked for its structured answer.
    A report's screening note (instruction-like text cut before labeling) is
    added to the reason of each of its labels.
    """
    sendable = {r.report_id: r.prompt_text for r in inputs.itertuples() if isinstance(r.prompt_text, str)}
    labeler.check(labeler.task, sendable.values())
    answers, summaries = labeler.ask(labeler.task, sendable)
    rows = []
    for tag in labeler.tags:
        for report in inputs.itertuples():
            answer = answers[tag].get(report.report_id)
            row = {"report_id": report.report_id, "model": tag,
                   "locations": "", "locations_status": Status.NOT_ASKED, "locations_key": ""}
            if answer is None:
                row |= {"extravasation": UNDEFINED, "status": Status.NOT_SENT, "p_yes": None,
                        "reason": report.reason, "response_key": ""}
            else:
                row |= {"extravasation": answer.value or UNDEFINED, "status": answer.status, "p_yes": answer.p_yes,
                        "reason": answer.reason, "response_key": answer.key}
            rows.append(row)
    labels = pd.DataFrame(rows, columns=LABEL_COLUMNS)
    if labeler.rules:
        baseline, summary = _label_with_rules(labeler, inputs)
        labels = pd.concat([labels, baseline], ignore_index=True)
        summaries.append(summary)
    notes = labels.report_id.map(inputs.set_index("report_id").note).fillna("")
    labels["reason"] = [
        "; ".join(part for part in (reason, note) if part) for reason, note in zip(labels.reason.fillna(""), notes)
    ]
    return labels, summaries


def _label_with_rules(labeler: Labeler, inputs: pd.DataFrame) -> tuple[pd.DataFrame, AskSummary]:
    # Imported here: medspaCy and spaCy load only when the baseline runs.
    from analysis.labeling.baseline import label_with_rules

    started = time.perf_counter()
    labels = label_with_rules(inputs, labeler.rules)
    return labels, AskSummary(BASELINE, f"rules {labeler.run.baseline} v{labeler.rules.version}",
                              asked=len(inputs), from_cache=0, seconds=time.perf_counter() - started)
