"""Metrics, Tables 1A/1B and the ensemble vote on labels built by hand (no model involved)."""

import numpy as np
import pandas as pd
import pytest

from analysis.data.io import DataError
from analysis.data.vocabulary import LOCATIONS, Status
from analysis.evaluation.metrics import END_TO_END, RULES_UNGATED, STAGE2_ALONE, binary_metrics, table1a, table1b
from analysis.evaluation.scoring import AS_NEGATIVE
from analysis.labeling.ensemble import majority_vote, vote
from analysis.reporting.tables import load_published
from analysis.specs import Bootstrap
from tests.frames import labels_frame, truth_frame

FAST = Bootstrap(resamples=200)  # enough to exercise the intervals; the machine is shared
CUT = 0.5  # a site named where its probability reaches this (no example here has site probabilities)


def answers(tp, fp, fn, tn):
    predicted = [True] * tp + [True] * fp + [False] * fn + [False] * tn
    actual = [True] * tp + [False] * fp + [True] * fn + [False] * tn
    return np.array(predicted), np.array(actual)


def test_undefined_answers_are_negatives_and_zero_over_zero_is_no_value():
    metrics = binary_metrics(*answers(0, 0, 3, 5), FAST)
    assert (metrics["recall"], metrics["specificity"]) == (0.0, 1.0)
    assert np.isnan(metrics["precision"]) and np.isnan(metrics["precision_lo"]) and metrics["precision_method"] == ""
    assert metrics["f1"] == 0.0  # 2tp + fp + fn = 3: defined, and 0


def test_vote_needs_a_strict_majority():
    assert vote(["Yes", "Yes", "No"]) == ("Yes", Status.VOTED, "")
    assert vote(["Undefined", "No", "Undefined"]) == ("Undefined", Status.VOTED, "")
    assert vote(["Yes", "No", "Undefined"]) == ("Undefined", Status.NO_MAJORITY, "no majority: Yes/No/Undefined")


def test_majority_vote_keeps_order_reason_and_mean_score():
    labels = labels_frame([
        ("r2", "a", "Yes", "", 0.9, ""), ("r2", "b", "No", "", 0.2, ""), ("r2", "c", "Yes", "", 0.7, ""),
        ("r1", "a", "Undefined", "", None, "no impression section", Status.NOT_SENT),
        ("r1", "b", "Undefined", "", None, "no impression section", Status.NOT_SENT),
        ("r1", "c", "Undefined", "", None, "no impression section", Status.NOT_SENT),
        ("r3", "a", "Undefined", "", 0.2, "the model answered Undefined"), ("r3", "b", "No", "", 0.1, ""),
        ("r3", "c", "Undefined", "", None, "invalid answer: not JSON", Status.INVALID),
    ])
    ensemble = majority_vote(labels, ["a", "b", "c"])
    assert ensemble.report_id.tolist() == ["r2", "r1", "r3"]
    assert ensemble.extravasation.tolist() == ["Yes", "Undefined", "Undefined"]
    assert ensemble.p_yes.iloc[0] == pytest.approx(0.6)
    assert ensemble.status.tolist() == [Status.VOTED, Status.NOT_SENT, Status.VOTED]
    assert ensemble.reasons.tolist() == [[], ["no impression section"], ["a majority of the models said Undefined"]]


def test_table1a_scores_the_yes_and_no_truths_and_counts_what_it_leaves_out():
    labels = labels_frame([
        ("r1", "m", "Yes", "", 0.9, ""), ("r2", "m", "Undefined", "", None, "invalid answer: not JSON", Status.INVALID),
        ("r3", "m", "Undefined", "", 0.5, ""), ("r4", "m", "No", "", 0.1, ""), ("r5", "m", "Yes", "", 0.8, ""),
    ])
    truth = pd.DataFrame({"report_id": ["r5", "r4", "r3", "r2", "r1"],
                          "extravasation": ["Undefined", "No", "Yes", "Yes", "Yes"], "locations": ""})
    row = table1a(labels, truth, FAST).iloc[0]
    assert (row.n, row.n_truth_undefined, row.n_undefined, row.n_invalid) == (4, 1, 2, 1)
    assert (row.tp, row.fn, row.tn, row.fp) == (1, 2, 1, 0)
    assert row.precision == 1.0 and row.recall == pytest.approx(1 / 3) and row.npv == pytest.approx(1 / 3)
    sensitivity = table1a(labels, truth, FAST, undefined_truth=AS_NEGATIVE).iloc[0]
    assert (sensitivity.n, sensitivity.fp, sensitivity.tn) == (5, 1, 1)  # r5's Yes now counts against it


def test_table1a_refuses_labels_that_lose_a_report():
    labels = labels_frame([("r1", "m", "Yes", "", None, "")])
    truth = pd.DataFrame({"report_id": ["r1", "r2"], "extravasation": ["Yes", "No"], "locations": ""})
    with pytest.raises(DataError, match="no label for 1 report"):
        table1a(labels, truth, FAST)


