"""The review priority and its budget curve, on labels written by hand and on the committed reference labels
(no model involved).

The hand-written tables are small enough to check by eye; where a test needs a priority model, it is either
made by hand (for the code around the model) or fitted on the reference labels of the demo run, whose roles
the reference file leaves out and the test gives by name.
"""

import math

import numpy as np
import pandas as pd
import pytest

import analysis.labeling.priority as priority_module
from analysis.config import DEMO_DIR, REVIEW_PRIORITY_DIR, RUNS_DIR
from analysis.data.io import read_split, read_truth
from analysis.data.vocabulary import BASELINE, COMBINATION, DEV, ENSEMBLE, TEST, Role, Status
from analysis.evaluation.calibration import calibration_row
from analysis.evaluation.review_budget import (
    CURRENT,
    PRIORITY,
    RANDOM,
    WITHOUT_RULES,
    budget_curve,
    choose_label_set,
    closest_call_order,
    fit_priority,
    points_at,
    priority_order,
    random_curve,
    review_budget,
)
from analysis.labeling.labels import read_labels
from analysis.labeling.priority import FEATURES, PriorityModel, load_priority, priority_features, with_priority
from analysis.reporting.tables import write_review_budget
from analysis.specs import RUN_BASE, Bootstrap, Review, SpecError, load_run
from tests.frames import labels_frame, run_labels, truth_frame

A, B, C = "model-a", "model-b", "model-c"
ROLES = {ENSEMBLE: Role.ENSEMBLE, BASELINE: Role.RULES, COMBINATION: Role.COMBINATION}


def hand_labels() -> pd.DataFrame:
    """Three reports: r1 a confident Yes that every label set shares; r2 a close call of A's, against B, C and
    the rules; r3 A's label not a clean answer, with no p_yes."""
    rows = [
        ("r1", A, "Yes", 0.95), ("r1", B, "Yes", 0.9), ("r1", C, "Yes", 0.85), ("r1", ENSEMBLE, "Yes", 0.9),
        ("r1", BASELINE, "Yes", None),
        ("r2", A, "Yes", 0.55), ("r2", B, "No", 0.2), ("r2", C, "Undefined", 0.3), ("r2", ENSEMBLE, "No", 0.35),
        ("r2", BASELINE, "No", None),
        ("r3", A, "Undefined", None, "no answer in time", Status.TIMEOUT), ("r3", B, "No", 0.1), ("r3", C, "No", 0.2),
        ("r3", ENSEMBLE, "No", 0.15), ("r3", BASELINE, "No", None),
    ]
    rows = [row if len(row) > 4 else (*row, "") for row in rows]  # a clean answer gives no reason
    return labels_frame(rows, columns=["report_id", "model", "extravasation", "p_yes", "reason"])


def test_features_from_hand_written_labels():
    features = priority_features(hand_labels(), A)
    assert list(features.index) == ["r1", "r2", "r3"] and list(features.columns) == list(FEATURES)
    assert features.loc["r1"].tolist() == pytest.approx([0.1, 1, 0, 0, 0, 0])
    # r2: A's 0.55 is a close call; both other models say not-Yes, as do the rules.
    assert features.loc["r2"].tolist() == pytest.approx([0.9, 1, 1, 1, 0, 0])
    # r3: no p_yes (as unsure as can be) and a timeout; Undefined is not-Yes, as the others' No.
    assert features.loc["r3"].tolist() == pytest.approx([1, 0, 0, 0, 0, 1])


def test_a_yes_without_evidence_is_ungrounded():
    labels = hand_labels()
    at = (labels.model == A) & (labels.report_id == "r2")
    labels.loc[at, "evidence_status"] = Status.ANSWERED  # asked, and it chose no sentence
    assert priority_features(labels, A).ungrounded.tolist() == [0, 1, 0]


