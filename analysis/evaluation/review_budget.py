"""The review priority fitted on a development split, and what reviewing in its order buys on the test split.

The label set whose errors the priority estimates is the one with the best
Table-1A F1 on the development reports among those that do not read the
rules (the models and the ensemble: the rules and their combination were
written reading the whole demo corpus, test split included, and would win
there for that reason), unless the run file names one (``review.label_set``).

``fit_priority`` fits the logistic model of ``analysis.labeling.priority``
on the scored development reports: outcome, the chosen label set's Yes /
not-Yes differs from the truth; an L2 penalty of fixed strength
(``REGULARISATION``, scikit-learn's C, not tuned: a development split may
hold only a handful of errors).

The budget curve (``review_budget``): the scored test reports are reviewed
in some order, and a reviewed report takes its true label; after each
report, the errors left of the chosen label set and its F1. Orders: the
priority (highest first); the same model without the rules' features,
fitted on the same development reports; the reviewer sheet's order without a priority
(the closest call first: the smallest |p_yes − 0.5| over the models, the
ensemble aside, reports without any p_yes last); and random order, whose
errors caught are k/n of the errors in expectation and whose F1 is the mean
over seeded random orders, with the central range that holds
``confidence`` of them. Ties keep the truth's order. The priority's
calibration on the test reports (Brier score, calibration intercept and
slope) comes from ``analysis.evaluation.calibration``.

Scored, as in Table 1A: the reports whose truth is Yes or No; a report
whose truth is Undefined is left out of the fit and of every curve.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from analysis.data.vocabulary import Role
from analysis.evaluation.calibration import calibration_row
from analysis.evaluation.metrics import counts
from analysis.evaluation.scoring import is_positive, paired_labels, scored_truth
from analysis.labeling.priority import FEATURES, RULES_FEATURES, PriorityModel, priority_features
from analysis.specs import Bootstrap

REGULARISATION = 1.0  # scikit-learn's default C; every feature lies in [0, 1], so one strength fits all
SHARES = (0.05, 0.10, 0.20)  # shares of the reports reviewed that the table and the README quote
PRIORITY = "review priority"
WITHOUT_RULES = "review priority without the rules' features"
CURRENT = "closest call first (the reviewer sheet before the priority)"
RANDOM = "random order"
ORDERINGS = (PRIORITY, WITHOUT_RULES, CURRENT, RANDOM)


class NothingToFit(ValueError):
    """The chosen label set is right (or wrong) on every scored development report: no model of its errors."""


def f1_score(predicted: np.ndarray, actual: np.ndarray) -> float:
    c = counts(predicted, actual)
    denominator = 2 * c["tp"] + c["fp"] + c["fn"]
    return 2 * c["tp"] / denominator if denominator else float("nan")


def choose_label_set(labels: pd.DataFrame, development: pd.DataFrame) -> tuple[str, str]:
    """The label set with the best F1 on the scored ``development`` reports among the models and the ensemble
    (the first in the labels' order on a tie), and why, in words."""
    scored = scored_truth(development)
    actual = is_positive(scored.extravasation)
    candidates = labels[labels.role.isin([Role.MODEL, Role.ENSEMBLE])]
    f1 = {name: f1_score(is_positive(answers.extravasation), actual)
          for name, answers in paired_labels(candidates, scored).items()}
    best = max(f1, key=lambda name: (f1[name], -list(f1).index(name)))
    return best, (f"the best Table-1A F1 ({f1[best]:.3f}) on the {len(scored)} scored development reports among the "
                  f"label sets that do not read the rules ({', '.join(f'{n} {v:.3f}' for n, v in f1.items())})")


def label_errors(labels: pd.DataFrame, truth: pd.DataFrame, label_set: str) -> tuple[np.ndarray, np.ndarray]:
    """Over the scored reports of ``truth``, in its order: ``label_set``'s Yes, and the truth's Yes."""
    scored = scored_truth(truth)
    answers = paired_labels(labels[labels.model == label_set], scored)[label_set]
    return is_positive(answers.extravasation), is_positive(scored.extravasation)


def fit_priority(labels: pd.DataFrame, development: pd.DataFrame, label_set: str, chosen_because: str,
                 features: tuple[str, ...] = FEATURES, regularisation: float = REGULARISATION) -> PriorityModel:
    """The logistic model of ``label_set``'s errors on the scored ``development`` reports, with ``features``."""
    scored = scored_truth(development)
    predicted, actual = label_errors(labels, scored, label_set)
    wrong = predicted != actual
    if wrong.all() or not wrong.any():
        raise NothingToFit(f"{label_set} is {'wrong' if wrong.any() else 'right'} on every scored development report: "
                           "nothing to fit a priority on")
    x = priority_features(labels, label_set).loc[scored.report_id, list(features)].to_numpy(dtype=float)
    fitted = LogisticRegression(C=regularisation).fit(x, wrong)
    return PriorityModel(
        label_set=label_set, chosen_because=chosen_because, regularisation=regularisation,
        fitted_on=f"the {len(scored)} scored development reports (truth Yes or No), on which {label_set} is wrong "
                  f"{int(wrong.sum())} times",
        intercept=round(float(fitted.intercept_[0]), 6),
        coefficients={name: round(float(value), 6) for name, value in zip(features, fitted.coef_[0])})


def without_rules(model: PriorityModel) -> tuple[str, ...]:
    """The model's features but the rules'."""
    return tuple(name for name in model.coefficients if name not in RULES_FEATURES)


def closest_call_order(labels: pd.DataFrame, reports: pd.Series) -> np.ndarray:
    """Positions of ``reports`` in the reviewer sheet's order without a priority: the smallest |p_yes − 0.5| over
    the models (role ``model``) first, reports without any p_yes last."""
    models = labels[labels.role == Role.MODEL]
    closeness = (models.p_yes - 0.5).abs().groupby(models.report_id).min().reindex(reports)
    return np.argsort(closeness.fillna(np.inf).to_numpy(), kind="stable")


def priority_order(priority: np.ndarray) -> np.ndarray:
    """Positions from the highest priority to the lowest (a report without one last)."""
    return np.argsort(-np.nan_to_num(np.asarray(priority, dtype=float), nan=-np.inf), kind="stable")


def budget_curve(order: np.ndarray, predicted: np.ndarray, actual: np.ndarray) -> pd.DataFrame:
    """One row per number of reports reviewed (0 to all), in ``order``: the errors caught and left, and F1 once
    the reviewed reports take their true labels."""
    predicted, actual = np.asarray(predicted, bool)[order], np.asarray(actual, bool)[order]
    fixed_fp = np.concatenate([[0], np.cumsum(predicted & ~actual)])
    fixed_fn = np.concatenate([[0], np.cumsum(~predicted & actual)])
    c = counts(predicted, actual)
    tp, fp, fn = c["tp"] + fixed_fn, c["fp"] - fixed_fp, c["fn"] - fixed_fn
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
    reviewed = np.arange(len(order) + 1)
    return pd.DataFrame({"reviewed": reviewed, "share": reviewed / max(len(order), 1),
                         "errors_caught": fixed_fp + fixed_fn, "errors_left": c["fp"] + c["fn"] - fixed_fp - fixed_fn,
                         "f1": f1})


def random_curve(predicted: np.ndarray, actual: np.ndarray, bootstrap: Bootstrap) -> pd.DataFrame:
    """Random order: the expected errors caught and left (k/n of the errors), and the mean F1 over
    ``bootstrap.resamples`` seeded random orders with its central ``bootstrap.confidence`` range."""
    rng = np.random.default_rng(bootstrap.seed)
    n = len(predicted)
    f1 = np.stack([budget_curve(rng.permutation(n), predicted, actual).f1.to_numpy()
                   for _ in range(bootstrap.resamples)])
    tail = (1 - bootstrap.confidence) / 2
    errors = int(np.sum(np.asarray(predicted, bool) != np.asarray(actual, bool)))
    reviewed = np.arange(n + 1)
    caught = errors * reviewed / max(n, 1)
    return pd.DataFrame({"reviewed": reviewed, "share": reviewed / max(n, 1), "errors_caught": caught,
                         "errors_left": errors - caught, "f1": f1.mean(axis=0),
                         "f1_lo": np.quantile(f1, tail, axis=0), "f1_hi": np.quantile(f1, 1 - tail, axis=0)})


@dataclass
class ReviewBudget:
    label_set: str
    errors: int  # the chosen label set's errors on the scored test reports
    reports: int  # the scored test reports
    curves: pd.DataFrame  # ordering, reviewed, share, errors_caught, errors_left, f1 (random: f1_lo, f1_hi)
    points: pd.DataFrame  # the curves at SHARES
    calibration: pd.DataFrame  # each priority's Brier score, calibration intercept and slope, on each part
    coefficients: pd.DataFrame  # priority, feature, coefficient of each fitted model
    uses_rules: bool  # the priority reads the rules (RULES_FEATURES)
    fitted_on: str  # the development reports the priorities were fitted on and the errors there, in words
    regularisation: float  # scikit-learn's C of the fits
    random_orders: int  # seeded random orders averaged
    confidence: float  # the share of random orders the F1 range holds


def points_at(curves: pd.DataFrame, shares: tuple[float, ...] = SHARES) -> pd.DataFrame:
    """The curves where ``round(share × n)`` reports are reviewed, per ordering and share."""
    n = int(curves.reviewed.max())
    rows = [curves[(curves.ordering == ordering) & (curves.reviewed == round(share * n))].assign(target=share)
            for ordering in curves.ordering.unique() for share in shares]
    return pd.concat(rows, ignore_index=True)


def review_budget(labels: pd.DataFrame, truth: pd.DataFrame, truth_dev: pd.DataFrame, model: PriorityModel,
                  bootstrap: Bootstrap) -> ReviewBudget:
    """The budget curves on the scored reports of ``truth`` (see the module's docstring): the priority as the
    labels hold it (``review_priority``), beside the same model refitted on ``truth_dev`` without the rules'
    features (where there is a development part and the priority uses them), the reviewer sheet's order without a priority
    and random order; the priority's calibration on each part."""
    scored, development = scored_truth(truth), scored_truth(truth_dev)
    predicted, actual = label_errors(labels, scored, model.label_set)
    priorities = {PRIORITY: (model, labels.groupby("report_id").review_priority.first())}
    if len(development) and model.uses_rules:
        try:
            lean = fit_priority(labels, development, model.label_set, model.chosen_because, without_rules(model),
                                model.regularisation)
            priorities[WITHOUT_RULES] = (lean, lean.probability(priority_features(labels, model.label_set)))
        except NothingToFit:  # a development part too small to refit on: the priority is shown alone
            pass
    orders = {name: priority_order(scores.reindex(scored.report_id).to_numpy())
              for name, (_, scores) in priorities.items()}
    orders[CURRENT] = closest_call_order(labels, scored.report_id)
    curves = pd.concat([*(budget_curve(order, predicted, actual).assign(ordering=name) for name, order in orders.items()),
                        random_curve(predicted, actual, bootstrap).assign(ordering=RANDOM)], ignore_index=True)
    curves = curves[["ordering", *[c for c in curves.columns if c != "ordering"]]]
    calibration = []
    for part, frame in (("development", development), ("test", scored)):
        if frame.empty:
            continue
        part_predicted, part_actual = label_errors(labels, frame, model.label_set)
        wrong = (part_predicted != part_actual).astype(float)
        for name, (_, scores) in priorities.items():
            calibration.append({"priority": name, "part": part, "reports": len(frame), "errors": int(wrong.sum()),
                                **calibration_row(scores.reindex(frame.report_id).to_numpy(), wrong,
                                                  bootstrap.confidence)})
    coefficients = pd.DataFrame([{"priority": name, "feature": feature,
                                  "coefficient": fitted.intercept if feature == "intercept" else fitted.coefficients[feature]}
                                 for name, (fitted, _) in priorities.items()
                                 for feature in ("intercept", *fitted.coefficients)])
    return ReviewBudget(model.label_set, int((predicted != actual).sum()), len(scored), curves, points_at(curves),
                        pd.DataFrame(calibration), coefficients, model.uses_rules, model.fitted_on,
                        model.regularisation, bootstrap.resamples, bootstrap.confidence)
