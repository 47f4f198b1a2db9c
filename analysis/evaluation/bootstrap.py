"""A paired bootstrap over reports: the same resampled reports for every model, metric and interval.

A bootstrap replicate draws one multiset of reports (as the count of times
each report is drawn, ``resample_weights``) and evaluates every model on it,
so the replicates of two models are paired and the interval of their
difference accounts for the reports they share. The same ``(n_reports,
resamples, seed)`` gives the same draws, so Table 1A's intervals and the
paired differences use the same replicates.

Metrics in a replicate are computed from weighted confusion counts with the
formulas scikit-learn uses and its ``zero_division=0`` convention (a ratio
whose denominator is 0, e.g. precision without predicted positives, is 0),
so the replicate made of every report once equals scikit-learn's value.
A replicate in which a statistic is undefined (ROC AUC when the scored
reports of the draw hold one class only) is NaN and left out of the
percentiles; ``percentile_interval`` skips NaN replicates.
"""

import warnings

import numpy as np

from analysis.data.io import DataError
from analysis.specs import Bootstrap

DEFAULT_BOOTSTRAP = Bootstrap()  # the run file's defaults, for callers that pass none
BINARY_METRICS = ("precision", "recall", "f1", "accuracy")


def resample_weights(n_reports: int, resamples: int, seed: int) -> np.ndarray:
    """How many times each report is drawn in each replicate: ``(resamples, n_reports)`` counts.

    Drawing counts instead of index lists lets every metric of every model be
    a matrix product with the same draws (paired and fast).
    """
    if n_reports < 1:
        raise DataError("no reports to resample")
    draws = np.random.default_rng(seed).integers(0, n_reports, size=(resamples, n_reports))
    offsets = np.arange(resamples)[:, None] * n_reports
    return np.bincount((draws + offsets).ravel(), minlength=resamples * n_reports).reshape(resamples, n_reports).astype(float)


def weighted_counts(weights: np.ndarray, predicted: np.ndarray, actual: np.ndarray) -> tuple[np.ndarray, ...]:
    """tp, fp, fn, tn of every column of ``predicted`` (reports × columns, bool) in every row of ``weights``.

    ``actual`` is one bool per report, or one column per column of ``predicted``.
    """
    predicted = np.asarray(predicted, dtype=float)
    actual = np.broadcast_to(np.asarray(actual, dtype=float).reshape(len(predicted), -1), predicted.shape)
    tp = weights @ (predicted * actual)
    fp = weights @ (predicted * (1 - actual))
    fn = weights @ ((1 - predicted) * actual)
    tn = weights.sum(axis=1, keepdims=True) - tp - fp - fn
    return tp, fp, fn, tn


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    return np.divide(numerator, denominator, out=np.zeros(np.shape(numerator)), where=denominator > 0)


def rates_from_counts(tp, fp, fn, tn) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and accuracy as scikit-learn computes them with ``zero_division=0``."""
    return {
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "accuracy": _ratio(tp + tn, tp + fp + fn + tn),
    }


def bootstrap_binary(predicted: np.ndarray, actual: np.ndarray, resamples: int, seed: int) -> dict[str, np.ndarray]:
    """Replicates of every binary metric: ``{metric: (resamples, columns)}``, paired across columns."""
    weights = resample_weights(len(predicted), resamples, seed)
    return rates_from_counts(*weighted_counts(weights, predicted, actual))


def bootstrap_auc(scores: np.ndarray, actual: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """Replicates of the ROC AUC of each column of ``scores`` (reports × models; NaN = no score): ``(resamples, models)``.

    The AUC is the Mann–Whitney statistic, P(score of a positive > score of a
    negative) with ties counting one half, weighted by how often each report
    is drawn; it equals scikit-learn's ``roc_auc_score`` on the reports drawn.
    Reports without a score are left out; a replicate whose scored reports
    hold one class only is NaN (skipped by ``percentile_interval``).
    """
    scores = np.asarray(scores, dtype=float)
    actual = np.asarray(actual, dtype=bool)
    weights = resample_weights(len(scores), resamples, seed)
    return np.column_stack([_weighted_auc(weights, column, actual) for column in scores.T])


def _weighted_auc(weights: np.ndarray, scores: np.ndarray, actual: np.ndarray) -> np.ndarray:
    scored = ~np.isnan(scores)
    positive, negative = scored & actual, scored & ~actual
    wins = (scores[positive][:, None] > scores[negative][None, :]) + 0.5 * (scores[positive][:, None] == scores[negative][None, :])
    positive_weights, negative_weights = weights[:, positive], weights[:, negative]
    pairs = positive_weights.sum(axis=1) * negative_weights.sum(axis=1)
    concordant = ((positive_weights @ wins) * negative_weights).sum(axis=1)
    return np.divide(concordant, pairs, out=np.full(len(weights), np.nan), where=pairs > 0)


def percentile_interval(replicates: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper percentile bounds over axis 0, NaN replicates skipped (NaN if every replicate is NaN)."""
    tail = 100 * (1 - confidence) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column is an undefined interval, reported as NaN
        lower, upper = np.nanpercentile(replicates, [tail, 100 - tail], axis=0)
    return lower, upper
