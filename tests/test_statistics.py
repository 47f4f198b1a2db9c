"""The paired bootstrap, McNemar's test and Fleiss' κ on labels built by hand (no model involved)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from analysis.data.io import DataError
from analysis.evaluation.bootstrap import (
    BINARY_METRICS,
    bootstrap_auc,
    percentile_interval,
    rates_from_counts,
    resample_weights,
    weighted_counts,
)
from analysis.evaluation.comparisons import agreement_table, fleiss_kappa_of, mcnemar_table, paired_differences
from analysis.evaluation.metrics import binary_metrics, table1a
from tests.frames import labels_frame

RESAMPLES = 200  # enough to exercise the intervals; the machine is shared


def random_labels(models=("a", "b", "ensemble"), n_reports=60, seed=0):
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
            rows.append((report_id, model, ("No" if answer == "Yes" else "Yes") if wrong else answer, "", rng.random(), ""))
    return labels_frame(rows), truth


def test_resampling_is_reproducible_and_draws_every_report_count_once_per_replicate():
    weights = resample_weights(50, RESAMPLES, seed=7)
    assert weights.shape == (RESAMPLES, 50)
    assert (weights.sum(axis=1) == 50).all()
    assert np.array_equal(weights, resample_weights(50, RESAMPLES, seed=7))
    assert not np.array_equal(weights, resample_weights(50, RESAMPLES, seed=8))


def test_counting_every_report_once_gives_scikit_learns_values():
    _, truth = random_labels()
    rng = np.random.default_rng(1)
    predicted = rng.choice(["Yes", "No", "Undefined"], size=(len(truth), 3))
    actual = truth.extravasation.to_numpy() == "Yes"
    rates = rates_from_counts(*weighted_counts(np.ones((1, len(truth))), predicted == "Yes", actual))
    for column in range(3):
        expected = binary_metrics(predicted[:, column], truth.extravasation)
        for metric in BINARY_METRICS:
            assert rates[metric][0, column] == pytest.approx(expected[metric])


def test_zero_division_gives_zero_like_scikit_learn():
    rates = rates_from_counts(*weighted_counts(np.ones((1, 3)), np.zeros((3, 1), dtype=bool), np.array([True, False, False])))
    assert (rates["precision"][0, 0], rates["recall"][0, 0], rates["f1"][0, 0]) == (0.0, 0.0, 0.0)


def test_weighted_auc_equals_scikit_learn_on_the_reports_drawn():
    rng = np.random.default_rng(2)
    scores = rng.choice([0.1, 0.3, 0.5, 0.7], size=40)  # ties, which count one half
    scores[:3] = np.nan
    actual = rng.random(40) < 0.4
    replicates = bootstrap_auc(scores[:, None], actual, RESAMPLES, seed=3)
    weights = resample_weights(40, RESAMPLES, seed=3).astype(int)
    for replicate in range(5):
        drawn = np.repeat(np.arange(40), weights[replicate])
        drawn = drawn[~np.isnan(scores[drawn])]
        assert replicates[replicate, 0] == pytest.approx(roc_auc_score(actual[drawn], scores[drawn]))


def test_a_replicate_with_one_class_has_no_auc_and_is_skipped():
    replicates = bootstrap_auc(np.array([[0.9], [0.1]]), np.array([True, False]), RESAMPLES, seed=4)
    one_class = np.isnan(replicates[:, 0])
    assert 0 < one_class.sum() < RESAMPLES  # about half of the draws of two reports repeat one of them
    lower, upper = percentile_interval(replicates, 0.95)
    assert lower[0] == upper[0] == 1.0  # every defined replicate ranks the positive first


def test_an_interval_without_any_defined_replicate_is_nan():
    lower, upper = percentile_interval(np.full((RESAMPLES, 2), np.nan), 0.95)
    assert np.isnan(lower).all() and np.isnan(upper).all()


def test_table1a_intervals_are_reproducible_and_contain_the_estimate():
    labels, truth = random_labels()
    table = table1a(labels, truth, resamples=RESAMPLES, seed=11)
    pd.testing.assert_frame_equal(table, table1a(labels, truth, resamples=RESAMPLES, seed=11))
    other_seed = table1a(labels, truth, resamples=RESAMPLES, seed=12)
    assert not np.array_equal(table.f1_lo.to_numpy(), other_seed.f1_lo.to_numpy())
    for metric in [*BINARY_METRICS, "auc"]:
        assert (table[f"{metric}_lo"] <= table[metric]).all() and (table[metric] <= table[f"{metric}_hi"]).all(), metric
        assert (table[f"{metric}_lo"] < table[f"{metric}_hi"]).all(), metric


def test_a_model_differs_from_an_identical_copy_by_exactly_zero():
    labels, truth = random_labels(models=("a", "b"))
    copy = labels[labels.model == "a"].assign(model="a copy")
    differences = paired_differences(pd.concat([labels, copy]), truth, resamples=RESAMPLES, seed=5)
    with_copy = differences[(differences.model_a == "a") & (differences.model_b == "a copy")]
    assert with_copy.metric.tolist() == ["f1", "accuracy"]
    assert (with_copy[["difference", "difference_lo", "difference_hi"]] == 0).all().all()


def test_paired_differences_match_table1a_and_are_reproducible():
    labels, truth = random_labels()
    differences = paired_differences(labels, truth, resamples=RESAMPLES, seed=5)
    assert differences[["model_a", "model_b"]].drop_duplicates().values.tolist() == [["a", "b"], ["a", "ensemble"], ["b", "ensemble"]]
    table = table1a(labels, truth, resamples=RESAMPLES).set_index("model")
    for row in differences.itertuples():
        assert row.difference == pytest.approx(table.loc[row.model_a, row.metric] - table.loc[row.model_b, row.metric])
        assert row.difference_lo <= row.difference <= row.difference_hi
    pd.testing.assert_frame_equal(differences, paired_differences(labels, truth, resamples=RESAMPLES, seed=5))


def test_mcnemar_on_a_hand_built_table():
    # 12 reports, all truly Yes: both right on 5, only a on 4, only b on 1, both wrong on 2.
    a = ["Yes"] * 5 + ["Yes"] * 4 + ["No"] * 1 + ["No"] * 2
    b = ["Yes"] * 5 + ["No"] * 4 + ["Yes"] * 1 + ["Undefined"] * 2
    ids = [f"r{i}" for i in range(12)]
    labels = labels_frame([(r, "a", x, "", None, "") for r, x in zip(ids, a)] + [(r, "b", x, "", None, "") for r, x in zip(ids, b)])
    truth = pd.DataFrame({"report_id": ids, "extravasation": "Yes", "locations": ""})
    row = mcnemar_table(labels, truth).iloc[0]
    assert (row.model_a, row.model_b) == ("a", "b")
    assert (row.both_correct, row.only_a_correct, row.only_b_correct, row.both_wrong) == (5, 4, 1, 2)
    # Exact test: 1 of 5 discordant pairs against a fair coin, two-sided: 2 * P(X <= 1) = 2 * 6/32.
    assert row.statistic == 1 and row.p_value == pytest.approx(0.375)


def test_fleiss_kappa_is_one_under_perfect_agreement():
    answers = ["Yes", "No", "Undefined", "No"]
    labels = labels_frame([(f"r{i}", model, x, "", None, "") for model in "abc" for i, x in enumerate(answers)])
    assert fleiss_kappa_of(labels) == pytest.approx(1.0)


def test_fleiss_kappa_on_a_hand_built_example_leaves_out_the_ensemble():
    per_report = [("Yes", "Yes", "Yes"), ("No", "No", "No"), ("Yes", "No", "No"), ("Undefined", "Undefined", "No")]
    rows = [(f"r{i}", model, x, "", None, "") for i, answers in enumerate(per_report) for model, x in zip("abc", answers)]
    rows += [(f"r{i}", "ensemble", "Yes", "", None, "") for i in range(4)]  # would change κ if it counted
    # Mean agreement per report (1 + 1 + 1/3 + 1/3) / 4 = 2/3; chance (16 + 36 + 4) / 144 = 7/18;
    # κ = (2/3 - 7/18) / (1 - 7/18) = 5/11.
    labels = labels_frame(rows)
    assert fleiss_kappa_of(labels) == pytest.approx(5 / 11)
    assert agreement_table(labels).to_dict("records") == [{"models": "a; b; c", "n_reports": 4, "fleiss_kappa": pytest.approx(5 / 11)}]


def test_fleiss_kappa_refuses_a_missing_answer():
    labels = labels_frame([("r1", "a", "Yes", "", None, ""), ("r1", "b", "No", "", None, ""), ("r2", "a", "No", "", None, "")])
    with pytest.raises(DataError, match="an answer in"):
        fleiss_kappa_of(labels)


def test_paired_statistics_refuse_labels_that_lose_a_report():
    labels, truth = random_labels(models=("a", "b"))
    incomplete = labels[~((labels.model == "b") & (labels.report_id == "r3"))]
    for statistic in (mcnemar_table, lambda lab, tru: paired_differences(lab, tru, resamples=RESAMPLES)):
        with pytest.raises(DataError, match="model b has no label for 1 report"):
            statistic(incomplete, truth)


def test_paired_statistics_refuse_two_labels_for_one_report():
    labels, truth = random_labels(models=("a", "b"))
    with pytest.raises(DataError, match="model a has more than one label"):
        mcnemar_table(pd.concat([labels, labels.iloc[[0]]]), truth)
