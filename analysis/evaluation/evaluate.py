"""Everything measured of a run's labels, one function per stage: what notebooks 04 and 05 and
``python -m analysis evaluate`` compute, written by ``analysis.reporting.tables``.

Every table scores the reports whose ground truth is Yes or No
(``analysis.evaluation.scoring``); Table 1A is also given with an Undefined
truth counted as a negative (the sensitivity analysis), and the reports left
out are listed.
"""

from dataclasses import dataclass

import pandas as pd

from analysis.data.vocabulary import BASELINE, COMBINATION, DEV, ENSEMBLE, TEST, UNDEFINED
from analysis.evaluation.calibration import calibration_table
from analysis.evaluation.categories import by_category
from analysis.evaluation.comparisons import agreement_table, cohen_table, mcnemar_table, paired_differences
from analysis.evaluation.evidence import span_scores
from analysis.evaluation.metrics import confusion_tables, evidence_label_set, stage2_designs, table1a, table1b
from analysis.evaluation.scoring import AS_NEGATIVE
from analysis.evaluation.thresholds import site_threshold_table, threshold_table
from analysis.specs import Run, rules_developed_on


@dataclass
class Stage1Evaluation:
    table1a: pd.DataFrame  # every label set on the scored reports, with intervals
    sensitivity: pd.DataFrame  # the same with an Undefined truth counted as a negative
    undefined_truth: pd.DataFrame  # the reports left out of the primary analysis
    confusion: pd.DataFrame  # truth × answer, three-way, per label set
    differences: pd.DataFrame  # paired differences between each pair
    mcnemar: pd.DataFrame  # McNemar's test between each pair, Holm-adjusted
    agreement: pd.DataFrame  # Fleiss' κ of the models that vote
    cohen: pd.DataFrame  # Cohen's κ of each label set against the truth
    calibration: pd.DataFrame  # Brier score, calibration intercept and slope of p_yes
    thresholds: pd.DataFrame  # a p_yes cut from the development reports, measured on the evaluated ones
    by_category: pd.DataFrame  # accuracy and F1 by kind of report (empty without case features)
    by_category_dev: pd.DataFrame  # the same on the development reports, where a prompt or rule may be aimed
    notes: dict[str, str]  # what a reader must know of a label set's figures


def label_set_notes(run: Run) -> dict[str, str]:
    """Notes that stand beside a label set's figures: the rules' when they were written reading the test split,
    and so the combination's, which reads the rules' ConText."""
    notes = {}
    if run.baseline and TEST in rules_developed_on(run.baseline):
        note = "rules written while reading the whole demo corpus, test split included: training-set performance"
        notes = {BASELINE: note, **({COMBINATION: f"vetoes from the {note}"} if run.combination else {})}
    if run.localization and run.localization.evidence:
        vocabulary = f"the rules' site vocabulary (analysis/rules/{run.baseline}.yaml)"
        if run.baseline and TEST in rules_developed_on(run.baseline):
            vocabulary += ", written while reading the whole demo corpus, test split included"
        notes |= {evidence_label_set(name): f"sites read from the label set's evidence sentences by {vocabulary}"
                  for name in [*run.tags, ENSEMBLE]}
    return notes


def evaluate_stage1(labels: pd.DataFrame, truth: pd.DataFrame, truth_dev: pd.DataFrame, run: Run,
                    features: pd.DataFrame | None = None) -> Stage1Evaluation:
    """Table 1A and everything beside it on the reports of ``truth``; the ``p_yes`` cut chosen on
    ``truth_dev`` (none when it is empty); accuracy by kind of report when ``features`` are given."""
    bootstrap, notes = run.bootstrap, label_set_notes(run)
    return Stage1Evaluation(
        table1a=table1a(labels, truth, bootstrap),
        sensitivity=table1a(labels, truth, bootstrap, undefined_truth=AS_NEGATIVE),
        undefined_truth=truth[truth.extravasation == UNDEFINED][["report_id"]],
        confusion=confusion_tables(labels, truth),
        differences=paired_differences(labels, truth, bootstrap, notes=notes),
        mcnemar=mcnemar_table(labels, truth, notes=notes),
        agreement=agreement_table(labels, truth, bootstrap),
        cohen=cohen_table(labels, truth, bootstrap),
        calibration=calibration_table(labels, truth, bootstrap.confidence),
        thresholds=threshold_table(labels, truth_dev, truth, bootstrap),
        by_category=by_category(labels, truth, features, bootstrap.confidence) if features is not None else pd.DataFrame(),
        by_category_dev=(by_category(labels, truth_dev, features, bootstrap.confidence)
                         if features is not None and len(truth_dev) else pd.DataFrame()),
        notes=notes,
    )


@dataclass
class Stage2Evaluation:
    table1b: pd.DataFrame  # F1 (and AUC, where sites have probabilities) per site, in both designs
    evidence: dict[str, pd.DataFrame]  # span precision and recall by part of the split, where the truth lists evidence
    designs: pd.DataFrame  # every label set's macro-F1, stage 2 alone, on the development and the test part
    site_thresholds: pd.DataFrame  # per-site cuts from the development reports, measured on the evaluated ones
    notes: dict[str, str]  # what a reader must know of a label set's figures


def evaluate_stage2(labels: pd.DataFrame, truth: pd.DataFrame, truth_dev: pd.DataFrame, run: Run,
                    texts: pd.Series | None = None) -> Stage2Evaluation:
    """Table 1B on the reports of ``truth``, in both designs, through the run's gate model; where the sites have
    probabilities, a cut per site chosen on ``truth_dev`` (none when it is empty); where the truth lists evidence
    statements and ``texts`` (each report's impression, as sent) are given, the evidence spans' scores in each
    part."""
    cut, site_cuts = run.localization.cut, bool(run.localization.site_cuts)
    parts = {DEV: truth_dev, TEST: truth} if texts is not None else {}
    return Stage2Evaluation(
        table1b=table1b(labels, truth, run.localization.gate, cut, run.bootstrap, site_cuts),
        evidence={part: span_scores(labels, frame, texts, run.bootstrap.confidence)
                  for part, frame in parts.items() if "evidence" in frame and len(frame)},
        designs=stage2_designs(labels, {part: frame for part, frame in {DEV: truth_dev, TEST: truth}.items()
                                        if len(frame)}, cut, site_cuts),
        site_thresholds=site_threshold_table(labels, truth_dev, truth, cut, run.bootstrap),
        notes=label_set_notes(run),
    )