# The published Table 1A follows from these counts with 294 scored reports, 123 of them positive.
PUBLISHED_COUNTS = {  # paper model name: (tp, fp)
    "Llama-3.1-70B": (123, 3), "Qwen2.5-72B": (117, 2), "Mistral-7B": (105, 2), "Ensemble": (119, 2),
}


def labels_with_counts(counts: dict[str, tuple[int, int]], positives: int, negatives: int, undefined: int = 0):
    """Truth (positives Yes, negatives No, then ``undefined`` Undefined) and one label per report per model
    giving each model its (tp, fp); every model says No to the Undefined-truth reports."""
    truth = pd.DataFrame({
        "report_id": [f"r{i:03d}" for i in range(positives + negatives + undefined)],
        "extravasation": ["Yes"] * positives + ["No"] * negatives + ["Undefined"] * undefined, "locations": "",
    })
    rows = []
    for model, (tp, fp) in counts.items():
        said_yes = [i < tp for i in range(positives)] + [i < fp for i in range(negatives)] + [False] * undefined
        rows += [(r, model, "Yes" if yes else "No", "", "", "") for r, yes in zip(truth.report_id, said_yes)]
    return labels_frame(rows), truth


def test_table1a_reproduces_all_sixteen_published_values_with_294_scored_reports():
    # 300 reports: 123 Yes, 171 No and 6 whose truth is Undefined, left out as the study evidently did.
    labels, truth = labels_with_counts(PUBLISHED_COUNTS, positives=123, negatives=171, undefined=6)
    table = table1a(labels, truth, FAST).set_index("model")
    assert (table.n == 294).all() and (table.n_truth_undefined == 6).all()
    for model, values in load_published()["table1a"].items():
        assert {metric: round(table.loc[model, metric], 3) for metric in values} == values, model


def test_no_count_out_of_300_gives_mistrals_published_accuracy():
    """Why the publication cannot have scored all 300: its precision, recall and F1 need 280 correct answers."""
    labels, truth = labels_with_counts({"Mistral-7B": PUBLISHED_COUNTS["Mistral-7B"]}, positives=123, negatives=177)
    row = table1a(labels, truth, FAST).iloc[0]
    assert round(row.accuracy, 3) == 0.933 != load_published()["table1a"]["Mistral-7B"]["accuracy"]


def test_intervals_are_exact_for_proportions_and_never_a_point_where_the_data_allow_doubt():
    labels, truth = labels_with_counts({"perfect": (82, 0)}, positives=82, negatives=118)
    row = table1a(labels, truth, FAST).iloc[0]
    # Clopper–Pearson for 82 of 82: 0.956–1.000, by hand (0.025 ** (1 / 82)).
    assert (row.recall, round(row.recall_lo, 3), row.recall_hi, row.recall_method) == (1.0, 0.956, 1.0, "exact")
    assert row.recall_lo == pytest.approx(0.025 ** (1 / 82))
    # Every resample gives F1 1.000: the interval comes from precision's and recall's exact bounds, not a point.
    assert row.f1 == 1.0 and row.f1_method == "bound" and row.f1_lo < 0.97 and row.f1_hi == 1.0


def test_f1_and_auc_get_bca_intervals():
    rng = np.random.default_rng(3)
    truth = pd.DataFrame({"report_id": [f"r{i}" for i in range(120)],
                          "extravasation": np.where(rng.random(120) < 0.4, "Yes", "No"), "locations": ""})
    noisy = np.where(rng.random(120) < 0.85, truth.extravasation, np.where(truth.extravasation == "Yes", "No", "Yes"))
    scores = np.clip(np.where(noisy == "Yes", 0.7, 0.3) + rng.normal(0, 0.15, 120), 0, 1)
    labels = labels_frame(zip(truth.report_id, ["m"] * 120, noisy, [""] * 120, scores, [""] * 120))
    row = table1a(labels, truth, Bootstrap(resamples=500)).iloc[0]
    assert (row.f1_method, row.auc_method) == ("BCa", "BCa")
    assert 0 < row.f1_lo < row.f1_hi < 1 and 0 < row.auc_lo < row.auc_hi <= 1


def test_auc_uses_the_reports_with_p_yes_read_as_text():
    labels = labels_frame([  # p_yes as the label CSV gives it: text, empty when missing
        ("r1", "m", "Yes", "", "0.9", ""), ("r2", "m", "No", "", "0.4", ""),
        ("r3", "m", "No", "", "0.2", ""), ("r4", "m", "Undefined", "", "", "no impression section", Status.NOT_SENT),
    ])
    truth = pd.DataFrame({"report_id": ["r1", "r2", "r3", "r4"], "extravasation": ["Yes", "Yes", "No", "Yes"], "locations": ""})
    row = table1a(labels, truth, FAST).iloc[0]
    assert row.n_auc == 3 and row.n == 4
    assert row.auc == pytest.approx(1.0)  # both scored positives outrank the scored negative


