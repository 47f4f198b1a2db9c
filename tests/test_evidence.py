"""Evidence sentences: read from an answer's probabilities, voted, scored against the true statements, shown.

The answers here are built by hand (no model): these tests are of the code
around the model. The evidence a real model gives, on the embedded server, is
tested in test_pipeline.py and over the whole demo run in
test_reproduction.py.
"""

import math

import pandas as pd
import pytest

from analysis.data.vocabulary import Role, Status
from analysis.evaluation.evidence import FIRST_SENTENCE, span_scores
from analysis.labeling.baseline import sites_named
from analysis.labeling.evidence import NONE, evidence_of, voted_evidence
from analysis.labeling.labels import label, label_table, read_labels, write_labels
from analysis.llm.asking import Answer
from analysis.reporting.review import impression_parts

IMPRESSION = ("1. Grade IV splenic laceration with active extravasation.\n2. Moderate hemoperitoneum.\n"
              "3. Liver laceration without active extravasation.")
FIRST, SECOND, THIRD = (IMPRESSION.index(text) for text in ("Grade IV", "Moderate", "Liver"))


def answer(probabilities: dict[str, float] | None, value: str | None = None) -> Answer:
    best = value or max(probabilities, key=probabilities.get)
    return Answer(best, probabilities=probabilities, key="k")


def test_the_likeliest_sentence_is_the_evidence_with_its_offsets_and_its_share_of_the_probability():
    found = evidence_of(answer({"A": 0.6, "B": 0.1, "C": 0.2, "none": 0.1}), IMPRESSION, share=1.0)
    assert found.status == Status.ANSWERED and found.reasons == []
    (span,) = found.spans
    assert (span["start"], span["text"]) == (FIRST, "Grade IV splenic laceration with active extravasation.")
    assert IMPRESSION[span["start"]:span["end"]] == span["text"] and span["p"] == pytest.approx(0.6)


def test_a_lower_share_admits_the_sentences_near_the_likeliest_in_the_order_of_the_impression():
    found = evidence_of(answer({"C": 0.45, "A": 0.40, "B": 0.05, "none": 0.1}), IMPRESSION, share=0.5)
    assert [span["start"] for span in found.spans] == [FIRST, THIRD]


def test_letters_the_impression_does_not_have_are_no_answer_and_the_rest_is_renormalised():
    found = evidence_of(answer({"Q": 0.7, "B": 0.2, "none": 0.1}), IMPRESSION, share=1.0)
    assert [span["start"] for span in found.spans] == [SECOND]
    assert found.spans[0]["p"] == pytest.approx(2 / 3)


def test_none_as_the_likeliest_answer_is_no_evidence_and_says_so():
    found = evidence_of(answer({"none": 0.5, "A": 0.4, "B": 0.1}), IMPRESSION, share=1.0)
    assert found.spans == [] and found.reasons == ["the model found no sentence that reports active extravasation"]


def test_a_structured_answer_names_one_sentence_or_is_marked_ungrounded():
    assert evidence_of(answer(None, "B"), IMPRESSION, 1.0).spans[0]["start"] == SECOND
    assert math.isnan(evidence_of(answer(None, "B"), IMPRESSION, 1.0).spans[0]["p"])
    missing = evidence_of(answer(None, "F"), IMPRESSION, 1.0)
    assert missing.spans == [] and "sentence 'F', which this impression (sentences A–C) does not have" in missing.reasons[0]
    assert evidence_of(answer(None, NONE), IMPRESSION, 1.0).spans == []


def test_a_failed_answer_keeps_its_status_and_reasons():
    failed = evidence_of(Answer(None, Status.TIMEOUT, ["no answer within 600 s"]), IMPRESSION, 1.0)
    assert (failed.spans, failed.status, failed.reasons) == ([], Status.TIMEOUT, ["no answer within 600 s"])


def test_the_ensemble_keeps_the_sentences_most_models_chose():
    a = {"start": 0, "end": 5, "text": "Aaaaa", "p": 0.9}
    b = {"start": 6, "end": 9, "text": "Bbb", "p": 0.8}
    assert voted_evidence([[a], [a, b], [b]]) == [{**a, "p": 2 / 3}, {**b, "p": 2 / 3}]
    assert voted_evidence([[a], [b], []]) == []


def test_the_sites_of_a_sentence_are_the_sites_its_words_name():
    assert sites_named(["Active extravasation from a lumbar artery into the left psoas.",
                        "Two sites of active bleeding: the sigmoid colon and the left retroperitoneal hematoma.", ""]) == [
        ("retroperitoneal",), ("bowel", "retroperitoneal"), ()]


def evidence_labels(spans_by_model: dict[str, dict[str, list[dict]]]) -> pd.DataFrame:
    rows = [label(report_id, model, Role.ENSEMBLE if model == "ensemble" else Role.MODEL, "Yes", Status.ANSWERED,
                  gated=True, evidence=spans, evidence_status=Status.ANSWERED)
            for model, by_report in spans_by_model.items() for report_id, spans in by_report.items()]
    return label_table(rows)


def test_span_precision_and_recall_count_overlaps_with_the_true_statements():
    texts = pd.Series({"r1": IMPRESSION, "r2": "No active extravasation. Small hematoma."})
    truth = pd.DataFrame({"report_id": ["r1", "r2"], "extravasation": ["Yes", "No"], "locations": [["spleen"], []],
                          "evidence": [["Grade IV splenic laceration with active extravasation."], []]})
    first = {"start": FIRST, "end": FIRST + 10, "text": IMPRESSION[FIRST:FIRST + 10], "p": 1.0}
    second = {"start": SECOND, "end": SECOND + 8, "text": "Moderate", "p": 1.0}
    wrong = {"start": 0, "end": 24, "text": "No active extravasation.", "p": 1.0}
    labels = evidence_labels({"m": {"r1": [first, second], "r2": [wrong]}})
    scores = span_scores(labels, truth, texts, 0.95).set_index("model")
    row = scores.loc["m"]
    assert (row.chosen, row.correct, row.true, row.found) == (3, 1, 1, 1)
    assert row.precision == pytest.approx(1 / 3) and row.recall == 1.0
    assert row.precision_lo < 1 / 3 < row.precision_hi and row.recall_hi == 1.0
    # The impression's first sentence, without a model, beside it.
    assert scores.loc[FIRST_SENTENCE, ["chosen", "correct", "found"]].tolist() == [2, 1, 1]


def test_evidence_round_trips_through_csv_and_parquet(tmp_path):
    spans = [{"start": FIRST, "end": FIRST + 10, "text": "Grade IV s", "p": 0.25}]
    labels = evidence_labels({"m": {"r1": spans}}).assign(evidence_locations=[["spleen"]])
    for name in ("labels.csv", "labels.parquet"):
        back = read_labels(write_labels(labels, tmp_path / name))
        assert back.evidence.tolist() == [spans] and back.evidence_locations.tolist() == [["spleen"]]


def test_the_sheet_marks_each_models_sentences_where_they_stand():
    span = {"start": FIRST, "end": SECOND - 4, "text": IMPRESSION[FIRST:SECOND - 4], "p": 0.9}
    parts = impression_parts(IMPRESSION, {"a": [span], "b": [span], "c": []})
    assert "".join(part["text"] for part in parts) == IMPRESSION
    assert [part["models"] for part in parts] == [[], ["a", "b"], []]
    assert parts[1]["text"] == "Grade IV splenic laceration with active extravasation."
