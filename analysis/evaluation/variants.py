"""Prompt variants compared on the test split, each with its paired difference from the study's zero-shot prompt.

Each stage-1 task file (``analysis/tasks/extravasation_<variant>.yaml``)
labels the reports; a variant's difference from zero-shot is its F1 minus
zero-shot's for the same model, paired over reports
(``analysis.evaluation.comparisons.compare_labelings``).
"""

import numpy as np
import pandas as pd

from analysis.evaluation.comparisons import SEPARATOR, as_labeling, compare_labelings
from analysis.specs import Bootstrap

REFERENCE = "zeroshot"  # the study's prompt, which every variant is compared with


def compare_variants(labels_by_variant: dict[str, pd.DataFrame], truth: pd.DataFrame, bootstrap: Bootstrap,
                     reference: str = REFERENCE) -> pd.DataFrame:
    """One row per model and variant: F1, precision, recall and the AUC of ``p_yes`` with intervals, and the F1 difference from ``reference``.

    ``labels_by_variant`` maps a variant name to its stage-1 labels (the
    ensemble included); every variant must label the reports of ``truth``.
    """
    # The reference last: each variant's columns come before the one it is compared with.
    order = sorted(labels_by_variant, key=lambda variant: variant == reference)
    columns = pd.concat([as_labeling(labels_by_variant[variant], variant) for variant in order], ignore_index=True)
    models = list(dict.fromkeys(m for labels in labels_by_variant.values() for m in labels.model))
    pairs = [
        (f"{model}{SEPARATOR}{variant}", f"{model}{SEPARATOR}{reference}")
        for variant in labels_by_variant if variant != reference and reference in labels_by_variant for model in models
    ]
    metrics, differences = compare_labelings(columns, truth, pairs, bootstrap)
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
