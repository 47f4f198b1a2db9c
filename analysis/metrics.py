"""Binary metrics against the ground truth, as the labeling guideline defines them.

``Yes`` is the positive class; ``No``, ``Undefined`` and invalid answers are
negative. The counts of ``Undefined`` and invalid answers are reported beside
the metrics so that a reader sees what the negatives hide.
"""

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from analysis.data import DataError

POSITIVE = "Yes"
TABLE1A_COLUMNS = ["model", "precision", "recall", "f1", "accuracy", "n", "n_undefined", "n_invalid", "tp", "fp", "fn", "tn"]


def binary_metrics(predicted, truth) -> dict:
    """Metrics of two aligned sequences of answers."""
    y_pred = np.asarray(predicted) == POSITIVE
    y_true = np.asarray(truth) == POSITIVE
    precision, recall, f1, _ = precision_recall_fscore_support(
        y_true, y_pred, average="binary", pos_label=True, zero_division=0
    )
    tn, fp, fn, tp = confusion_matrix(y_true, y_pred, labels=[False, True]).ravel()
    return {
        "precision": precision, "recall": recall, "f1": f1, "accuracy": accuracy_score(y_true, y_pred),
        "n": len(y_true), "tp": int(tp), "fp": int(fp), "fn": int(fn), "tn": int(tn),
    }


def table1a(labels: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """One row per model (in the order of ``labels``): metrics over every report with ground truth."""
    rows = []
    for model in labels.model.unique():
        predicted = labels[labels.model == model].set_index("report_id")
        missing = truth.report_id[~truth.report_id.isin(predicted.index)]
        if len(missing):
            raise DataError(f"model {model} has no label for {len(missing)} report(s) with ground truth, e.g. {missing.tolist()[:5]}")
        answers = predicted.loc[truth.report_id]
        rows.append({
            "model": model,
            **binary_metrics(answers.extravasation.to_numpy(), truth.extravasation.to_numpy()),
            "n_undefined": int((answers.extravasation == "Undefined").sum()),
            "n_invalid": int(answers.reason.str.startswith("invalid answer").sum()),
        })
    return pd.DataFrame(rows, columns=TABLE1A_COLUMNS)
