"""Tables 1A and 1B against the ground truth, as the labeling guideline defines them.

Table 1A (stage 1): ``Yes`` is the positive class; ``No``, ``Undefined`` and
invalid answers are negative. The counts of ``Undefined`` and invalid answers
are reported beside the metrics so that a reader sees what the negatives hide.
Point estimates come from scikit-learn; intervals from the paired percentile
bootstrap over reports of ``analysis.evaluation.bootstrap``.

Table 1B (stage 2): per location, a one-vs-rest F1 over the reports whose
ground truth is ``Yes``. A model's sites for a report are its ``locations``
cell; an empty cell (the model was not asked, or named no site) predicts no
site, so a true site there is a false negative.

Both tables record their bootstrap settings in ``table.attrs["bootstrap"]``
for the writers of ``analysis.reporting.tables``.
"""

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    precision_recall_fscore_support,
    roc_auc_score,
)

from analysis.data.io import DataError
from analysis.data.vocabulary import LOCATIONS, Status, split_locations
from analysis.evaluation.bootstrap import (
    BINARY_METRICS,
    DEFAULT_BOOTSTRAP,
    bootstrap_auc,
    bootstrap_binary,
    percentile_interval,
)
from analysis.evaluation.scoring import is_positive, paired_labels

INTERVAL_COLUMNS = [f"{metric}_{bound}" for metric in BINARY_METRICS for bound in ("lo", "hi")]
TABLE1A_COLUMNS = [
    "model", "precision", "recall", "f1", "accuracy", "n", "n_undefined", "n_invalid", "tp", "fp", "fn", "tn",
    *INTERVAL_COLUMNS, "auc", "auc_lo", "auc_hi", "n_scored",
]
TABLE1B_COLUMNS = ["location", "model", "f1", "f1_lo", "f1_hi", "n", "precision", "recall", "support", "predicted"]


def binary_metrics(predicted, truth) -> dict:
    """Metrics of two aligned sequences of answers."""
    y_pred = is_positive(predicted)
    y_true = is_positive(truth)
    precision, recall, f1, _ = precision_recall_fscore_support(
        y_true, y_pred, average="binary", pos_label=True, zero_division=0
    )
    tn, fp, fn, tp = confusion_matrix(y_true, y_pred, labels=[False, True]).ravel()
    return {
        "precision": precision, "recall": recall, "f1": f1, "accuracy": accuracy_score(y_true, y_pred),
        "n": len(y_true), "tp": int(tp), "fp": int(fp), "fn": int(fn), "tn": int(tn),
    }


def roc_auc(scores: np.ndarray, actual: np.ndarray) -> float:
    """ROC AUC of the scores against the truth over the reports that have a score (NaN = none).

    NaN when the scored reports hold one class only (or there are none):
    the AUC is undefined there.
    """
    scored = ~np.isnan(scores)
    if len(np.unique(actual[scored])) < 2:
        return float("nan")
    return float(roc_auc_score(actual[scored], scores[scored]))


