"""Comparisons of models on the same scored reports: paired differences, McNemar's test, κ.

- Paired differences in F1 and accuracy (``model_a − model_b``), with BCa
  intervals from the paired replicates (``analysis.evaluation.intervals``).
- McNemar's test on correct/incorrect answers, as a mid-p value (the exact
  binomial p less half the probability of the observed split, less
  conservative than the exact p, which is kept beside it), Holm-adjusted
  across every pair of the table (the family).
- Fleiss' κ of the models that vote, on the scored reports that were sent to
  them (a report sent to no model has every answer forced to Undefined), and
  Cohen's κ of each label set against the ground truth, each with its BCa
  interval.

A pair that is not two independent models says so in ``note``: the ensemble
beside one of the models it is a vote of, and any label set with a note of
its own (the rules, developed on this corpus).

Other ways of labeling the same reports (a prompt variant, a cut on
``p_yes``) are compared by naming each a "model" of one labels frame
(``qwen2.5-coder:1.5b · guideline``, ``as_labeling``), so that Table 1A and
the paired differences apply unchanged, with the same resampled reports for
every column (``compare_labelings``).
"""

from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa
from statsmodels.stats.multitest import multipletests

from analysis.data.io import DataError
from analysis.data.vocabulary import COMBINATION, ENSEMBLE, LABELS, Status
from analysis.evaluation.bootstrap import Statistic, accuracy_statistic, difference, f1_statistic, ratio
from analysis.evaluation.intervals import bootstrap_interval
from analysis.evaluation.metrics import DEFAULT_BOOTSTRAP, table1a
from analysis.evaluation.scoring import is_positive, paired_labels, scored_truth
from analysis.labeling.labels import voters
from analysis.specs import Bootstrap

SEPARATOR = " · "  # between a model and the labeling it stands for
DIFFERENCE_STATISTICS = {"f1": f1_statistic, "accuracy": accuracy_statistic}


def pair_note(a: str, b: str, members: list[str], notes: dict[str, str]) -> str:
    """Why a comparison of ``a`` and ``b`` is not one of two independent models, or ""."""
    said = [f"the ensemble is a vote of {other}: not independent"
            for one, other in ((a, b), (b, a)) if one == ENSEMBLE and other in members]
    said += [f"the combination is the ensemble's answer where ConText does not veto it: not independent of {other}"
             for one, other in ((a, b), (b, a)) if one == COMBINATION and (other in members or other == ENSEMBLE)]
    return "; ".join(said + [notes[model] for model in (a, b) if model in notes])


def paired_differences(labels: pd.DataFrame, truth: pd.DataFrame, bootstrap: Bootstrap = DEFAULT_BOOTSTRAP,
                       metrics: tuple[str, ...] = ("f1", "accuracy"), notes: dict[str, str] | None = None) -> pd.DataFrame:
    """Difference of each metric between each pair of label sets (``model_a − model_b``, in the order of
    ``labels``) over the scored reports, with its paired BCa interval.

    The point difference comes from the same counts as its replicates, so a
    label set compared with an identical one differs by exactly 0.
    """
    scored = scored_truth(truth)
    by_model = paired_labels(labels, scored)
    actual = is_positive(scored.extravasation)
    predicted = {model: is_positive(frame.extravasation) for model, frame in by_model.items()}
    members, rows = voters(labels), []
    for a, b in combinations(by_model, 2):
        for metric in metrics:
            statistic_a, statistic_b = (DIFFERENCE_STATISTICS[metric](predicted[m], actual) for m in (a, b))
            value, interval = bootstrap_interval(difference(statistic_a, statistic_b), len(actual), bootstrap)
            rows.append({
                "model_a": a, "model_b": b, "metric": metric, "value_a": _at_once(statistic_a, len(actual)),
                "value_b": _at_once(statistic_b, len(actual)), "difference": value, "difference_lo": interval.low,
                "difference_hi": interval.high, "difference_method": interval.method,
                "note": pair_note(a, b, members, notes or {}),
            })
    table = pd.DataFrame(rows, columns=["model_a", "model_b", "metric", "value_a", "value_b", "difference",
                                        "difference_lo", "difference_hi", "difference_method", "note"])
    table.attrs["bootstrap"] = bootstrap.model_dump()
    return table


