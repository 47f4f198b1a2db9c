"""The paired bootstrap, the intervals, McNemar's test, κ and calibration on labels built by hand (no model involved)."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import cohen_kappa_score, f1_score, roc_auc_score

from analysis.data.io import DataError
from analysis.data.vocabulary import Status
from analysis.evaluation.bootstrap import auc_statistic, f1_statistic, resample_weights
from analysis.evaluation.calibration import calibration_table
from analysis.evaluation.categories import by_category
from analysis.evaluation.comparisons import (
    agreement_table,
    cohen_table,
    fleiss_kappa_of,
    mcnemar_mid_p,
    mcnemar_table,
    paired_differences,
)
from analysis.evaluation.intervals import BCA, PERCENTILE, bootstrap_interval, exact_proportion, f1_bound
from analysis.evaluation.metrics import table1a
from analysis.specs import Bootstrap
from tests.frames import labels_frame

FAST = Bootstrap(resamples=300, seed=11)  # enough to exercise the intervals; the machine is shared


def random_labels(models=("a", "b", "ensemble"), n_reports=80, seed=0):
    """Truth and noisy answers with scores: a fixed, unremarkable sample to resample."""
    rng = np.random.default_rng(seed)
    truth = pd.DataFrame({
        "report_id": [f"r{i}" for i in range(n_reports)],
        "extravasation": rng.choice(["Yes", "No", "Undefined"], n_reports, p=[0.4, 0.5, 0.1]), "locations": "",
    })
    rows = []
    for model in models:
        for report_id, answer in zip(truth.report_id, truth.extravasation):
            wrong = rng.random() < 0.2
            said = ("No" if answer == "Yes" else "Yes") if wrong else answer
            rows.append((report_id, model, said, "", float(np.clip((said == "Yes") * 0.6 + rng.random() * 0.4, 0, 1)), ""))
    return labels_frame(rows), truth


def test_resampling_is_reproducible_and_draws_every_report_count_once_per_replicate():
    weights = resample_weights(50, 200, seed=7)
    assert weights.shape == (200, 50) and (weights.sum(axis=1) == 50).all()
    assert np.array_equal(weights, resample_weights(50, 200, seed=7))
    assert not np.array_equal(weights, resample_weights(50, 200, seed=8))


def test_statistics_of_every_report_once_equal_scikit_learns():
    rng = np.random.default_rng(2)
    actual = rng.random(40) < 0.4
    predicted = rng.random(40) < 0.5
    scores = rng.choice([0.1, 0.3, 0.5, 0.7], size=40)  # ties, which count one half
    assert f1_statistic(predicted, actual)(np.ones((1, 40)))[0] == pytest.approx(f1_score(actual, predicted))
    scores[:3] = np.nan  # reports without a score are left out
    expected = roc_auc_score(actual[3:], scores[3:])
    assert auc_statistic(scores, actual)(np.ones((1, 40)))[0] == pytest.approx(expected)


def test_a_resample_where_a_statistic_is_undefined_is_left_out_not_counted_as_zero():
    # Two reports, one of each class: about half of the resamples hold one class, where the AUC is undefined.
    statistic = auc_statistic(np.array([0.9, 0.1]), np.array([True, False]))
    replicates = statistic(resample_weights(2, 200, 4))
    assert 0 < np.isnan(replicates).sum() < 200
    estimate, interval = bootstrap_interval(statistic, 2, Bootstrap(resamples=200, seed=4))
    assert estimate == 1.0 and interval.low == interval.high == 1.0  # every defined resample ranks the positive first


def test_clopper_pearson_by_hand():
    # 82 of 82: the lower bound solves P(X = 82 | p) = 0.025, p = 0.025 ** (1 / 82) = 0.956.
    value, interval = exact_proportion(82, 82, 0.95)
    assert (value, round(interval.low, 3), interval.high) == (1.0, 0.956, 1.0)
    # 0 of 10: upper bound 1 - 0.025 ** (1 / 10) = 0.308.
    value, interval = exact_proportion(0, 10, 0.95)
    assert (value, interval.low) == (0.0, 0.0) and interval.high == pytest.approx(1 - 0.025 ** 0.1)
    # 7 of 20, against the beta quantiles that define the interval.
    _, interval = exact_proportion(7, 20, 0.95)
    assert interval.low == pytest.approx(stats.beta.ppf(0.025, 7, 14)) and interval.high == pytest.approx(stats.beta.ppf(0.975, 8, 13))
    value, interval = exact_proportion(0, 0, 0.95)
    assert np.isnan(value) and np.isnan(interval.low) and interval.method == ""


def test_bca_matches_scipy_on_a_statistic_scipy_resamples_itself():
    """Our BCa is scipy's arithmetic on our paired replicates: on the same replicates, a hand-run of scipy agrees."""
    rng = np.random.default_rng(5)
    actual, predicted = rng.random(60) < 0.4, rng.random(60) < 0.45
    statistic = f1_statistic(predicted, actual)
    bootstrap = Bootstrap(resamples=400, seed=9)
    estimate, interval = bootstrap_interval(statistic, 60, bootstrap)
    assert interval.method == BCA and interval.low < estimate < interval.high
    replicates = statistic(resample_weights(60, 400, 9))

    class Given:
        bootstrap_distribution = replicates[~np.isnan(replicates)]

    by_scipy = stats.bootstrap((np.arange(60),), lambda drawn: f1_score(actual[drawn], predicted[drawn]), n_resamples=0,
                               vectorized=False, method="BCa", bootstrap_result=Given()).confidence_interval
    assert (interval.low, interval.high) == pytest.approx((by_scipy.low, by_scipy.high))


