"""Tables 1A and 1B against the ground truth, as the labeling guideline defines them.

Table 1A (stage 1): ``Yes`` is the positive class; ``No``, ``Undefined`` and
invalid answers are negative, and their counts stand beside the metrics so
that a reader sees what the negatives hide. The scored reports follow
``analysis.evaluation.scoring``: those whose truth is Yes or No (the primary
analysis), or every report with an Undefined truth as a negative (the
sensitivity analysis). Proportions (precision, recall, specificity, NPV,
accuracy, prevalence) carry Clopper–Pearson intervals; F1 and the ROC AUC of
``p_yes`` carry BCa bootstrap intervals (``analysis.evaluation.intervals``).
A value whose denominator is 0 is NaN ("n/a"), never 0.

Table 1B (stage 2), per site one-vs-rest F1, in two designs (``DESIGNS``):

- *stage 2 alone*: the scored reports the gate model called Yes and whose
  truth is Yes: what the sites are worth once a bleed is found (the study's
  "stage 2 on the reports the gate called Yes");
- *end to end*: every scored report; a site counts as predicted only where
  the gate model said Yes and the model named it, and a report whose truth
  is No has no true site.

The gate is what stage 2 recorded (the labels' ``gated``: the reports it
asked about). Every label set goes through the same gate, the rule-based
baseline too (its own sites, kept where the gate said Yes); the baseline on its own Yes
calls (``RULES_UNGATED``) is shown apart. Where the sites were asked one at a
time, each site's probability (``p_<site>``) also gives its ROC AUC over the
design's reports (0 where the gate did not say Yes), and the ensemble
appears twice: its majority of the models' sites, and the sites whose mean
probability reaches the cut (``ENSEMBLE_MEAN``). Where stage 2 found
evidence sentences, each label set appears once more with the sites those
sentences name (``sites`` = ``SITES_FROM_EVIDENCE``; by the rules' site
vocabulary, so noted as the rules are: ``evidence_label_set``). Every table records its
settings and rule in ``table.attrs`` for the writers of
``analysis.reporting.tables``.
"""

import numpy as np
import pandas as pd

from analysis.data.io import DataError
from analysis.data.vocabulary import (
    LABELS,
    LOCATIONS,
    SITE_SCORE_COLUMNS,
    UNDEFINED,
    Role,
    Status,
)
from analysis.evaluation.bootstrap import auc_statistic, ratio
from analysis.evaluation.intervals import Interval, bootstrap_interval, exact_proportion, f1_interval
from analysis.evaluation.scoring import LEFT_OUT, is_positive, paired_labels, scored_truth
from analysis.labeling.labels import with_evidence
from analysis.specs import Bootstrap

DEFAULT_BOOTSTRAP = Bootstrap()  # the run file's defaults, for callers that pass none
PROPORTIONS = ("precision", "recall", "specificity", "npv", "accuracy")  # Clopper–Pearson
RESAMPLED = ("f1", "auc")  # BCa bootstrap
STAGE2_ALONE, END_TO_END = "stage 2 alone", "end to end"
DESIGNS = (STAGE2_ALONE, END_TO_END)
RULES_UNGATED = "rules, ungated"  # the baseline's sites on its own Yes calls, beside the gated designs
# How a Table 1B row's sites came about: the models' own answers, the sites at cuts of their per-site
# probabilities chosen on a development split, or the words of their evidence sentences.
SITES_ASKED, SITES_AT_CUTS, SITES_FROM_EVIDENCE = "asked", "at per-site cuts", "from the evidence"
MIN_SUPPORT = 5  # true reports a site needs before its F1 counts as the lowest of a label set
ENSEMBLE_MEAN = "ensemble · mean p"  # the sites whose mean probability over the models reaches the cut


def _with_interval(name: str, value: float, interval: Interval) -> dict:
    return {name: value, f"{name}_lo": interval.low, f"{name}_hi": interval.high, f"{name}_method": interval.method}


def counts(predicted, actual) -> dict[str, int]:
    """tp, fp, fn and tn of two aligned boolean sequences."""
    predicted, actual = np.asarray(predicted, dtype=bool), np.asarray(actual, dtype=bool)
    return {"tp": int(np.sum(predicted & actual)), "fp": int(np.sum(predicted & ~actual)),
            "fn": int(np.sum(~predicted & actual)), "tn": int(np.sum(~predicted & ~actual))}