def _at_once(statistic: Statistic, n_reports: int) -> float:
    return float(statistic(np.ones((1, n_reports)))[0])


def mcnemar_mid_p(only_a: int, only_b: int) -> tuple[float, float]:
    """The exact two-sided McNemar p-value and its mid-p version, from the two discordant counts."""
    discordant, smaller = only_a + only_b, min(only_a, only_b)
    if discordant == 0:
        return 1.0, 1.0
    exact = min(1.0, 2 * stats.binom.cdf(smaller, discordant, 0.5))
    return exact, min(1.0, exact - stats.binom.pmf(smaller, discordant, 0.5))


def mcnemar_table(labels: pd.DataFrame, truth: pd.DataFrame, notes: dict[str, str] | None = None) -> pd.DataFrame:
    """McNemar's test between each pair of label sets on correct/incorrect binary answers over the scored
    reports: the 2×2 counts, the exact p, the mid-p and the mid-p Holm-adjusted across the table's pairs."""
    scored = scored_truth(truth)
    by_model = paired_labels(labels, scored)
    actual = is_positive(scored.extravasation)
    correct = {model: is_positive(frame.extravasation) == actual for model, frame in by_model.items()}
    members, rows = voters(labels), []
    for a, b in combinations(by_model, 2):
        only_a, only_b = int(np.sum(correct[a] & ~correct[b])), int(np.sum(~correct[a] & correct[b]))
        exact, mid = mcnemar_mid_p(only_a, only_b)
        rows.append({
            "model_a": a, "model_b": b, "both_correct": int(np.sum(correct[a] & correct[b])),
            "only_a_correct": only_a, "only_b_correct": only_b, "both_wrong": int(np.sum(~correct[a] & ~correct[b])),
            "p_exact": exact, "p_mid": mid, "note": pair_note(a, b, members, notes or {}),
        })
    table = pd.DataFrame(rows, columns=["model_a", "model_b", "both_correct", "only_a_correct", "only_b_correct",
                                        "both_wrong", "p_exact", "p_mid", "note"])
    table["p_holm"] = multipletests(table.p_mid, method="holm")[1] if len(table) else []
    return table


def _codes(answers: pd.DataFrame) -> np.ndarray:
    """Reports × raters answer codes (0..2, ``LABELS`` order); a missing answer or one outside them is an error."""
    codes = answers.apply(lambda column: pd.Categorical(column, categories=LABELS).codes).to_numpy()
    if (codes < 0).any():
        raise DataError(f"κ needs an answer in {LABELS} from each rater for each report")
    return codes


def fleiss_statistic(codes: np.ndarray) -> Statistic:
    """Fleiss' κ of reports × raters answer codes, on weighted reports (statsmodels' formula, weighted)."""
    table, _ = aggregate_raters(codes, n_cat=len(LABELS))
    raters = codes.shape[1]
    agreement = (np.sum(table ** 2, axis=1) - raters) / (raters * (raters - 1))

    def kappa(weights: np.ndarray) -> np.ndarray:
        total = weights.sum(axis=1)
        shares = (weights @ table) / (total * raters)[:, None]
        expected = np.sum(shares ** 2, axis=1)
        return ratio(weights @ agreement / total - expected, 1 - expected)
    return kappa


def cohen_statistic(answers: np.ndarray, truth: np.ndarray) -> Statistic:
    """Cohen's κ of answers against the truth (three-way labels) on weighted reports."""
    said = np.stack([answers == label for label in LABELS], axis=1).astype(float)
    true = np.stack([truth == label for label in LABELS], axis=1).astype(float)
    agree = np.sum(said * true, axis=1)

    def kappa(weights: np.ndarray) -> np.ndarray:
        total = weights.sum(axis=1)
        expected = np.sum((weights @ said) * (weights @ true), axis=1) / total ** 2
        return ratio(weights @ agree / total - expected, 1 - expected)
    return kappa


