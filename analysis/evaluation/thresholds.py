"""A cut on ``p_yes`` chosen on the development split and applied unchanged to the test split.

The tables keep the plain answer (the likeliest of Yes, No and Undefined).
The cut that maximises F1 on the development reports shows what a decision
from the score would give, without looking at the test reports; its F1 on
the test split is compared with the plain answer's, paired over reports.
"""

import numpy as np
import pandas as pd

from analysis.data.vocabulary import NEGATIVE, POSITIVE
from analysis.evaluation.comparisons import SEPARATOR, as_labeling, compare_labelings
from analysis.evaluation.scoring import is_positive, paired_labels
from analysis.specs import Bootstrap


def best_threshold(scores: np.ndarray, actual: np.ndarray) -> float:
    """The ``p_yes`` cut (``p_yes >= cut`` is Yes) with the highest F1 over these reports; NaN without scores or positives.

    Reports without a score count as No at every cut. Ties go to the highest
    cut, the most conservative.
    """
    scores, actual = np.asarray(scores, dtype=float), np.asarray(actual, dtype=bool)
    candidates = np.unique(scores[~np.isnan(scores)])[::-1]
    if not len(candidates) or not actual.any():
        return float("nan")
    with np.errstate(invalid="ignore"):
        predicted = scores[None, :] >= candidates[:, None]  # NaN compares False: no score is No
    tp = (predicted & actual).sum(axis=1)
    f1 = 2 * tp / (predicted.sum(axis=1) + actual.sum())
    return float(candidates[np.argmax(f1)])


def decide_by_threshold(labels: pd.DataFrame, cut: float) -> pd.Series:
    """``Yes`` where ``p_yes >= cut``, else ``No`` (also without a score)."""
    return pd.Series(np.where(labels.p_yes.to_numpy(dtype=float) >= cut, POSITIVE, NEGATIVE), index=labels.index)


def threshold_table(labels: pd.DataFrame, development: pd.DataFrame, test: pd.DataFrame, bootstrap: Bootstrap) -> pd.DataFrame:
    """Per model with ``p_yes``: the cut chosen on ``development``, and on ``test`` the F1 of the plain answer and of the cut.

    Models without any score on the development reports (the rule-based
    baseline) are left out; so is everything when there is no development
    split (``development`` empty).
    """
    if development.empty:
        return pd.DataFrame()
    chosen = {}
    for model, answers in paired_labels(labels, development).items():
        cut = best_threshold(answers.p_yes.to_numpy(dtype=float), is_positive(development.extravasation))
        if not np.isnan(cut):
            chosen[model] = cut
    if not chosen:
        return pd.DataFrame()
    on_test = paired_labels(labels[labels.model.isin(chosen)], test)
    columns = []
    for model, answers in on_test.items():
        answers = answers.reset_index()
        columns.append(as_labeling(answers.assign(extravasation=decide_by_threshold(answers, chosen[model])), "threshold"))
        columns.append(as_labeling(answers, "answer"))
    columns = pd.concat(columns, ignore_index=True)
    pairs = [(f"{m}{SEPARATOR}threshold", f"{m}{SEPARATOR}answer") for m in chosen]
    metrics, differences = compare_labelings(columns, test, pairs, bootstrap)
    rows = []
    for model, difference in zip(chosen, differences.itertuples()):
        answer, thresholded = metrics.loc[f"{model}{SEPARATOR}answer"], metrics.loc[f"{model}{SEPARATOR}threshold"]
        rows.append({
            "model": model, "threshold": chosen[model], "n_development": len(development), "n_test": len(test),
            "f1_answer": answer.f1, "f1_answer_lo": answer.f1_lo, "f1_answer_hi": answer.f1_hi,
            "f1_threshold": thresholded.f1, "f1_threshold_lo": thresholded.f1_lo, "f1_threshold_hi": thresholded.f1_hi,
            "difference": difference.difference, "difference_lo": difference.difference_lo, "difference_hi": difference.difference_hi,
        })
    table = pd.DataFrame(rows)
    table.attrs["bootstrap"] = bootstrap.model_dump()
    return table