def binary_metrics(predicted, actual, bootstrap: Bootstrap = DEFAULT_BOOTSTRAP) -> dict:
    """Every metric of Table 1A for two aligned boolean sequences, each with its interval and method."""
    c = counts(predicted, actual)
    tp, fp, fn, tn = c["tp"], c["fp"], c["fn"], c["tn"]
    confidence, row = bootstrap.confidence, dict(c)
    for name, (k, n) in {"precision": (tp, tp + fp), "recall": (tp, tp + fn), "specificity": (tn, tn + fp),
                         "npv": (tn, tn + fn), "accuracy": (tp + tn, tp + fp + fn + tn),
                         "prevalence": (tp + fn, tp + fp + fn + tn)}.items():
        row |= _with_interval(name, *exact_proportion(k, n, confidence))
    row |= _with_interval("f1", *f1_interval(np.asarray(predicted, bool), np.asarray(actual, bool), bootstrap))
    return row


def roc_auc(scores: np.ndarray, actual: np.ndarray) -> float:
    """ROC AUC of the scores against the truth over the reports that have a score (NaN = none); NaN when those
    reports hold one class only (or there are none): the AUC is undefined there."""
    return float(auc_statistic(scores, actual)(np.ones((1, len(actual))))[0])


def table1a(labels: pd.DataFrame, truth: pd.DataFrame, bootstrap: Bootstrap = DEFAULT_BOOTSTRAP,
            undefined_truth: str = LEFT_OUT) -> pd.DataFrame:
    """One row per label set (in the order of ``labels``): every metric over the scored reports of ``truth``.

    ``n`` is the number of scored reports, ``n_truth_undefined`` the reports
    whose truth is Undefined (left out, or counted negative: ``undefined_truth``).
    ``auc`` is the ROC AUC of ``p_yes`` over the ``n_auc`` scored reports
    that have one; compare ``n_auc`` with ``n`` before reading it.
    """
    scored = scored_truth(truth, undefined_truth)
    if scored.empty:
        raise DataError("no scored report (ground truth Yes or No): Table 1A is undefined")
    actual = is_positive(scored.extravasation)
    rows = []
    for model, answers in paired_labels(labels, scored).items():
        scores = pd.to_numeric(answers.p_yes, errors="coerce").to_numpy(dtype=float)
        rows.append({
            "model": model,
            **binary_metrics(is_positive(answers.extravasation), actual, bootstrap),
            **_with_interval("auc", *bootstrap_interval(auc_statistic(scores, actual), len(actual), bootstrap)),
            "n": len(scored), "n_truth_undefined": int((truth.extravasation == UNDEFINED).sum()),
            "n_undefined": int((answers.extravasation == UNDEFINED).sum()),
            "n_invalid": int((answers.status == Status.INVALID).sum()),
            "n_auc": int((~np.isnan(scores)).sum()),
        })
    table = pd.DataFrame(rows)
    # The metrics first, each with its interval, then the counts behind them.
    counted = ["n", "n_truth_undefined", "n_undefined", "n_invalid", "n_auc", "tp", "fp", "fn", "tn"]
    table = table[["model", *[c for c in table.columns if c not in counted and c != "model"], *counted]]
    table.attrs |= {"bootstrap": bootstrap.model_dump(), "undefined_truth": undefined_truth}
    return table


