"""This run beside a committed reference run: the labels per label set, and the table values that print differently.

``compare`` puts each label set's labels beside the reference's, report by
report: how many reports both have, how many labels differ, how many
``p_yes`` differ and by how much at most, Cohen's κ and the agreement
between the two runs, and the reports only one side has (counted, never
dropped). ``moved_values`` lists the values of a table (Table 1A or 1B) that
print differently from the committed copy's, at the digits the tables print.
Whether the two runs should be identical at all is
``analysis.labeling.fingerprint``'s question.
"""

import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

REFERENCE_DECIMALS = 6  # p_yes as the reference stores it; this run's is compared at the same precision
PRINTED = "{:.3f}".format  # every value of Tables 1A and 1B, as analysis.reporting.tables.with_interval prints it
TABLE_KEYS = ["design", "location", "model"]  # the columns that name a row of Table 1A or 1B, where present
KEYS = ["report_id", "model"]
ABSENT, PRESENT = "absent", "present"


def _keyed(labels: pd.DataFrame) -> pd.DataFrame:
    return labels[[*KEYS, "extravasation", "p_yes"]].astype({"report_id": str, "model": str}).assign(
        p_yes=lambda frame: pd.to_numeric(frame.p_yes).round(REFERENCE_DECIMALS))


def compare(labels: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """One row per label set of either run (the reference's first): counts, κ and agreement between the two."""
    pairs = pd.merge(_keyed(labels), _keyed(reference), on=KEYS, how="outer", suffixes=("", "_reference"),
                     indicator=True, validate="one_to_one")
    models = dict.fromkeys([*reference.model.astype(str), *labels.model.astype(str)])
    return pd.DataFrame([_compared(model, pairs[pairs.model == model]) for model in models])


def _compared(model: str, pairs: pd.DataFrame) -> dict:
    both = pairs[pairs._merge == "both"]
    differ = both.extravasation != both.extravasation_reference
    delta = (both.p_yes - both.p_yes_reference).abs()
    p_yes_on_one_side = both.p_yes.isna() != both.p_yes_reference.isna()
    kappa, note = _kappa(both.extravasation, both.extravasation_reference)
    return {
        "model": model, "n_compared": len(both), "n_labels_differ": int(differ.sum()),
        "n_p_yes_differ": int(((delta > 0) | p_yes_on_one_side).sum()), "max_abs_delta_p_yes": delta.max(),
        "kappa": kappa, "agreement": 1 - differ.mean() if len(both) else np.nan,
        "only_this_run": int((pairs._merge == "left_only").sum()),
        "only_reference": int((pairs._merge == "right_only").sum()), "note": note,
    }


def _kappa(these: pd.Series, reference: pd.Series) -> tuple[float, str]:
    """Cohen's κ over the three answers, and why it is NaN where it is undefined."""
    if these.empty:
        return np.nan, "no report in both runs"
    answers = set(these) | set(reference)
    if len(answers) == 1:  # chance agreement is then 1: κ = 0/0
        return np.nan, f"κ undefined: both runs answered {answers.pop()} for every report; see the agreement"
    return float(cohen_kappa_score(these, reference)), ""


def moved_values(new: pd.DataFrame, old: pd.DataFrame, table: str) -> pd.DataFrame:
    """The values of ``new`` that print differently from ``old``'s: rows of table, row, column, old, new.

    A number moved where its printed digits differ (``PRINTED``), so a change past them is not listed; any
    other value where it differs at all. A row or column only one side has is listed too (``absent`` on the
    other side); where a key column is on one side only, rows cannot be matched, and that column alone is listed.
    """
    keys = [key for key in TABLE_KEYS if key in new or key in old]
    one_sided = [column for column in dict.fromkeys([*new, *old]) if (column in new) != (column in old)]
    layout = [{"table": table, "row": "(every row)", "column": column, "old": PRESENT if column in old else ABSENT,
               "new": PRESENT if column in new else ABSENT} for column in one_sided]
    if set(keys) & set(one_sided):
        return pd.DataFrame(layout, columns=["table", "row", "column", "old", "new"])
    rows = pd.merge(new, old, on=keys, how="outer", suffixes=("_new", "_old"), indicator=True, validate="one_to_one",
                    sort=False)
    names = rows[keys].astype(str).agg(" / ".join, axis=1)
    moved = layout + [{"table": table, "row": name, "column": "(row)",
                       "old": ABSENT if side == "left_only" else PRESENT, "new": ABSENT if side == "right_only" else PRESENT}
                      for name, side in zip(names, rows._merge) if side != "both"]
    matched = rows._merge == "both"
    common = [column for column in new if column in old and column not in keys]
    differs = {column: _differs(rows[f"{column}_old"], rows[f"{column}_new"]) & matched for column in common}
    moved += [{"table": table, "row": names[i], "column": column, "old": rows.at[i, f"{column}_old"],
               "new": rows.at[i, f"{column}_new"]} for i in rows.index for column in common if differs[column][i]]
    return pd.DataFrame(moved, columns=["table", "row", "column", "old", "new"])


def _differs(old: pd.Series, new: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(old) and pd.api.types.is_numeric_dtype(new):
        return old.map(PRINTED) != new.map(PRINTED)
    return old.fillna("").astype(str) != new.fillna("").astype(str)