def test_the_priority_is_the_same_on_every_row_of_a_report_and_a_probability():
    model = PriorityModel(label_set=A, chosen_because="by hand", fitted_on="none", regularisation=1.0, intercept=-3.0,
                          coefficients={"closeness": 2.0, "models_differ": 1.5, "rules_differ": 1.0, "not_clean": 2.0})
    labels = with_priority(hand_labels(), model)
    per_report = labels.groupby("report_id").review_priority
    assert (per_report.nunique() == 1).all() and labels.review_priority.between(0, 1).all()
    assert per_report.first()["r2"] == pytest.approx(1 / (1 + math.exp(-(-3 + 2 * 0.9 + 1.5 + 1.0))))
    assert per_report.first().idxmax() == "r2" and per_report.first().idxmin() == "r1"
    # Without a model, or for a label set the labels lack, NaN on every row.
    assert with_priority(hand_labels(), None).review_priority.isna().all()
    other = model.model_copy(update={"label_set": "not-a-label-set"})
    assert with_priority(hand_labels(), other).review_priority.isna().all()


def test_the_budget_curve_on_a_hand_checked_example():
    # Five reports; the label set is wrong on the first (a false Yes) and the fourth (a missed Yes).
    predicted = np.array([True, True, False, False, False])
    actual = np.array([False, True, False, True, False])
    curve = budget_curve(np.array([3, 0, 1, 2, 4]), predicted, actual)
    assert curve.reviewed.tolist() == [0, 1, 2, 3, 4, 5]
    assert curve.errors_left.tolist() == [2, 1, 0, 0, 0, 0]  # all errors at 0%, none at 100%
    # Before review tp 1, fp 1, fn 1: F1 2/4; the missed Yes fixed: tp 2, fp 1: 4/5; then every label right.
    assert curve.f1.tolist() == pytest.approx([0.5, 0.8, 1, 1, 1, 1])
    random = random_curve(predicted, actual, Bootstrap(resamples=200, seed=1))
    assert random.errors_caught.tolist() == pytest.approx([0, 0.4, 0.8, 1.2, 1.6, 2])  # k/n of the errors
    assert random.f1.iloc[0] == pytest.approx(0.5) and random.f1.iloc[-1] == pytest.approx(1)
    assert (random.f1_lo <= random.f1).all() and (random.f1 <= random.f1_hi).all()


def test_orders_put_the_highest_priority_and_the_closest_call_first():
    assert priority_order(np.array([0.1, np.nan, 0.9, 0.5])).tolist() == [2, 3, 0, 1]
    # Closest call over the models, the ensemble aside: r2 (A's 0.55) first, then r3 (C's 0.2, 0.3 from 0.5),
    # then r1 (C's 0.85, 0.35 from it).
    assert closest_call_order(hand_labels(), pd.Series(["r1", "r2", "r3"])).tolist() == [1, 2, 0]
    no_score = hand_labels().assign(p_yes=lambda frame: frame.p_yes.where(frame.report_id != "r2"))
    assert closest_call_order(no_score, pd.Series(["r1", "r2", "r3"])).tolist() == [2, 0, 1]  # no p_yes: last


def test_points_are_taken_at_rounded_shares():
    curve = budget_curve(np.arange(40), np.zeros(40, bool), np.arange(40) < 4).assign(ordering="any")
    points = points_at(curve)
    assert points.reviewed.tolist() == [2, 4, 8] and points.errors_left.tolist() == [2, 0, 0]


def test_a_calibrated_score_has_slope_one_and_an_extreme_one_below():
    rng = np.random.default_rng(0)
    score = rng.uniform(0.02, 0.98, 4000)
    outcome = rng.uniform(size=score.size) < score
    row = calibration_row(score, outcome)
    assert row["slope_lo"] < 1 < row["slope_hi"] and abs(row["intercept"]) < 0.15
    log_odds = np.log(score / (1 - score))
    assert calibration_row(1 / (1 + np.exp(-2 * log_odds)), outcome)["slope"] == pytest.approx(0.5, abs=0.1)


@pytest.fixture(scope="module")
def reference():
    """The committed reference labels of the demo run, with their roles, and the demo's truth by part."""
    labels = read_labels(DEMO_DIR / "reference_labels.csv")
    labels["role"] = labels.model.map(ROLES).fillna(Role.MODEL)
    truth = read_truth(DEMO_DIR / "ground_truth.csv").merge(read_split(DEMO_DIR / "split.csv"))
    return labels, truth[truth.split == DEV], truth[truth.split == TEST]


def test_the_chosen_label_set_is_the_best_on_development_that_does_not_read_the_rules(reference):
    labels, development, _ = reference
    chosen, because = choose_label_set(labels, development)
    assert chosen == "qwen2.5-coder:1.5b" and BASELINE not in because.split("(")[-1]
    assert "rules" in set(labels.model)  # it would have won: F1 1.000 there


