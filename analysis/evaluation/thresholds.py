"""Cuts on a probability chosen on the development split and applied unchanged to the test split.

Stage 1: the tables keep the plain answer (the likeliest of Yes, No and
Undefined). The cut on ``p_yes`` that maximises F1 on the development
reports shows what a decision from the score would give, without looking at
the test reports; its F1 on the test split is compared with the plain
answer's, paired over reports.

Stage 2, where the sites were asked one at a time: a site is named where its
probability reaches the run's ``localization.cut``; a cut per site and label set chosen the same way
on the development reports of stage 2 alone shows what tuned cuts would give
on the test reports.
"""

import numpy as np
import pandas as pd

from analysis.data.vocabulary import LOCATIONS, NEGATIVE, POSITIVE
from analysis.evaluation.comparisons import SEPARATOR, as_labeling, compare_labelings
from analysis.evaluation.intervals import Interval, f1_interval
from analysis.evaluation.metrics import gated_scored, location_matrix, site_scores
from analysis.evaluation.scoring import is_positive, paired_labels, scored_truth
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
    development = scored_truth(development)
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
            "model": model, "threshold": chosen[model], "n_development": len(development), "n_test": len(scored_truth(test)),
            "f1_answer": answer.f1, "f1_answer_lo": answer.f1_lo, "f1_answer_hi": answer.f1_hi,
            "f1_threshold": thresholded.f1, "f1_threshold_lo": thresholded.f1_lo, "f1_threshold_hi": thresholded.f1_hi,
            "difference": difference.difference, "difference_lo": difference.difference_lo, "difference_hi": difference.difference_hi,
        })
    table = pd.DataFrame(rows)
    table.attrs["bootstrap"] = bootstrap.model_dump()
    return table


def site_threshold_table(labels: pd.DataFrame, development: pd.DataFrame, test: pd.DataFrame, default_cut: float,
                         bootstrap: Bootstrap) -> pd.DataFrame:
    """Per label set with site probabilities and per site: the cut chosen on the development reports of stage 2
    alone (the gate said Yes, the truth is Yes), and on the test reports of that design the F1 at the default
    cut (``default_cut``, the run's) and at the chosen one, each with its interval. Empty without a development split
    or site probabilities."""
    if scored_truth(development).empty:
        return pd.DataFrame()
    on_development = _stage2_alone(labels, development)
    cuts = site_cuts(labels, development)
    rows = []
    for model, (actual, scores) in _stage2_alone(labels, test).items():
        for column, location in enumerate(LOCATIONS):
            cut, true = cuts[model][location], actual[:, column]
            default = f1_interval(scores[:, column] >= default_cut, true, bootstrap)
            chosen = f1_interval(scores[:, column] >= cut, true, bootstrap) if not np.isnan(cut) else (np.nan, Interval.none())
            rows.append({"model": model, "location": location, "cut": cut, "support": int(true.sum()), "n": len(true),
                         "f1_default": default[0], "f1_default_lo": default[1].low, "f1_default_hi": default[1].high,
                         "f1_default_method": default[1].method, "f1_cut": chosen[0], "f1_cut_lo": chosen[1].low,
                         "f1_cut_hi": chosen[1].high, "f1_cut_method": chosen[1].method})
    table = pd.DataFrame(rows)
    n_development = len(next(iter(on_development.values()))[0]) if on_development else 0
    table.attrs |= {"bootstrap": bootstrap.model_dump(), "default_cut": default_cut, "n_development": n_development}
    return table


def site_cuts(labels: pd.DataFrame, development: pd.DataFrame) -> dict[str, dict[str, float]]:
    """For each label set with site probabilities, each site's cut with the best F1 on the development reports
    of stage 2 alone (the gate said Yes, the truth is Yes); NaN for a site without a true report there."""
    return {model: {location: best_threshold(scores[:, column], actual[:, column])
                    for column, location in enumerate(LOCATIONS)}
            for model, (actual, scores) in _stage2_alone(labels, development).items()}


def _stage2_alone(labels: pd.DataFrame, truth: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """For each label set with site probabilities: the true sites and the probabilities (NaN as 0) of the scored
    reports the gate called Yes whose truth is Yes."""
    scored = scored_truth(truth)
    by_model = paired_labels(labels, scored)
    reports = gated_scored(labels, scored) & is_positive(scored.extravasation)
    actual = location_matrix(scored.locations)[reports]
    found = {}
    for model, answers in by_model.items():
        scores = site_scores(answers)
        if scores is not None:
            found[model] = (actual, np.nan_to_num(scores[reports], nan=0.0))
    return found
