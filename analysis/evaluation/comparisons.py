"""Comparisons of models on the same reports: paired bootstrap differences, McNemar's test, Fleiss' κ.

McNemar's exact test and Fleiss' κ come from statsmodels; the differences
use the paired replicates of ``analysis.evaluation.bootstrap``.

Other ways of labeling the same reports (a prompt variant, a cut on
``p_yes``) are compared by naming each a "model" of one labels frame
(``qwen2.5-coder:1.5b · guideline``, ``as_labeling``), so that Table 1A and
the paired differences apply unchanged, with the same resampled reports for
every column (``compare_labelings``).
"""

from itertools import combinations

import numpy as np
import pandas as pd
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

from analysis.data.io import DataError
from analysis.data.vocabulary import LABELS
from analysis.evaluation.bootstrap import (
    DEFAULT_BOOTSTRAP,
    bootstrap_binary,
    percentile_interval,
    rates_from_counts,
    weighted_counts,
)
from analysis.evaluation.metrics import table1a
from analysis.evaluation.scoring import is_positive, paired_labels
from analysis.labeling.ensemble import voters
from analysis.specs import Bootstrap

SEPARATOR = " · "  # between a model and the labeling it stands for


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
    labeled report counts; each model must label each of them once. NaN with fewer than two models:
    agreement needs raters to agree.
    """
    models = voters(labels) if models is None else models
    if len(models) < 2:
        return float("nan")
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


def as_labeling(labels: pd.DataFrame, suffix: str) -> pd.DataFrame:
    """``labels`` renamed as one labeling among several compared: model ``<model> · <suffix>``."""
    return labels.assign(model=labels.model + SEPARATOR + suffix)


def compare_labelings(columns: pd.DataFrame, truth: pd.DataFrame, pairs: list[tuple[str, str]], bootstrap: Bootstrap):
    """Table 1A of every column (indexed by column), and the F1 difference a − b of each pair, paired over ``truth``'s reports.

    In ``columns`` every ``a`` of a pair comes before its ``b``, the order in
    which ``paired_differences`` subtracts.
    """
    settings = (bootstrap.resamples, bootstrap.seed, bootstrap.confidence)
    metrics = table1a(columns, truth, *settings).set_index("model")
    differences = paired_differences(columns, truth, *settings, metrics=("f1",)).set_index(["model_a", "model_b"])
    return metrics, differences.loc[pairs, ["difference", "difference_lo", "difference_hi"]].reset_index()
