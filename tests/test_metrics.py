"""Metrics and the ensemble vote on labels built by hand (no model involved)."""

import pandas as pd
import pytest

from analysis.data import DataError
from analysis.ensemble import majority_vote, vote
from analysis.metrics import binary_metrics, table1a


def answers(tp, fp, fn, tn, negative="No"):
    predicted = ["Yes"] * tp + ["Yes"] * fp + [negative] * fn + [negative] * tn
    truth = ["Yes"] * tp + ["No"] * fp + ["Yes"] * fn + ["No"] * tn
    return predicted, truth


@pytest.mark.parametrize(
    "counts, published",
    [
        # Confusion counts consistent with the study's Table 1A (300 reports, 123 positives).
        ((123, 3, 0, 174), (0.976, 1.000, 0.988, 0.990)),  # Llama-3.1-70B
        ((117, 2, 6, 175), (0.983, 0.951, 0.967, 0.973)),  # Qwen2.5-72B
        ((119, 2, 4, 175), (0.983, 0.967, 0.975, 0.980)),  # ensemble
    ],
)
def test_metrics_reproduce_published_values_from_consistent_counts(counts, published):
    metrics = binary_metrics(*answers(*counts))
    assert tuple(round(metrics[k], 3) for k in ("precision", "recall", "f1", "accuracy")) == published
    assert (metrics["tp"], metrics["fp"], metrics["fn"], metrics["tn"]) == counts


def test_undefined_counts_as_negative():
    predicted, truth = answers(2, 0, 1, 1, negative="Undefined")
    assert binary_metrics(predicted, truth)["recall"] == pytest.approx(2 / 3)


def test_vote_needs_a_strict_majority():
    assert vote(["Yes", "Yes", "No"]) == ("Yes", "")
    assert vote(["Undefined", "No", "Undefined"]) == ("Undefined", "")
    assert vote(["Yes", "No", "Undefined"]) == ("Undefined", "no majority: Yes/No/Undefined")


def labels_frame(rows):
    return pd.DataFrame(rows, columns=["report_id", "model", "extravasation", "locations", "p_yes", "reason"])


def test_majority_vote_keeps_order_reason_and_mean_score():
    labels = labels_frame([
        ("r2", "a", "Yes", "", 0.9, ""), ("r2", "b", "No", "", 0.2, ""), ("r2", "c", "Yes", "", 0.7, ""),
        ("r1", "a", "Undefined", "", None, "no impression section"),
        ("r1", "b", "Undefined", "", None, "no impression section"),
        ("r1", "c", "Undefined", "", None, "no impression section"),
    ])
    ensemble = majority_vote(labels, ["a", "b", "c"])
    assert ensemble.report_id.tolist() == ["r2", "r1"]
    assert ensemble.extravasation.tolist() == ["Yes", "Undefined"]
    assert ensemble.p_yes.iloc[0] == pytest.approx(0.6)
    assert ensemble.reason.tolist() == ["", "no impression section"]


def test_table1a_has_one_row_per_model_with_undefined_and_invalid_counts():
    labels = labels_frame([
        ("r1", "m", "Yes", "", 0.9, ""), ("r2", "m", "Undefined", "", None, "invalid answer: not JSON"),
        ("r3", "m", "Undefined", "", 0.5, ""), ("r4", "m", "No", "", 0.1, ""),
    ])
    truth = pd.DataFrame({"report_id": ["r4", "r3", "r2", "r1"], "extravasation": ["No", "Yes", "Yes", "Yes"], "locations": ""})
    row = table1a(labels, truth).iloc[0]
    assert (row.n, row.n_undefined, row.n_invalid, row.tp, row.fn, row.tn) == (4, 2, 1, 1, 2, 1)
    assert row.precision == 1.0 and row.recall == pytest.approx(1 / 3)


def test_table1a_refuses_labels_that_lose_a_report():
    labels = labels_frame([("r1", "m", "Yes", "", None, "")])
    truth = pd.DataFrame({"report_id": ["r1", "r2"], "extravasation": ["Yes", "No"], "locations": ""})
    with pytest.raises(DataError, match="no label for 1 report"):
        table1a(labels, truth)
