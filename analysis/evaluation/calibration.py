"""How far ``p_yes`` can be read as a probability: the Brier score and the calibration intercept and slope.

Over the scored reports that have a ``p_yes``: the Brier score (mean squared
difference between ``p_yes`` and the truth, 0 is perfect), the calibration
slope (logistic regression of the truth on logit ``p_yes``: 1 is ideal,
below 1 the scores are too extreme) and the calibration intercept
(calibration-in-the-large: the same regression with the slope held at 1; 0
is ideal, below 0 the scores are too high), each with its 95% Wald interval
from statsmodels. A model whose scores separate the reports perfectly, or
that gives too few scores, has no fitted intercept or slope ("n/a").
"""

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.special import logit

from analysis.evaluation.scoring import is_positive, paired_labels, scored_truth

FEWEST_SCORES = 10  # below this a logistic fit says nothing
CLIP = 1e-6  # p_yes of exactly 0 or 1 would have an infinite logit
CALIBRATION_COLUMNS = ["n_scores", "brier", "intercept", "intercept_lo", "intercept_hi", "slope", "slope_lo", "slope_hi"]


def _fit(truth: np.ndarray, logits: np.ndarray, slope_free: bool, confidence: float) -> tuple[float, float, float]:
    """The fitted coefficient (slope, or intercept with the slope fixed at 1) and its Wald interval."""
    design = sm.add_constant(logits) if slope_free else np.ones((len(logits), 1))
    offset = None if slope_free else logits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = sm.GLM(truth, design, family=sm.families.Binomial(), offset=offset).fit()
    position = 1 if slope_free else 0
    low, high = fitted.conf_int(alpha=1 - confidence)[position]
    return float(fitted.params[position]), float(low), float(high)


def calibration_row(scores: np.ndarray, actual: np.ndarray, confidence: float = 0.95) -> dict:
    """Over the reports with a score (NaN: none): their number, the Brier score, and the calibration intercept
    and slope with their Wald intervals (NaN where the scores separate the classes or are too few)."""
    scores, actual = np.asarray(scores, dtype=float), np.asarray(actual, dtype=float)
    has = ~np.isnan(scores)
    row = {"n_scores": int(has.sum()), "brier": float(np.mean((scores[has] - actual[has]) ** 2))}
    logits = logit(np.clip(scores[has], CLIP, 1 - CLIP))
    separable = has.sum() < FEWEST_SCORES or len(np.unique(actual[has])) < 2 or _separates(logits, actual[has])
    for name, slope_free in (("intercept", False), ("slope", True)):
        values = (np.nan,) * 3 if separable else _fit(actual[has], logits, slope_free, confidence)
        row |= dict(zip((name, f"{name}_lo", f"{name}_hi"), values))
    return row


def calibration_table(labels: pd.DataFrame, truth: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """One row per label set with a ``p_yes``: reports scored, Brier score, calibration intercept and slope."""
    scored = scored_truth(truth)
    actual = is_positive(scored.extravasation).astype(float)
    rows = []
    for model, answers in paired_labels(labels, scored).items():
        scores = pd.to_numeric(answers.p_yes, errors="coerce").to_numpy(dtype=float)
        if np.isnan(scores).all():
            continue
        rows.append({"model": model, **calibration_row(scores, actual, confidence)})
    return pd.DataFrame(rows, columns=["model", *CALIBRATION_COLUMNS])


def _separates(logits: np.ndarray, actual: np.ndarray) -> bool:
    """Every positive scores above every negative: the logistic fit has no finite slope."""
    return logits[actual == 1].min() > logits[actual == 0].max()