def confusion_tables(labels: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Truth × answer counts (Yes/No/Undefined each way) per label set, over every report with ground truth:
    long, one row per label set, truth and answer."""
    rows = []
    for model, answers in paired_labels(labels, truth).items():
        said = answers.extravasation.to_numpy()
        for truth_label in LABELS:
            for answer in LABELS:
                rows.append({"model": model, "truth": truth_label, "answer": answer,
                             "reports": int(np.sum((truth.extravasation.to_numpy() == truth_label) & (said == answer)))})
    return pd.DataFrame(rows)


def location_matrix(site_lists) -> np.ndarray:
    """Reports × ``LOCATIONS`` booleans from each report's list of sites; a site outside the guideline's list is a
    DataError."""
    sites = list(site_lists)
    if not all(isinstance(row, list) for row in sites):
        raise TypeError("sites must be given as lists (analysis.data.io.parse_list reads a cell that lists them)")
    unknown = {site for row in sites for site in row} - set(LOCATIONS)
    if unknown:
        raise DataError(f"unknown location(s) {sorted(unknown)}; allowed: {list(LOCATIONS)}")
    return np.array([[location in row for location in LOCATIONS] for row in sites], dtype=bool).reshape(len(sites), len(LOCATIONS))


def gated_scored(labels: pd.DataFrame, scored: pd.DataFrame) -> np.ndarray:
    """For each scored report, in the order of ``scored``: did stage 2 ask about it (the labels' ``gated``)."""
    return scored.report_id.isin(set(labels.report_id[labels.gated])).to_numpy()


def gate_counts(labels: pd.DataFrame, truth: pd.DataFrame) -> dict[str, int]:
    """What the gate did on the scored reports: sent to stage 2, of which truly Yes (hits) or No (over-calls),
    and true Yes reports it did not send (misses)."""
    scored = scored_truth(truth)
    gated, truly_yes = gated_scored(labels, scored), is_positive(scored.extravasation)
    return {"scored": len(scored), "gated": int(gated.sum()), "hits": int((gated & truly_yes).sum()),
            "over_calls": int((gated & ~truly_yes).sum()), "misses": int((~gated & truly_yes).sum())}


def site_scores(answers: pd.DataFrame) -> np.ndarray | None:
    """Reports × ``LOCATIONS`` site probabilities (NaN: none), or None when the label set has none at all."""
    scores = answers[SITE_SCORE_COLUMNS].to_numpy(dtype=float)
    return scores if np.isfinite(scores).any() else None


def table1b(labels: pd.DataFrame, truth: pd.DataFrame, gate: str, cut: float,
            bootstrap: Bootstrap = DEFAULT_BOOTSTRAP, site_cuts: bool = False) -> pd.DataFrame:
    """One row per design, site and label set: F1 with its interval, precision, recall, support and predicted
    counts, and the ROC AUC of the site's probability where there is one, over the reports of the design (see
    the module's docstring); ``cut`` names the sites of the ensemble's mean probability. The baseline's own
    ungated sites follow under ``RULES_UNGATED``."""
    scored = scored_truth(truth)
    by_model = paired_labels(labels, scored)
    gated = gated_scored(labels, scored)
    truly_yes = is_positive(scored.extravasation)
    actual = location_matrix(scored.locations)
    designs = {STAGE2_ALONE: gated & truly_yes, END_TO_END: np.ones(len(scored), dtype=bool)}
    label_sets = site_label_sets(labels, by_model, cut, site_cuts)
    rows = []
    for design, reports in designs.items():
        for (model, sites), (named, scores) in label_sets.items():
            # A site counts only where the gate said Yes; a report it did not send to stage 2 scores 0.
            gated_scores = None if scores is None else np.where(gated[:, None], np.nan_to_num(scores, nan=0.0), 0.0)
            rows += _site_rows(design, model, (named & gated[:, None])[reports], actual[reports], bootstrap,
                               None if gated_scores is None else gated_scores[reports], sites)
    for rules in labels.model[labels.role == Role.RULES].unique():
        own = location_matrix(by_model[rules].locations) & is_positive(by_model[rules].extravasation)[:, None]
        rows += _site_rows(RULES_UNGATED, rules, own, actual, bootstrap)
    table = pd.DataFrame(rows)
    table.attrs |= {"bootstrap": bootstrap.model_dump(), "gate": gate, "gate_counts": gate_counts(labels, truth),
                    "cut": cut}
    return table


def site_label_sets(labels: pd.DataFrame, by_model: dict[str, pd.DataFrame], cut: float,
                    site_cuts: bool = False) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray | None]]:
    """Every label set's sites as Table 1B scores them, keyed by (name, how the sites came about): reports ×
    ``LOCATIONS`` booleans in the order of ``by_model``'s reports, and the site probabilities where there are.
    With ``site_cuts`` (the run applied per-site cuts), the models' and the ensemble's sites at those cuts too."""
    label_sets = {(model, SITES_ASKED): (location_matrix(answers.locations), site_scores(answers))
                  for model, answers in by_model.items()}
    ensemble = next(iter(labels.model[labels.role == Role.ENSEMBLE].unique()), None)
    if ensemble and label_sets[ensemble, SITES_ASKED][1] is not None and not site_cuts:  # else: its cut rows
        mean = label_sets[ensemble, SITES_ASKED][1]
        label_sets[ENSEMBLE_MEAN, SITES_ASKED] = (np.nan_to_num(mean, nan=0.0) >= cut, mean)
    label_sets |= {(evidence_label_set(model), SITES_FROM_EVIDENCE): (location_matrix(by_model[model].evidence_locations), None)
                   for model in with_evidence(labels)}
    if site_cuts:
        cut_sets = labels.model[labels.role.isin([Role.MODEL, Role.ENSEMBLE])].unique()
        # Their probabilities' AUC stands in the label set's own row already.
        label_sets |= {(cuts_label_set(model), SITES_AT_CUTS): (location_matrix(by_model[model].cut_locations), None)
                       for model in cut_sets}
    return label_sets


