"""How well the evidence sentences point at the words that make a report Yes.

Scored where the truth lists each Yes report's evidence statements (the demo
corpus's ``evidence.csv``), over the reports stage 2 asked about (the gate's
Yes calls) in each part of the split. A chosen sentence is *correct* where it
overlaps a true statement of its report; a true statement is *found* where a
chosen sentence overlaps it. Precision is correct sentences over chosen ones
(a sentence chosen in a report whose truth is No or Undefined is never
correct); recall is found statements over true ones, in the gated reports
whose truth is Yes. Both carry Clopper–Pearson intervals that treat sentences
as independent (almost every report has one true statement and one chosen
sentence). Beside the label sets stands ``FIRST_SENTENCE``: the impression's
first sentence, chosen without a model, which says how much the corpus's
order of statements alone gives.
"""

import pandas as pd

from analysis.data.sentences import sentences
from analysis.evaluation.intervals import exact_proportion
from analysis.labeling.labels import with_evidence

FIRST_SENTENCE = "first sentence (no model)"
EVIDENCE_RULES = ("A chosen sentence is correct where it overlaps a true statement of its report (never in a report "
                  "whose truth is not Yes); a true statement is found where a chosen sentence overlaps it. "
                  f"'{FIRST_SENTENCE}': the impression's first sentence, chosen without a model: what the order of "
                  "the corpus's statements gives alone.")


def statement_spans(text: str, statements: list[str]) -> list[tuple[int, int]]:
    """Where each true statement stands in ``text`` (the impression); one not found there is left out."""
    spans = []
    for statement in statements:
        if (start := text.find(statement)) >= 0:
            spans.append((start, start + len(statement)))
    return spans


def _counts(chosen: list[list[dict]], truth: list[list[tuple[int, int]]]) -> dict[str, int]:
    counts = {"chosen": 0, "correct": 0, "true": 0, "found": 0}
    for spans, statements in zip(chosen, truth):
        overlaps = [[span["start"] < end and start < span["end"] for start, end in statements] for span in spans]
        counts["chosen"] += len(spans)
        counts["correct"] += sum(any(row) for row in overlaps)
        counts["true"] += len(statements)
        counts["found"] += sum(any(row[k] for row in overlaps) for k in range(len(statements)))
    return counts


def span_scores(labels: pd.DataFrame, truth: pd.DataFrame, texts: pd.Series, confidence: float) -> pd.DataFrame:
    """One row per label set with evidence (and ``FIRST_SENTENCE``): reports, sentences chosen, precision and
    recall with their intervals, and the reports whose evidence is the first sentence alone, over the gated
    reports of ``truth`` (which needs ``evidence``)."""
    gated = labels[labels.gated & labels.report_id.isin(truth.report_id)]
    statements = truth.set_index("report_id").evidence
    reports = list(dict.fromkeys(gated.report_id))
    truth_spans = [statement_spans(texts[report_id], statements[report_id]) for report_id in reports]
    chosen = {model: gated[gated.model == model].set_index("report_id").evidence.reindex(reports).tolist()
              for model in with_evidence(gated)}
    if not chosen:
        return pd.DataFrame()
    first = [[sentence.record() for sentence in sentences(texts[report_id])[:1]] for report_id in reports]
    rows = []
    for model, spans in {**chosen, FIRST_SENTENCE: first}.items():
        counts = _counts(spans, truth_spans)
        precision, p_interval = exact_proportion(counts["correct"], counts["chosen"], confidence)
        recall, r_interval = exact_proportion(counts["found"], counts["true"], confidence)
        only_first = sum([(span["start"], span["end"]) for span in chosen_spans] == [(f["start"], f["end"]) for f in own_first]
                         for chosen_spans, own_first in zip(spans, first))
        rows.append({"model": model, "reports": len(reports), **counts, "only_first_sentence": only_first,
                     "precision": precision, "precision_lo": p_interval.low, "precision_hi": p_interval.high,
                     "recall": recall, "recall_lo": r_interval.low, "recall_hi": r_interval.high})
    return pd.DataFrame(rows)
