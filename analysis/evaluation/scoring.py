"""Which answers count, on which reports: the guideline's binary rule, the scored reports, and each model's
labels aligned to the truth.

The scored reports are those whose ground truth is ``Yes`` or ``No``, as the
study scored them: a report whose truth is ``Undefined`` has no correct
binary answer, so it is counted, listed and left out of the primary
analysis (``LEFT_OUT``); the sensitivity analysis counts it as a negative
(``AS_NEGATIVE``), the guideline's binary rule applied to the truth as well.

Every statistic is computed on the same reports, in the order of the ground
truth, for every model (``paired_labels``), so that two models are always
compared on the same reports.
"""

import numpy as np
import pandas as pd

from analysis.data.io import DataError
from analysis.data.vocabulary import POSITIVE, UNDEFINED

LEFT_OUT, AS_NEGATIVE = "left out", "as negative"  # what becomes of a report whose truth is Undefined
SCORING_RULES = {
    LEFT_OUT: "Scored: the reports whose ground truth is Yes or No; those whose truth is Undefined are left out "
              "(listed in undefined_truth.csv).",
    AS_NEGATIVE: "Scored: every report; a report whose ground truth is Undefined counts as a negative "
                 "(sensitivity analysis).",
}


def is_positive(answers) -> np.ndarray:
    """The guideline's binary rule: ``Yes`` is positive; ``No``, ``Undefined`` and invalid answers are not."""
    return np.asarray(answers) == POSITIVE


def scored_truth(truth: pd.DataFrame, undefined_truth: str = LEFT_OUT) -> pd.DataFrame:
    """The ground truth of the reports a table scores, by the rule ``undefined_truth`` (``LEFT_OUT`` or
    ``AS_NEGATIVE``)."""
    if undefined_truth == LEFT_OUT:
        return truth[truth.extravasation != UNDEFINED]
    if undefined_truth == AS_NEGATIVE:
        return truth
    raise ValueError(f"undefined_truth must be {LEFT_OUT!r} or {AS_NEGATIVE!r}, not {undefined_truth!r}")


def paired_labels(labels: pd.DataFrame, truth: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Each model's labels (models in the order of ``labels``), one row per report of ``truth`` in its order.

    A model without a label for a report of the truth, or with two, would
    break the pairing (or silently shrink a table): that is a DataError.
    """
    by_model = {}
    for model in labels.model.unique():
        own = labels[labels.model == model]
        repeated = own.report_id[own.report_id.duplicated() & own.report_id.isin(truth.report_id)]
        if len(repeated):
            raise DataError(f"model {model} has more than one label for report(s) {sorted(set(repeated))[:5]}")
        own = own.set_index("report_id")
        missing = truth.report_id[~truth.report_id.isin(own.index)]
        if len(missing):
            raise DataError(f"model {model} has no label for {len(missing)} report(s) with ground truth, e.g. {missing.tolist()[:5]}")
        by_model[model] = own.loc[truth.report_id]
    return by_model
