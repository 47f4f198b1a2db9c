"""Which kinds of report each label set gets wrong: accuracy and F1 by hard-case category, with support.

The demo corpus records each report's kinds (``data/demo/case_features.csv``:
negated, hedged, pseudoaneurysm or contained injury, non-blood
extravasation, ...); a report may have several, or none. Over the scored
reports of each kind: accuracy (Clopper–Pearson interval) and F1, with the
number of reports and of positives, so that a reader sees where the errors
are before trusting a single F1.
"""

import pandas as pd

from analysis.evaluation.bootstrap import ratio
from analysis.evaluation.intervals import exact_proportion
from analysis.evaluation.metrics import counts
from analysis.evaluation.scoring import is_positive, paired_labels, scored_truth

NO_KIND = "(none of the kinds)"


def kinds_of(features: pd.DataFrame) -> pd.Series:
    """Each report's kinds, as a list, indexed by report id."""
    return features.set_index("report_id").hard_cases.map(lambda kinds: list(kinds) or [NO_KIND])


def by_category(labels: pd.DataFrame, truth: pd.DataFrame, features: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """One row per kind and label set over the scored reports of that kind: support, positives, errors,
    accuracy with its interval, and F1 (NaN where the kind has no positive and no Yes answer)."""
    scored = scored_truth(truth)
    kinds = scored.report_id.map(kinds_of(features)).map(lambda found: found if isinstance(found, list) else [NO_KIND])
    actual = is_positive(scored.extravasation)
    by_model = paired_labels(labels, scored)
    rows = []
    for kind in sorted({kind for found in kinds for kind in found}, key=lambda kind: (kind == NO_KIND, kind)):
        member = kinds.map(lambda found: kind in found).to_numpy()
        for model, answers in by_model.items():
            c = counts(is_positive(answers.extravasation)[member], actual[member])
            accuracy, interval = exact_proportion(c["tp"] + c["tn"], int(member.sum()), confidence)
            rows.append({
                "category": kind, "model": model, "support": int(member.sum()), "positives": int(actual[member].sum()),
                "errors": c["fp"] + c["fn"], "accuracy": accuracy, "accuracy_lo": interval.low,
                "accuracy_hi": interval.high, "f1": float(ratio(2 * c["tp"], 2 * c["tp"] + c["fp"] + c["fn"])),
            })
    return pd.DataFrame(rows)