def agreement_table(labels: pd.DataFrame, truth: pd.DataFrame, bootstrap: Bootstrap = DEFAULT_BOOTSTRAP) -> pd.DataFrame:
    """Fleiss' κ of the models that vote on the scored reports sent to them, with its BCa interval (NaN with
    fewer than two models)."""
    models = voters(labels)
    scored = scored_truth(truth)
    by_model = paired_labels(labels[labels.model.isin(models)], scored)
    sent = np.ones(len(scored), dtype=bool)
    for answers in by_model.values():
        sent &= (answers.status != Status.NOT_SENT).to_numpy()
    row = {"models": "; ".join(models), "n_reports": int(sent.sum()), "n_not_sent": int((~sent).sum())}
    if len(models) < 2 or not sent.any():
        return pd.DataFrame([row | {"fleiss_kappa": np.nan, "fleiss_kappa_lo": np.nan, "fleiss_kappa_hi": np.nan,
                                    "fleiss_kappa_method": ""}])
    codes = _codes(pd.DataFrame({m: answers.extravasation.to_numpy()[sent] for m, answers in by_model.items()}))
    value, interval = bootstrap_interval(fleiss_statistic(codes), int(sent.sum()), bootstrap)
    table = pd.DataFrame([row | {"fleiss_kappa": value, "fleiss_kappa_lo": interval.low,
                                 "fleiss_kappa_hi": interval.high, "fleiss_kappa_method": interval.method}])
    table.attrs["bootstrap"] = bootstrap.model_dump()
    return table


def fleiss_kappa_of(labels: pd.DataFrame, models: list[str]) -> float:
    """Fleiss' κ of ``models`` on every report they labeled, by statsmodels: the check of ``fleiss_statistic``."""
    answers = labels[labels.model.isin(models)].pivot(index="report_id", columns="model", values="extravasation")
    return float(fleiss_kappa(aggregate_raters(_codes(answers[models]), n_cat=len(LABELS))[0], method="fleiss"))


def cohen_table(labels: pd.DataFrame, truth: pd.DataFrame, bootstrap: Bootstrap = DEFAULT_BOOTSTRAP) -> pd.DataFrame:
    """Cohen's κ of each label set's three-way answers against the ground truth, over the scored reports."""
    scored = scored_truth(truth)
    rows = []
    for model, answers in paired_labels(labels, scored).items():
        value, interval = bootstrap_interval(
            cohen_statistic(answers.extravasation.to_numpy(), scored.extravasation.to_numpy()), len(scored), bootstrap)
        rows.append({"model": model, "cohen_kappa": value, "cohen_kappa_lo": interval.low,
                     "cohen_kappa_hi": interval.high, "cohen_kappa_method": interval.method, "n": len(scored)})
    table = pd.DataFrame(rows)
    table.attrs["bootstrap"] = bootstrap.model_dump()
    return table


def as_labeling(labels: pd.DataFrame, suffix: str) -> pd.DataFrame:
    """``labels`` renamed as one labeling among several compared: model ``<model> · <suffix>``."""
    return labels.assign(model=labels.model + SEPARATOR + suffix)


def compare_labelings(columns: pd.DataFrame, truth: pd.DataFrame, pairs: list[tuple[str, str]], bootstrap: Bootstrap):
    """Table 1A of every column (indexed by column), and the F1 difference a − b of each pair, paired over ``truth``'s reports.

    In ``columns`` every ``a`` of a pair comes before its ``b``, the order in
    which ``paired_differences`` subtracts.
    """
    metrics = table1a(columns, truth, bootstrap).set_index("model")
    differences = paired_differences(columns, truth, bootstrap, metrics=("f1",)).set_index(["model_a", "model_b"])
    return metrics, differences.loc[pairs, ["difference", "difference_lo", "difference_hi"]].reset_index()
