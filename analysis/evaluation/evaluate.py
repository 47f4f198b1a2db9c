"""Everything measured of a run's labels, one function per stage: what notebooks 04 and 05 and
``python -m analysis evaluate`` compute, written by ``analysis.reporting.tables``.
"""

from dataclasses import dataclass

import pandas as pd

from analysis.evaluation.comparisons import agreement_table, mcnemar_table, paired_differences
from analysis.evaluation.metrics import table1a, table1b
from analysis.evaluation.thresholds import threshold_table
from analysis.specs import Bootstrap


@dataclass
class Stage1Evaluation:
    table1a: pd.DataFrame  # metrics of every model, the ensemble and the rules, with intervals
    differences: pd.DataFrame  # paired differences between each pair
    mcnemar: pd.DataFrame  # McNemar's test between each pair
    agreement: pd.DataFrame  # Fleiss' κ of the models that vote
    thresholds: pd.DataFrame  # a p_yes cut from the development reports, measured on the evaluated ones


def evaluate_stage1(labels: pd.DataFrame, truth: pd.DataFrame, truth_dev: pd.DataFrame,
                    bootstrap: Bootstrap) -> Stage1Evaluation:
    """Table 1A and the comparisons on the reports of ``truth``; the ``p_yes`` cut chosen on ``truth_dev``
    (no cut when it is empty)."""
    settings = (bootstrap.resamples, bootstrap.seed, bootstrap.confidence)
    return Stage1Evaluation(
        table1a=table1a(labels, truth, *settings),
        differences=paired_differences(labels, truth, *settings),
        mcnemar=mcnemar_table(labels, truth),
        agreement=agreement_table(labels),
        thresholds=threshold_table(labels, truth_dev, truth, bootstrap),
    )


def evaluate_stage2(labels: pd.DataFrame, truth: pd.DataFrame, bootstrap: Bootstrap) -> pd.DataFrame:
    """Table 1B on the reports of ``truth``."""
    return table1b(labels, truth, bootstrap.resamples, bootstrap.seed, bootstrap.confidence)