def test_the_shipped_priority_loads_and_applies_to_the_reference_labels(reference):
    labels, _, _ = reference
    model = load_priority(load_run("embedded"))
    assert model.label_set in set(labels.model)
    applied = with_priority(labels, model)
    assert applied.review_priority.between(0, 1).all()
    assert (applied.groupby("report_id").review_priority.nunique() == 1).all()
    assert applied.report_id.nunique() == 390 and len(applied) == len(labels)


def test_every_shipped_run_reviews_one_of_its_own_label_sets():
    for path in RUNS_DIR.glob("*.yaml"):
        if path.name == RUN_BASE:
            continue
        run = load_run(path.stem)
        model = load_priority(run)
        assert model is not None and (REVIEW_PRIORITY_DIR / f"{run.review.priority}.yaml").is_file()
        assert model.label_set in {*run.tags, ENSEMBLE}, path.name


def test_the_review_budget_of_the_reference_run(reference, tmp_path):
    labels, development, test = reference
    chosen, because = choose_label_set(labels, development)
    model = fit_priority(labels, development, chosen, because)
    budget = review_budget(with_priority(labels, model), test, development, model, Bootstrap(resamples=100))
    assert set(budget.curves.ordering) == {PRIORITY, WITHOUT_RULES, CURRENT, RANDOM}
    scored = test[test.extravasation != "Undefined"]
    assert budget.reports == len(scored) and budget.curves.reviewed.max() == len(scored)
    start = budget.curves[budget.curves.reviewed == 0]
    assert (start.errors_left == budget.errors).all()
    assert (budget.curves[budget.curves.reviewed == len(scored)].errors_left == 0).all()
    assert set(budget.calibration.part) == {"development", "test"}
    paths = write_review_budget(budget, tmp_path, {PRIORITY: "reads the rules"})
    markdown = (tmp_path / "review_budget.md").read_text()
    assert "10%" in markdown and "review priority†" in markdown and "### Calibration" in markdown
    assert {path.name for path in paths} == {"review_budget.csv", "review_budget.md", "review_budget_curves.csv"}


def test_hand_written_truth_scores_only_yes_and_no():
    """An Undefined truth is left out of the fit, as Table 1A leaves it out."""
    labels = hand_labels()
    truth = truth_frame({"report_id": ["r1", "r2", "r3"], "extravasation": ["Yes", "No", "Undefined"],
                         "locations": ["", "", ""]})
    model = fit_priority(labels, truth, A, "by hand")
    assert "2 scored development reports" in model.fitted_on and "wrong 1 times" in model.fitted_on


def test_labeling_writes_the_priority_on_every_row(tmp_path):
    """``label`` with the rules alone (no server): a run whose priority reviews the rules writes one
    priority per report on every row; the same run without a priority model writes NaN."""
    reports = pd.DataFrame({"report_id": ["a", "b"], "report_text": [
        "IMPRESSION: Active extravasation from the spleen.", "IMPRESSION: No active extravasation."]})
    run = load_run("embedded")
    reviewing_rules = run.model_copy(update={"review": Review(priority="embedded", label_set=BASELINE)})
    labels, manifest = run_labels(reports, tmp_path / "with", run=reviewing_rules, models=[BASELINE])
    assert labels.review_priority.between(0, 1).all() and len(labels) == 2
    assert manifest.stage2.review_priority["label_set"] == BASELINE
    written = read_labels(tmp_path / "with" / "labels.csv")
    assert written.review_priority.tolist() == pytest.approx(labels.review_priority.tolist())
    without = run.model_copy(update={"review": Review()})
    labels, _ = run_labels(reports, tmp_path / "without", run=without, models=[BASELINE])
    assert labels.review_priority.isna().all()


def test_a_priority_file_with_an_unknown_feature_is_refused(tmp_path, monkeypatch):
    (tmp_path / "mine.yaml").write_text("label_set: a\nchosen_because: x\nfitted_on: x\nregularisation: 1\n"
                                        "intercept: 0\ncoefficients: {closeness: 1, report_length: 2}\n")
    monkeypatch.setattr(priority_module, "REVIEW_PRIORITY_DIR", tmp_path)
    with pytest.raises(SpecError, match="report_length"):
        priority_module.read_priority("mine")