def test_a_degenerate_bootstrap_falls_back_to_percentile_and_f1_to_its_exact_bound():
    # Every report right: every resample gives F1 1, where BCa is undefined.
    actual = np.array([True] * 10 + [False] * 10)
    _, interval = bootstrap_interval(f1_statistic(actual, actual), 20, FAST)
    assert interval.method == PERCENTILE and interval.low == interval.high == 1.0
    bound = f1_bound(tp=10, fp=0, fn=0, confidence=0.95)
    halved = exact_proportion(10, 10, 0.975)[1].low  # precision's and recall's lower bounds, at half the error rate
    assert bound.low == pytest.approx(halved) and bound.high == 1.0


def test_table1a_intervals_are_reproducible_and_move_with_the_seed():
    labels, truth = random_labels()
    table = table1a(labels, truth, FAST)
    pd.testing.assert_frame_equal(table, table1a(labels, truth, FAST))
    other_seed = table1a(labels, truth, Bootstrap(resamples=300, seed=12))
    assert not np.array_equal(table.f1_lo.to_numpy(), other_seed.f1_lo.to_numpy())
    for metric in ("precision", "recall", "specificity", "npv", "accuracy", "f1", "auc"):
        assert (table[f"{metric}_lo"] < table[f"{metric}_hi"]).all(), metric


def test_a_model_differs_from_an_identical_copy_by_exactly_zero():
    labels, truth = random_labels(models=("a", "b"))
    copy = labels[labels.model == "a"].assign(model="a copy")
    differences = paired_differences(pd.concat([labels, copy]), truth, FAST)
    with_copy = differences[(differences.model_a == "a") & (differences.model_b == "a copy")]
    assert with_copy.metric.tolist() == ["f1", "accuracy"]
    assert (with_copy[["difference", "difference_lo", "difference_hi"]] == 0).all().all()


def test_paired_differences_match_table1a_and_mark_the_ensemble_and_noted_label_sets():
    labels, truth = random_labels(models=("a", "b", "ensemble", "rules"))
    differences = paired_differences(labels, truth, FAST, notes={"rules": "developed here"})
    table = table1a(labels, truth, FAST).set_index("model")
    for row in differences.itertuples():
        assert row.difference == pytest.approx(table.loc[row.model_a, row.metric] - table.loc[row.model_b, row.metric])
        assert row.difference_method == BCA
    notes = differences.drop_duplicates(["model_a", "model_b"]).set_index(["model_a", "model_b"]).note
    assert notes[("a", "b")] == ""
    assert notes[("a", "ensemble")] == "the ensemble is a vote of a: not independent"
    assert notes[("a", "rules")] == "developed here"


def test_mcnemar_mid_p_on_a_hand_built_table_and_holm_across_the_family():
    # 12 reports, all truly Yes: both right on 5, only a on 4, only b on 1, both wrong on 2.
    a = ["Yes"] * 5 + ["Yes"] * 4 + ["No"] * 1 + ["No"] * 2
    b = ["Yes"] * 5 + ["No"] * 4 + ["Yes"] * 1 + ["Undefined"] * 2
    ids = [f"r{i}" for i in range(12)]
    labels = labels_frame([(r, "a", x, "", None, "") for r, x in zip(ids, a)] + [(r, "b", x, "", None, "") for r, x in zip(ids, b)])
    truth = pd.DataFrame({"report_id": ids, "extravasation": "Yes", "locations": ""})
    row = mcnemar_table(labels, truth).iloc[0]
    assert (row.both_correct, row.only_a_correct, row.only_b_correct, row.both_wrong) == (5, 4, 1, 2)
    # 1 of 5 discordant pairs against a fair coin: exact 2 * P(X <= 1) = 12/32; mid-p less P(X = 1) = 5/32: 7/32.
    assert row.p_exact == pytest.approx(12 / 32) and row.p_mid == pytest.approx(7 / 32)
    assert mcnemar_mid_p(0, 0) == (1.0, 1.0)
    family = mcnemar_table(*random_labels(models=("a", "b", "c")))
    ordered = family.sort_values("p_mid")
    # Holm: the smallest of three p-values is multiplied by 3, the next by 2 (and never falls below the one before).
    assert ordered.p_holm.iloc[0] == pytest.approx(min(1, 3 * ordered.p_mid.iloc[0]))
    assert (family.p_holm >= family.p_mid).all()


