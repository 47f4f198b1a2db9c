"""Uncertainty and comparisons of models: a paired bootstrap over reports, McNemar's test, Fleiss' κ.

Pairing. Every statistic here is computed on the same reports, in the order
of the ground truth, for every model (``paired_labels``). A bootstrap
replicate draws one multiset of reports (as the count of times each report is
drawn, ``resample_weights``) and evaluates every model on it, so the
replicates of two models are paired and the interval of their difference
accounts for the reports they share. The same ``(n_reports, resamples, seed)``
gives the same draws, so Table 1A's intervals and the paired differences use
the same replicates.

Metrics in a replicate are computed from weighted confusion counts with the
formulas scikit-learn uses and its ``zero_division=0`` convention (a ratio
whose denominator is 0, e.g. precision without predicted positives, is 0),
so the replicate made of every report once equals scikit-learn's value.
A replicate in which a statistic is undefined (ROC AUC when the scored
reports of the draw hold one class only) is NaN and left out of the
percentiles; ``percentile_interval`` skips NaN replicates.

McNemar's exact test and Fleiss' κ come from statsmodels.
"""

import warnings
from itertools import combinations

import numpy as np
import pandas as pd
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

from analysis.data import LABELS, POSITIVE, DataError
from analysis.ensemble import voters
from analysis.specs import Bootstrap

DEFAULT_BOOTSTRAP = Bootstrap()  # the run file's defaults, for callers that pass none
BINARY_METRICS = ("precision", "recall", "f1", "accuracy")


def is_positive(answers) -> np.ndarray:
    """The guideline's binary rule: ``Yes`` is positive; ``No``, ``Undefined`` and invalid answers are not."""
    return np.asarray(answers) == POSITIVE


def paired_labels(labels: pd.DataFrame, truth: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Each model's labels (models in the order of ``labels``), one row per report of ``truth`` in its order.

    A model without a label for a report of the truth, or with two, would
    break the pairing (or silently shrink a table): that is a DataError.
    """
    by_model = {}
    for model in labels.model.unique():
        own = labels[labels.model == model]
        repeated = own.report_id[own.report_id.duplicated() & own.report_id.isin(truth.report_id)]
        if len(repeated):
            raise DataError(f"model {model} has more than one label for report(s) {sorted(set(repeated))[:5]}")
        own = own.set_index("report_id")
        missing = truth.report_id[~truth.report_id.isin(own.index)]
        if len(missing):
            raise DataError(f"model {model} has no label for {len(missing)} report(s) with ground truth, e.g. {missing.tolist()[:5]}")
        by_model[model] = own.loc[truth.report_id]
    return by_model


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


def paired_differences(
    labels: pd.DataFrame, truth: pd.DataFrame,
    resamples: int = DEFAULT_BOOTSTRAP.resamples, seed: int = DEFAULT_BOOTSTRAP.seed, confidence: float = DEFAULT_BOOTSTRAP.confidence,
    metrics: tuple[str, ...] = ("f1", "accuracy"),
) -> pd.DataFrame:
    """Difference of each metric between each pair of models (``model_a − model_b``) with its paired bootstrap interval.

    Pairs follow the order of the models in ``labels``. The point difference
    is computed from the same counts as its replicates (every report once), so
    a model compared with an identical one differs by exactly 0 everywhere.
    """
    by_model = paired_labels(labels, truth)
    models = list(by_model)
    predicted = np.column_stack([is_positive(frame.extravasation) for frame in by_model.values()])
    actual = is_positive(truth.extravasation)
    observed = rates_from_counts(*weighted_counts(np.ones((1, len(actual))), predicted, actual))
    replicates = bootstrap_binary(predicted, actual, resamples, seed)
    rows = []
    for a, b in combinations(range(len(models)), 2):
        for metric in metrics:
            lower, upper = percentile_interval(replicates[metric][:, a] - replicates[metric][:, b], confidence)
            rows.append({
                "model_a": models[a], "model_b": models[b], "metric": metric,
                "value_a": observed[metric][0, a], "value_b": observed[metric][0, b],
                "difference": observed[metric][0, a] - observed[metric][0, b], "difference_lo": lower, "difference_hi": upper,
            })
    table = pd.DataFrame(rows, columns=["model_a", "model_b", "metric", "value_a", "value_b", "difference", "difference_lo", "difference_hi"])
    table.attrs["bootstrap"] = {"resamples": resamples, "seed": seed, "confidence": confidence}
    return table


def mcnemar_table(labels: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """McNemar's exact test between each pair of models on correct/incorrect binary answers, with the 2×2 counts.

    ``statistic`` is statsmodels' exact statistic, the smaller of the two
    discordant counts; with no discordant report the p-value is 1.
    """
    by_model = paired_labels(labels, truth)
    actual = is_positive(truth.extravasation)
    correct = {model: is_positive(frame.extravasation) == actual for model, frame in by_model.items()}
    rows = []
    for a, b in combinations(by_model, 2):
        counts = [
            [int(np.sum(correct[a] & correct[b])), int(np.sum(correct[a] & ~correct[b]))],
            [int(np.sum(~correct[a] & correct[b])), int(np.sum(~correct[a] & ~correct[b]))],
        ]
        result = mcnemar(counts, exact=True)
        rows.append({
            "model_a": a, "model_b": b, "both_correct": counts[0][0], "only_a_correct": counts[0][1],
            "only_b_correct": counts[1][0], "both_wrong": counts[1][1],
            "statistic": float(result.statistic), "p_value": float(result.pvalue),
        })
    return pd.DataFrame(rows, columns=[
        "model_a", "model_b", "both_correct", "only_a_correct", "only_b_correct", "both_wrong", "statistic", "p_value",
    ])


def fleiss_kappa_of(labels: pd.DataFrame, models: list[str] | None = None) -> float:
    """Fleiss' κ of the models' three-way answers (Yes/No/Undefined) on every report they labeled.

    ``models`` defaults to ``voters(labels)``: the LLMs, without the ensemble
    (a function of the others) or the rule-based baseline. Agreement needs no ground truth, so every
    labeled report counts; each model must label each of them once.
    """
    models = voters(labels) if models is None else models
    rated = labels[labels.model.isin(models)]
    repeated = rated.report_id[rated.duplicated(["report_id", "model"])]
    if len(repeated):
        raise DataError(f"Fleiss' κ needs one answer per model and report; repeated: {sorted(set(repeated))[:5]}")
    answers = rated.pivot(index="report_id", columns="model", values="extravasation")
    codes = answers.apply(lambda column: pd.Categorical(column, categories=LABELS).codes).to_numpy()
    if (codes < 0).any():  # a missing answer, or one outside Yes/No/Undefined
        raise DataError(f"Fleiss' κ needs an answer in {LABELS} from each model for each report; models {models}")
    counts, _ = aggregate_raters(codes, n_cat=len(LABELS))
    return float(fleiss_kappa(counts, method="fleiss"))


def agreement_table(labels: pd.DataFrame) -> pd.DataFrame:
    """One row: which models (those that vote), on how many reports, and their Fleiss' κ."""
    models = voters(labels)
    return pd.DataFrame([{
        "models": "; ".join(models),
        "n_reports": labels[labels.model.isin(models)].report_id.nunique(),
        "fleiss_kappa": fleiss_kappa_of(labels, models),
    }])
