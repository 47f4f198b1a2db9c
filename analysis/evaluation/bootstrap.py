"""A paired bootstrap over reports: the same resampled reports for every model, metric and interval.

A replicate draws one multiset of reports, as the count of times each report
is drawn (``resample_weights``), and every statistic here is a function of
such weights (``(k, n_reports)`` counts → ``k`` values), so that the same
function gives the estimate (every report once), the bootstrap replicates
and the jackknife (every report but one) of ``analysis.evaluation.intervals``,
and the replicates of two models are paired: the interval of their
difference accounts for the reports they share. The same ``(n_reports,
resamples, seed)`` gives the same draws everywhere.

A ratio whose denominator is 0 in a replicate (F1 of a resample without a
positive report or answer; AUC of a resample holding one class) is NaN there,
never 0: ``analysis.evaluation.intervals`` leaves such replicates out.
"""

from collections.abc import Callable
from functools import lru_cache

import numpy as np

from analysis.data.io import DataError

# A statistic of weighted reports: (k, n_reports) weights -> k values.
Statistic = Callable[[np.ndarray], np.ndarray]


@lru_cache(maxsize=8)
def resample_weights(n_reports: int, resamples: int, seed: int) -> np.ndarray:
    """How many times each report is drawn in each replicate: ``(resamples, n_reports)`` counts (read-only).

    Drawing counts instead of index lists makes every metric of every model
    a matrix product with the same draws.
    """
    if n_reports < 1:
        raise DataError("no reports to resample")
    draws = np.random.default_rng(seed).integers(0, n_reports, size=(resamples, n_reports))
    offsets = np.arange(resamples)[:, None] * n_reports
    weights = np.bincount((draws + offsets).ravel(), minlength=resamples * n_reports).reshape(resamples, n_reports)
    weights = weights.astype(float)
    weights.flags.writeable = False
    return weights


def weighted_counts(weights: np.ndarray, predicted: np.ndarray, actual: np.ndarray) -> tuple[np.ndarray, ...]:
    """tp, fp, fn, tn of a boolean ``predicted`` against ``actual`` (one bool per report) in every row of ``weights``."""
    predicted = np.asarray(predicted, dtype=float)
    actual = np.asarray(actual, dtype=float)
    tp = weights @ (predicted * actual)
    fp = weights @ (predicted * (1 - actual))
    fn = weights @ ((1 - predicted) * actual)
    tn = weights.sum(axis=1) - tp - fp - fn
    return tp, fp, fn, tn


def ratio(numerator, denominator) -> np.ndarray:
    """``numerator / denominator``, NaN where the denominator is 0: undefined, not zero."""
    numerator, denominator = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    return np.divide(numerator, denominator, out=np.full(np.shape(numerator), np.nan), where=denominator > 0)


def f1_statistic(predicted: np.ndarray, actual: np.ndarray) -> Statistic:
    """F1 of ``predicted`` against ``actual`` on weighted reports: 2tp / (2tp + fp + fn)."""
    def f1(weights: np.ndarray) -> np.ndarray:
        tp, fp, fn, _ = weighted_counts(weights, predicted, actual)
        return ratio(2 * tp, 2 * tp + fp + fn)
    return f1


def accuracy_statistic(predicted: np.ndarray, actual: np.ndarray) -> Statistic:
    def accuracy(weights: np.ndarray) -> np.ndarray:
        tp, fp, fn, tn = weighted_counts(weights, predicted, actual)
        return ratio(tp + tn, tp + fp + fn + tn)
    return accuracy


def auc_statistic(scores: np.ndarray, actual: np.ndarray) -> Statistic:
    """ROC AUC of ``scores`` (NaN: no score, left out) against ``actual`` on weighted reports.

    The Mann–Whitney statistic, P(score of a positive > score of a negative)
    with ties counting one half, each pair weighted by how often its two
    reports are drawn; with every report once it equals scikit-learn's
    ``roc_auc_score`` on the scored reports.
    """
    scores, actual = np.asarray(scores, dtype=float), np.asarray(actual, dtype=bool)
    scored = ~np.isnan(scores)
    positive, negative = scored & actual, scored & ~actual
    wins = (scores[positive][:, None] > scores[negative][None, :]) + 0.5 * (scores[positive][:, None] == scores[negative][None, :])

    def auc(weights: np.ndarray) -> np.ndarray:
        positive_weights, negative_weights = weights[:, positive], weights[:, negative]
        pairs = positive_weights.sum(axis=1) * negative_weights.sum(axis=1)
        return ratio(((positive_weights @ wins) * negative_weights).sum(axis=1), pairs)
    return auc


def difference(a: Statistic, b: Statistic) -> Statistic:
    """``a − b`` on the same weighted reports: paired."""
    return lambda weights: a(weights) - b(weights)