def test_fleiss_kappa_with_its_interval_leaves_out_the_ensemble_and_reports_not_sent():
    per_report = [("Yes", "Yes", "Yes"), ("No", "No", "No"), ("Yes", "No", "No"), ("Undefined", "Undefined", "No"),
                  ("No", "Yes", "No"), ("Yes", "Yes", "No")] * 4
    rows = [(f"r{i}", model, x, "", None, "") for i, answers in enumerate(per_report) for model, x in zip("abc", answers)]
    rows += [(f"r{i}", "ensemble", "Yes", "", None, "") for i in range(len(per_report))]  # would change κ if it counted
    # A report sent to no model: every answer Undefined by rule, which would inflate the agreement.
    rows += [("unsent", model, "Undefined", "", None, "no impression section", Status.NOT_SENT) for model in ("a", "b", "c", "ensemble")]
    labels = labels_frame(rows)
    truth = pd.DataFrame({"report_id": [f"r{i}" for i in range(len(per_report))] + ["unsent"], "extravasation": "No",
                          "locations": ""})
    row = agreement_table(labels, truth, FAST).iloc[0]
    sent = labels[labels.report_id != "unsent"]
    assert (row.models, row.n_reports, row.n_not_sent) == ("a; b; c", len(per_report), 1)
    assert row.fleiss_kappa == pytest.approx(fleiss_kappa_of(sent, ["a", "b", "c"]))  # statsmodels on the same reports
    assert row.fleiss_kappa_lo < row.fleiss_kappa < row.fleiss_kappa_hi


def test_cohen_kappa_against_the_truth_equals_scikit_learns():
    labels, truth = random_labels(models=("a",))
    scored = truth[truth.extravasation != "Undefined"]
    said = labels.set_index("report_id").loc[scored.report_id].extravasation
    row = cohen_table(labels, truth, FAST).iloc[0]
    assert row.cohen_kappa == pytest.approx(cohen_kappa_score(scored.extravasation, said))
    assert row.cohen_kappa_lo < row.cohen_kappa < row.cohen_kappa_hi and row.n == len(scored)


def test_calibration_of_well_and_badly_calibrated_scores():
    rng = np.random.default_rng(8)
    scores = rng.uniform(0.02, 0.98, 400)
    truth_yes = rng.random(400) < scores  # calibrated by construction
    ids = [f"r{i}" for i in range(400)]
    truth = pd.DataFrame({"report_id": ids, "extravasation": np.where(truth_yes, "Yes", "No"), "locations": ""})
    labels = labels_frame(list(zip(ids, ["good"] * 400, ["No"] * 400, [""] * 400, scores, [""] * 400))
                          + list(zip(ids, ["extreme"] * 400, ["No"] * 400, [""] * 400,
                                     1 / (1 + np.exp(-3 * np.log(scores / (1 - scores)))), [""] * 400)))
    table = calibration_table(labels, truth).set_index("model")
    assert table.loc["good", "brier"] == pytest.approx(np.mean((scores - truth_yes) ** 2))
    assert table.loc["good", "slope_lo"] < 1 < table.loc["good", "slope_hi"]
    assert table.loc["good", "intercept_lo"] < 0 < table.loc["good", "intercept_hi"]
    assert table.loc["extreme", "slope_hi"] < 1  # logits three times too large: slope near 1/3


def test_accuracy_by_kind_of_report_counts_support_and_errors():
    labels = labels_frame([("r1", "m", "Yes", "", None, ""), ("r2", "m", "Yes", "", None, ""),
                           ("r3", "m", "No", "", None, ""), ("r4", "m", "No", "", None, ""), ("r5", "m", "No", "", None, "")])
    truth = pd.DataFrame({"report_id": ["r1", "r2", "r3", "r4", "r5"],
                          "extravasation": ["Yes", "No", "No", "Undefined", "No"], "locations": ""})
    features = pd.DataFrame({"report_id": ["r1", "r2", "r3", "r4", "r5"], "template": "t",
                             "hard_cases": [["multi_site"], ["negated", "pseudoaneurysm_or_contained"], ["negated"],
                                            ["hedged"], ["findings_only"]]})
    table = by_category(labels, truth, features).set_index("category")
    assert table.loc["negated", ["support", "positives", "errors"]].tolist() == [2, 0, 1]
    assert table.loc["negated", "accuracy"] == 0.5 and table.loc["multi_site", "f1"] == 1.0
    assert "hedged" not in table.index  # r4's truth is Undefined: not scored
    assert table.loc["pseudoaneurysm_or_contained", "f1"] == 0.0  # a false Yes: F1 is 0
    assert np.isnan(table.loc["findings_only", "f1"])  # no positive, no Yes: F1 is n/a


def test_paired_statistics_refuse_labels_that_lose_a_report_or_hold_two():
    labels, truth = random_labels(models=("a", "b"))
    truth = truth[truth.extravasation != "Undefined"]
    incomplete = labels[~((labels.model == "b") & (labels.report_id == truth.report_id.iloc[3]))]
    for statistic in (mcnemar_table, lambda lab, tru: paired_differences(lab, tru, FAST)):
        with pytest.raises(DataError, match="model b has no label for 1 report"):
            statistic(incomplete, truth)
    with pytest.raises(DataError, match="model a has more than one label"):
        mcnemar_table(pd.concat([labels, labels.iloc[[0]]]), truth)