def test_auc_is_undefined_when_the_scored_reports_hold_one_class():
    labels = labels_frame([("r1", "m", "Yes", "", 0.9, ""), ("r2", "m", "No", "", None, "")])
    truth = pd.DataFrame({"report_id": ["r1", "r2"], "extravasation": ["Yes", "No"], "locations": ""})
    row = table1a(labels, truth, FAST).iloc[0]
    assert row.n_auc == 1
    assert np.isnan(row.auc) and np.isnan(row.auc_lo) and np.isnan(row.auc_hi)


def stage2_example():
    """Four truth-Yes reports and two truth-No reports. The gate g misses r4 (truly Yes, spleen) and over-calls
    r5 (truly No); r6 has an Undefined truth and is not scored. The rules name sites on their own Yes calls."""
    truth = truth_frame({
        "report_id": ["r1", "r2", "r3", "r4", "r5", "r6", "r7"],
        "extravasation": ["Yes", "Yes", "Yes", "Yes", "No", "Undefined", "No"],
        "locations": ["bowel", "bowel;liver", "liver", "spleen", "", "", ""],
    })
    labels = labels_frame([
        ("r1", "g", "Yes", "bowel", None, ""), ("r2", "g", "Yes", "bowel", None, ""),
        ("r3", "g", "Yes", "liver", None, ""), ("r4", "g", "No", "", None, ""),
        ("r5", "g", "Yes", "bowel;kidney", None, ""), ("r6", "g", "Yes", "kidney", None, ""),
        ("r7", "g", "No", "", None, ""),
        ("r1", "rules", "Yes", "bowel", None, ""), ("r2", "rules", "Yes", "bowel;liver", None, ""),
        ("r3", "rules", "Yes", "liver", None, ""), ("r4", "rules", "Yes", "spleen", None, ""),
        ("r5", "rules", "No", "", None, ""), ("r6", "rules", "No", "", None, ""), ("r7", "rules", "Yes", "other", None, ""),
    ], gate="g")
    return labels, truth


def cell(table, design, location, model):
    return table.set_index(["design", "location", "model"]).loc[(design, location, model)]


def test_table1b_stage2_alone_scores_the_gated_truly_yes_reports():
    labels, truth = stage2_example()
    table = table1b(labels, truth, gate="g", cut=CUT, bootstrap=FAST)
    assert table.attrs["gate_counts"] == {"scored": 6, "gated": 4, "hits": 3, "over_calls": 1, "misses": 1}
    alone = table[table.design == STAGE2_ALONE]
    assert (alone.n == 3).all()  # r1–r3: r4 was missed, r5 over-called, r6 not scored
    assert cell(table, STAGE2_ALONE, "bowel", "g").f1 == 1.0
    assert cell(table, STAGE2_ALONE, "liver", "g").f1 == pytest.approx(2 / 3)  # r2's liver missed
    assert cell(table, STAGE2_ALONE, "liver", "rules").f1 == 1.0  # the rules' sites, on the gate's reports
    spleen = cell(table, STAGE2_ALONE, "spleen", "g")
    assert (spleen.support, spleen.predicted) == (0, 0) and np.isnan(spleen.f1)  # no true site, none named: n/a


def test_table1b_end_to_end_counts_the_gates_misses_and_over_calls():
    labels, truth = stage2_example()
    table = table1b(labels, truth, gate="g", cut=CUT, bootstrap=FAST)
    assert (table[table.design == END_TO_END].n == 6).all()
    bowel = cell(table, END_TO_END, "bowel", "g")
    assert (bowel.support, bowel.predicted) == (2, 3) and bowel.f1 == pytest.approx(4 / 5)  # r5's bowel is false
    assert cell(table, END_TO_END, "spleen", "g").f1 == 0.0  # r4 missed by the gate: its spleen is missed
    # The rules go through the same gate: their spleen on r4 and other on r7 do not count.
    assert cell(table, END_TO_END, "spleen", "rules").predicted == 0 and cell(table, END_TO_END, "other", "rules").predicted == 0
    # Apart, on their own Yes calls: both count.
    assert cell(table, RULES_UNGATED, "spleen", "rules").f1 == 1.0 and cell(table, RULES_UNGATED, "other", "rules").predicted == 1


def test_table1b_intervals_are_not_points_where_the_data_allow_doubt():
    labels, truth = stage2_example()
    table = table1b(labels, truth, gate="g", cut=CUT, bootstrap=FAST)
    defined = table[table.f1.notna()]
    assert (defined.f1_hi > defined.f1_lo).all()


def test_table1b_refuses_an_unknown_site_and_a_lost_report():
    labels, truth = stage2_example()
    unknown = labels.copy()
    unknown.at[0, "locations"] = ["pelvis"]
    with pytest.raises(DataError, match="unknown location"):
        table1b(unknown, truth, gate="g", cut=CUT, bootstrap=FAST)
    with pytest.raises(DataError, match="model rules has no label"):
        table1b(labels[~((labels.model == "rules") & (labels.report_id == "r2"))], truth, gate="g", cut=CUT, bootstrap=FAST)
    assert set(table1b(labels, truth, gate="g", cut=CUT, bootstrap=FAST).location) == set(LOCATIONS)
