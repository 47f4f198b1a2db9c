"""The development/test split: prompts are developed, and few-shot examples drawn, on one part only.

Tables 1A and 1B are computed on the test part, so that a prompt tuned while
looking at reports is never scored on those reports. A split file lists
every report once with its part; a user's own data without a split file is
evaluated on all its reports, and the run's manifest says which.

The demo corpus's split (``data/demo/split.csv``) is drawn once, stratified
by the ground-truth label, and committed; ``make_split`` redraws it byte for
byte from the same seed. When the corpus grows, ``extend_split`` draws parts
for the new reports only: a report once in the development part stays there,
so prompts and few-shot examples written on it never reach the test part.
"""

import pandas as pd
from sklearn.model_selection import train_test_split

from analysis.data.io import DataError
from analysis.data.vocabulary import DEV, TEST

ALL = "all"  # no split: every report is evaluated


def make_split(truth: pd.DataFrame, dev_size: int, seed: int) -> pd.DataFrame:
    """``report_id, split`` for every report of ``truth``, ``dev_size`` of them in the development part.

    Stratified by the ground-truth label, so that both parts hold Yes, No and
    Undefined reports in the corpus's proportions.
    """
    dev, _ = train_test_split(truth.report_id, train_size=dev_size, stratify=truth.extravasation, random_state=seed)
    split = pd.DataFrame({"report_id": truth.report_id, "split": TEST})
    split.loc[split.report_id.isin(dev), "split"] = DEV
    return split.sort_values("report_id", ignore_index=True)


def extend_split(truth: pd.DataFrame, split: pd.DataFrame, seed: int) -> pd.DataFrame:
    """``split`` with a part for every report of ``truth`` it does not list; the parts it lists stay as they are.

    The new reports are drawn as ``make_split`` draws, stratified by their
    ground-truth label, with the development share ``split`` already has.
    """
    if split.empty:
        raise DataError("an empty split has no development share to keep")
    listed = split[["report_id", "split"]]
    new = truth[~truth.report_id.isin(listed.report_id)]
    if new.empty:
        return listed.sort_values("report_id", ignore_index=True)
    dev_share = (listed.split == DEV).mean()
    drawn = make_split(new, dev_size=round(dev_share * len(new)), seed=seed)
    return pd.concat([listed, drawn], ignore_index=True).sort_values("report_id", ignore_index=True)


def assign_split(report_ids: pd.Series, split: pd.DataFrame | None) -> pd.Series:
    """Each report's part; ``ALL`` for every report when there is no split.

    A split that leaves out some of the reports is an error: a report in
    neither part would silently drop out of the tables.
    """
    if split is None:
        return pd.Series(ALL, index=report_ids.index, name="split")
    parts = report_ids.map(split.set_index("report_id").split)
    if parts.isna().any():
        missing = report_ids[parts.isna()].tolist()
        raise DataError(f"the split file has no part for {len(missing)} report(s), e.g. {missing[:5]}")
    return parts.rename("split")


def evaluated(split: pd.Series) -> str:
    """The part the tables are computed on: the test part, or all reports when there is no split."""
    return TEST if TEST in set(split) else ALL


def truth_parts(truth: pd.DataFrame, split: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ground truth of the reports the tables are computed on (the test part, or every report without a
    split), and of the development reports (none without a split). A report in neither part is an error."""
    development = assign_split(truth.report_id, split) == DEV
    return truth[~development], truth[development]