def table1a(
    labels: pd.DataFrame, truth: pd.DataFrame,
    resamples: int = DEFAULT_BOOTSTRAP.resamples, seed: int = DEFAULT_BOOTSTRAP.seed, confidence: float = DEFAULT_BOOTSTRAP.confidence,
) -> pd.DataFrame:
    """One row per model (in the order of ``labels``): metrics over every report with ground truth.

    ``auc`` is the ROC AUC of ``p_yes`` against truth == Yes over the
    ``n_scored`` reports that have a ``p_yes`` (a report skipped without a
    model call, or an answer without log-probabilities, has none); it is NaN
    when those reports hold one class only. Compare ``n_scored`` with ``n``
    before reading it: it describes the scored reports, not all of them.
    """
    if truth.empty:
        raise DataError("no reports with ground truth: Table 1A is undefined")
    by_model = paired_labels(labels, truth)
    actual = is_positive(truth.extravasation)
    predicted = np.column_stack([is_positive(answers.extravasation) for answers in by_model.values()])
    scores = np.column_stack([pd.to_numeric(answers.p_yes, errors="coerce").to_numpy(dtype=float) for answers in by_model.values()])
    replicates = bootstrap_binary(predicted, actual, resamples, seed)
    intervals = {metric: percentile_interval(replicates[metric], confidence) for metric in BINARY_METRICS}
    auc_lower, auc_upper = percentile_interval(bootstrap_auc(scores, actual, resamples, seed), confidence)
    rows = []
    for column, (model, answers) in enumerate(by_model.items()):
        rows.append({
            "model": model,
            **binary_metrics(answers.extravasation.to_numpy(), truth.extravasation.to_numpy()),
            "n_undefined": int((answers.extravasation == "Undefined").sum()),
            "n_invalid": int((answers.status == Status.INVALID).sum()),
            **{f"{metric}_lo": intervals[metric][0][column] for metric in BINARY_METRICS},
            **{f"{metric}_hi": intervals[metric][1][column] for metric in BINARY_METRICS},
            "auc": roc_auc(scores[:, column], actual), "auc_lo": auc_lower[column], "auc_hi": auc_upper[column],
            "n_scored": int((~np.isnan(scores[:, column])).sum()),
        })
    table = pd.DataFrame(rows, columns=TABLE1A_COLUMNS)
    table.attrs["bootstrap"] = {"resamples": resamples, "seed": seed, "confidence": confidence}
    return table


def location_matrix(cells) -> np.ndarray:
    """Reports × ``LOCATIONS`` booleans from ``;``-separated cells; a site outside the guideline's list is a DataError."""
    sites = [split_locations(cell) for cell in cells]
    unknown = {site for row in sites for site in row} - set(LOCATIONS)
    if unknown:
        raise DataError(f"unknown location(s) {sorted(unknown)}; allowed: {list(LOCATIONS)}")
    return np.array([[location in row for location in LOCATIONS] for row in sites], dtype=bool).reshape(len(sites), len(LOCATIONS))


def table1b(
    labels: pd.DataFrame, truth: pd.DataFrame,
    resamples: int = DEFAULT_BOOTSTRAP.resamples, seed: int = DEFAULT_BOOTSTRAP.seed, confidence: float = DEFAULT_BOOTSTRAP.confidence,
) -> pd.DataFrame:
    """One row per location (canonical order) and model (order of ``labels``): F1 over the reports whose truth is Yes.

    ``n`` is that number of reports, ``support`` how many of them truly have
    the location, ``predicted`` how many the model names it for. Precision,
    recall and F1 follow scikit-learn with ``zero_division=0``: a location
    nobody has and nobody names scores 0, so read F1 beside ``support``.
    The bootstrap resamples the same reports for every model and location.
    Without any report whose truth is Yes every metric is NaN.
    """
    positives = truth[is_positive(truth.extravasation)]
    by_model = paired_labels(labels, positives)
    models = list(by_model)
    actual = location_matrix(positives.locations)
    predicted = [location_matrix(answers.locations) for answers in by_model.values()]
    # Model-major flat layout: entry m * len(LOCATIONS) + l is model m, location l.
    if len(positives):
        per_model = [precision_recall_fscore_support(actual, sites, average=None, zero_division=0)[:3] for sites in predicted]
        precision, recall, f1 = (np.concatenate(values) for values in zip(*per_model))
        replicates = bootstrap_binary(np.hstack(predicted), np.tile(actual, len(models)), resamples, seed)["f1"]
        f1_lower, f1_upper = percentile_interval(replicates, confidence)
    else:
        precision = recall = f1 = f1_lower = f1_upper = np.full(len(models) * len(LOCATIONS), np.nan)
    rows = []
    for l, location in enumerate(LOCATIONS):
        for m, model in enumerate(models):
            k = m * len(LOCATIONS) + l
            rows.append({
                "location": location, "model": model, "f1": f1[k], "f1_lo": f1_lower[k], "f1_hi": f1_upper[k],
                "n": len(positives), "precision": precision[k], "recall": recall[k],
                "support": int(actual[:, l].sum()), "predicted": int(predicted[m][:, l].sum()),
            })
    table = pd.DataFrame(rows, columns=TABLE1B_COLUMNS)
    table.attrs["bootstrap"] = {"resamples": resamples, "seed": seed, "confidence": confidence}
    return table
