"""Prompt variants compared, and decisions from ``p_yes``, with paired bootstrap intervals.

Both compare several ways of labeling the same reports: each becomes a
"model" of one labels frame (``qwen2.5-coder:1.5b · guideline``), so that
Table 1A's metrics and the paired differences of ``analysis.statistics``
apply unchanged, with the same resampled reports for every column.

Variants: each stage-1 task file (``analysis/tasks/extravasation_<variant>.yaml``)
labels the test split; the difference from the study's zero-shot prompt is
the variant's F1 minus zero-shot's, paired over reports.

Thresholds: the tables keep the plain answer (the likeliest of Yes, No and
Undefined). A threshold on ``p_yes`` chosen on the development split (the
one that maximises F1 there) and applied unchanged to the test split shows
what a decision from the score would give, without looking at the test reports.
"""

import numpy as np
import pandas as pd

from analysis.data import POSITIVE
from analysis.metrics import table1a
from analysis.specs import Bootstrap
from analysis.statistics import is_positive, paired_differences, paired_labels

REFERENCE = "zeroshot"  # the study's prompt, which every variant is compared with
SEPARATOR = " · "


def _named(labels: pd.DataFrame, suffix: str) -> pd.DataFrame:
    return labels.assign(model=labels.model + SEPARATOR + suffix)


def _compare(columns: pd.DataFrame, truth: pd.DataFrame, pairs: list[tuple[str, str]], bootstrap: Bootstrap):
    """Table 1A of every column (indexed by column), and the F1 difference a − b of each pair, paired over ``truth``'s reports.

    In ``columns`` every ``a`` of a pair comes before its ``b``, the order in
    which ``paired_differences`` subtracts.
    """
    settings = (bootstrap.resamples, bootstrap.seed, bootstrap.confidence)
    metrics = table1a(columns, truth, *settings).set_index("model")
    differences = paired_differences(columns, truth, *settings, metrics=("f1",)).set_index(["model_a", "model_b"])
    return metrics, differences.loc[pairs, ["difference", "difference_lo", "difference_hi"]].reset_index()


def compare_variants(labels_by_variant: dict[str, pd.DataFrame], truth: pd.DataFrame, bootstrap: Bootstrap,
                     reference: str = REFERENCE) -> pd.DataFrame:
    """One row per model and variant: F1, precision, recall and the AUC of ``p_yes`` with intervals, and the F1 difference from ``reference``.

    ``labels_by_variant`` maps a variant name to its stage-1 labels (the
    ensemble included); every variant must label the reports of ``truth``.
    """
    # The reference last: each variant's columns come before the one it is compared with.
    order = sorted(labels_by_variant, key=lambda variant: variant == reference)
    columns = pd.concat([_named(labels_by_variant[variant], variant) for variant in order], ignore_index=True)
    models = list(dict.fromkeys(m for labels in labels_by_variant.values() for m in labels.model))
    pairs = [
        (f"{model}{SEPARATOR}{variant}", f"{model}{SEPARATOR}{reference}")
        for variant in labels_by_variant if variant != reference and reference in labels_by_variant for model in models
    ]
    metrics, differences = _compare(columns, truth, pairs, bootstrap)
    differences = differences.set_index("model_a")
    rows = []
    for variant in labels_by_variant:
        for model in models:
            column = f"{model}{SEPARATOR}{variant}"
            row = metrics.loc[column]
            rows.append({
                "model": model, "variant": variant, "n": int(row.n), "n_undefined": int(row.n_undefined),
                **{k: row[k] for k in ("f1", "f1_lo", "f1_hi", "precision", "precision_lo", "precision_hi",
                                       "recall", "recall_lo", "recall_hi", "auc", "auc_lo", "auc_hi")},
                **({k: differences.loc[column, k] for k in ("difference", "difference_lo", "difference_hi")}
                   if column in differences.index else {"difference": np.nan, "difference_lo": np.nan, "difference_hi": np.nan}),
            })
    table = pd.DataFrame(rows)
    table.attrs |= {"bootstrap": bootstrap.model_dump(), "reference": reference}
    return table


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
    return pd.Series(np.where(labels.p_yes.to_numpy(dtype=float) >= cut, POSITIVE, "No"), index=labels.index)


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
        columns.append(_named(answers.assign(extravasation=decide_by_threshold(answers, chosen[model])), "threshold"))
        columns.append(_named(answers, "answer"))
    columns = pd.concat(columns, ignore_index=True)
    pairs = [(f"{m}{SEPARATOR}threshold", f"{m}{SEPARATOR}answer") for m in chosen]
    metrics, differences = _compare(columns, test, pairs, bootstrap)
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
