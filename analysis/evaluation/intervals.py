"""Confidence intervals that stay honest at 0 and 1, and say how each was made.

- A proportion (precision, recall, specificity, NPV, accuracy: k of n
  reports) gets the Clopper–Pearson exact interval
  (``scipy.stats.binomtest(k, n).proportion_ci``): it never collapses to a
  point, 82 of 82 gives 0.956–1.000. Without a denominator (0 of 0) there is
  no value and no interval.
- A statistic that is not a proportion (F1, ROC AUC, a κ, a paired
  difference) gets a BCa bootstrap interval (``scipy.stats.bootstrap``,
  computed from the paired replicates of ``analysis.evaluation.bootstrap``,
  with the jackknife over reports for its acceleration). A replicate in
  which the statistic is undefined (e.g. F1 of a resample without a positive
  report or answer) is left out, never counted as 0. Where BCa is undefined
  (a degenerate bootstrap distribution, or too few replicates on one side of
  the estimate) the percentile interval stands in, marked as such.
- F1 when every resample gives the same value (no error, or no hit, among
  the scored reports) has no bootstrap uncertainty to show, although the
  data allow some: its interval then comes from the exact intervals of
  precision and recall, each at half the error rate (Bonferroni), since F1
  rises with both: from the harmonic mean of their lower bounds to that of
  their upper bounds.

Each interval carries its method, one of ``METHODS``, so tables can say
which rows used which.
"""

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis.evaluation.bootstrap import Statistic, f1_statistic, resample_weights, weighted_counts
from analysis.specs import Bootstrap

EXACT, BCA, PERCENTILE, BOUNDED = "exact", "BCa", "percentile", "bound"
METHODS = {
    EXACT: "Clopper–Pearson exact",
    BCA: "BCa bootstrap",
    PERCENTILE: "percentile bootstrap (BCa undefined here)",
    BOUNDED: "from the exact intervals of precision and recall (Bonferroni; every resample gave the same F1)",
}


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    method: str  # a key of METHODS; "" without an interval

    @classmethod
    def none(cls) -> "Interval":
        return cls(np.nan, np.nan, "")


def exact_proportion(successes: int, trials: int, confidence: float) -> tuple[float, Interval]:
    """``successes / trials`` and its Clopper–Pearson interval; NaN and no interval when ``trials`` is 0."""
    if trials == 0:
        return np.nan, Interval.none()
    found = stats.binomtest(int(successes), int(trials)).proportion_ci(confidence_level=confidence, method="exact")
    return successes / trials, Interval(float(found.low), float(found.high), EXACT)


def bootstrap_interval(statistic: Statistic, n_reports: int, bootstrap: Bootstrap) -> tuple[float, Interval]:
    """A statistic of the reports (``analysis.evaluation.bootstrap``) and its BCa interval.

    The replicates are the run's paired resamples (NaN where the statistic
    is undefined in a resample: left out); the acceleration comes from the
    jackknife over reports. Where BCa is undefined the percentile interval
    stands in; without a value, or without a defined replicate, there is no interval.
    """
    if n_reports == 0:
        return np.nan, Interval.none()
    estimate = float(statistic(np.ones((1, n_reports)))[0])
    replicates = statistic(resample_weights(n_reports, bootstrap.resamples, bootstrap.seed))
    defined = replicates[~np.isnan(replicates)]
    if np.isnan(estimate) or not len(defined):
        return estimate, Interval.none()
    found = _bca(statistic, n_reports, defined, bootstrap.confidence) if n_reports > 1 else None
    if found is not None and np.isfinite(found.low) and np.isfinite(found.high):
        return estimate, Interval(float(found.low), float(found.high), BCA)
    tail = 100 * (1 - bootstrap.confidence) / 2
    low, high = np.percentile(defined, [tail, 100 - tail])
    return estimate, Interval(float(low), float(high), PERCENTILE)


def _bca(statistic: Statistic, n_reports: int, replicates: np.ndarray, confidence: float):
    """scipy's BCa interval from ``replicates``, with the jackknife over reports for the acceleration."""
    with warnings.catch_warnings():
        # A degenerate distribution makes scipy warn and return NaN; the caller's percentile interval then stands in.
        warnings.simplefilter("ignore")
        return stats.bootstrap(
            (np.arange(n_reports),), lambda drawn: statistic(np.bincount(drawn, minlength=n_reports)[None, :])[0],
            n_resamples=0, vectorized=False, confidence_level=confidence, method="BCa",
            bootstrap_result=_Distribution(replicates),
        ).confidence_interval


def f1_interval(predicted: np.ndarray, actual: np.ndarray, bootstrap: Bootstrap) -> tuple[float, Interval]:
    """F1 of ``predicted`` against ``actual`` with its BCa interval, or, where every resample gives the same F1
    (no error, or no hit), the bound from the exact intervals of precision and recall."""
    estimate, interval = bootstrap_interval(f1_statistic(predicted, actual), len(actual), bootstrap)
    if interval.method and interval.low == interval.high:
        tp, fp, fn, _ = (int(count[0]) for count in weighted_counts(np.ones((1, len(actual))), predicted, actual))
        interval = f1_bound(tp, fp, fn, bootstrap.confidence)
    return estimate, interval


def f1_bound(tp: int, fp: int, fn: int, confidence: float) -> Interval:
    """F1's interval from the exact intervals of precision and recall at half the error rate each: F1 rises with
    both, so it lies between the harmonic means of their bounds when both do. An undefined precision or recall
    (no answer, or no truth, of that class) may be anything from 0 to 1."""
    halved = 1 - (1 - confidence) / 2
    precision = exact_proportion(tp, tp + fp, halved)[1]
    recall = exact_proportion(tp, tp + fn, halved)[1]
    lows = [0.0 if np.isnan(i.low) else i.low for i in (precision, recall)]
    highs = [1.0 if np.isnan(i.high) else i.high for i in (precision, recall)]
    return Interval(_harmonic(*lows), _harmonic(*highs), BOUNDED)


def _harmonic(a: float, b: float) -> float:
    return 2 * a * b / (a + b) if a + b > 0 else 0.0


@dataclass
class _Distribution:
    """A bootstrap distribution computed here, handed to scipy for its BCa arithmetic."""

    bootstrap_distribution: np.ndarray