def cuts_label_set(model: str) -> str:
    """The name in Table 1B of ``model``'s sites at the per-site cuts chosen on the development split."""
    return f"{model} · per-site cuts"


def site_f1s(named: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Each site's F1 (``2tp / (2tp + fp + fn)``; NaN where a site is neither true nor named)."""
    tp, fp, fn = ((named & actual).sum(0), (named & ~actual).sum(0), (~named & actual).sum(0))
    return ratio(2 * tp, 2 * tp + fp + fn)


def stage2_designs(labels: pd.DataFrame, parts: dict[str, pd.DataFrame], cut: float, site_cuts: bool = False,
                   min_support: int = MIN_SUPPORT) -> pd.DataFrame:
    """For every label set of the models, the ensemble and their evidence (the rules and the combination aside),
    stage 2 alone in each part of the split (``parts``: its truth by name): the macro-F1 over the sites with a
    true report, and the lowest F1 of a site with at least ``min_support`` true reports. ``sites``: how the
    label set's sites came about (``SITES_ASKED``: the models' own answers; ``SITES_AT_CUTS``: their per-site
    probabilities at the cuts chosen on the development split; ``SITES_FROM_EVIDENCE``: †)."""
    roles = labels.drop_duplicates("model").set_index("model").role
    rows: dict[tuple[str, str], dict] = {}
    for part, truth in parts.items():
        scored = scored_truth(truth)
        reports = gated_scored(labels, scored) & is_positive(scored.extravasation)
        actual = location_matrix(scored.locations)[reports]
        support = actual.sum(0)
        for (name, sites), (named, _) in site_label_sets(labels, paired_labels(labels, scored), cut, site_cuts).items():
            if roles.get(name) in (Role.RULES, Role.COMBINATION):
                continue
            f1 = site_f1s(named[reports], actual)
            shown = rows.setdefault((name, sites), {"model": name, "sites": sites})
            shown |= {f"{part}_reports": int(reports.sum()),
                      f"{part}_macro_f1": float(np.nanmean(f1[support > 0])) if (support > 0).any() else np.nan,
                      f"{part}_lowest_f1": float(np.nanmin(f1[support >= min_support])) if (support >= min_support).any() else np.nan}
    return pd.DataFrame(rows.values())


def evidence_label_set(model: str) -> str:
    """The name in Table 1B of the sites read from ``model``'s evidence sentences."""
    return f"{model} · evidence"


def _site_rows(design: str, model: str, named: np.ndarray, actual: np.ndarray, bootstrap: Bootstrap,
               scores: np.ndarray | None = None, sites: str = SITES_ASKED) -> list[dict]:
    rows = []
    for column, location in enumerate(LOCATIONS):
        predicted, true = named[:, column], actual[:, column]
        c = counts(predicted, true)
        auc = (np.nan, Interval.none()) if scores is None else bootstrap_interval(
            auc_statistic(scores[:, column], true), len(true), bootstrap)
        rows.append({
            "design": design, "location": location, "model": model, "sites": sites,
            **_with_interval("f1", *f1_interval(predicted, true, bootstrap)), **_with_interval("auc", *auc),
            "precision": exact_proportion(c["tp"], c["tp"] + c["fp"], bootstrap.confidence)[0],
            "recall": exact_proportion(c["tp"], c["tp"] + c["fn"], bootstrap.confidence)[0],
            "n": len(true), "support": int(true.sum()), "predicted": int(predicted.sum()),
        })
    return rows
