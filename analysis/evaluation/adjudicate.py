"""A reviewer's decisions applied to the labels, and the decided label sets scored before and after.

The reviewer sheet's page saves one row per label decided (``DECISION_COLUMNS``):
``verdict`` is ``right`` or ``wrong``; ``answer`` and ``locations`` (sites,
semicolon-separated) are the label's own for a right label and the
reviewer's for a wrong one; ``reviewed_at`` is when the decision was made.
``adjudicate`` turns each decision into that label's row with status
``reviewed``: a right label keeps its answer and sites, a wrong one takes
the reviewer's. Every other row stays as it was, so every report keeps
exactly one row per label set.
"""

import pandas as pd

from analysis.data.io import DataError, parse_list, read_table
from analysis.data.vocabulary import LABELS, LOCATIONS, POSITIVE, Status
from analysis.evaluation.metrics import DEFAULT_BOOTSTRAP, table1a
from analysis.evaluation.scoring import scored_truth
from analysis.specs import Bootstrap

DECISION_COLUMNS = ("report_id", "label_set", "verdict", "answer", "locations", "reviewed_at")
RIGHT, WRONG = "right", "wrong"
SCORED = ["precision", "recall", "f1", "accuracy"]  # the scores shown before and after review
BEFORE, AFTER = "before review", "after review"


def read_decisions(path) -> pd.DataFrame:
    """The decisions file the reviewer sheet's page saves, its sites as lists; a missing column, or no decision
    at all, is a DataError."""
    decisions = read_table(path)
    if missing := [name for name in DECISION_COLUMNS if name not in decisions]:
        raise DataError(f"{path}: a decisions file has the columns {list(DECISION_COLUMNS)}; missing {missing}")
    if decisions.empty:  # saved before any label was marked: nothing to apply or to score
        raise DataError(f"{path}: no decisions in it")
    return decisions.assign(locations=decisions.locations.map(parse_list))


def _check(decisions: pd.DataFrame, labels: pd.DataFrame) -> None:
    """Every way a decision cannot apply to ``labels``, as a DataError that names the first decisions at fault."""
    def refuse(faulty: pd.Series, why: str) -> None:
        if faulty.any():
            named = [f"{report_id} ({label_set})" for report_id, label_set
                     in decisions.loc[faulty, ["report_id", "label_set"]].itertuples(index=False)]
            raise DataError(f"{faulty.sum()} decision(s) {why}: {', '.join(named[:5])}")

    label_sets = sorted(set(labels.model))
    refuse(~decisions.label_set.isin(label_sets), f"name a label set the labels do not have ({label_sets})")
    refuse(~decisions.report_id.isin(set(labels.report_id)), "name a report the labels do not have")
    refuse(~decisions.verdict.isin([RIGHT, WRONG]), f"have a verdict other than {RIGHT} or {WRONG}")
    refuse(~decisions.answer.isin(LABELS) & (decisions.verdict == WRONG),
           f"mark a label wrong without an answer of {'/'.join(LABELS)}")
    refuse(decisions.locations.map(lambda sites: not set(sites) <= set(LOCATIONS)),
           f"name a site not among {list(LOCATIONS)}")
    refuse(decisions.locations.str.len().gt(0) & (decisions.answer != POSITIVE),
           "give sites to an answer other than Yes")
    refuse(decisions.duplicated(["report_id", "label_set"], keep=False), "decide the same label twice")
    current = labels.set_index(["report_id", "model"]).extravasation
    theirs = current.reindex(pd.MultiIndex.from_frame(decisions[["report_id", "label_set"]])).to_numpy()
    refuse((decisions.verdict == RIGHT) & (decisions.answer != "") & (decisions.answer != theirs),
           "call right a label whose answer the labels do not hold (decided on another run's labels?)")


def _decided_reason(decision, label) -> str:
    def said(answer: str, sites: list[str]) -> str:
        return answer + (f" ({', '.join(sites)})" if sites else "")

    reviewed = f"reviewed {decision.reviewed_at}" if decision.reviewed_at else "reviewed"
    if decision.verdict == RIGHT:
        return f"{reviewed}: the label {said(label.extravasation, label.locations)} is right"
    return (f"{reviewed}: the label {said(label.extravasation, label.locations)} is wrong; "
            f"the reviewer's answer is {said(decision.answer, decision.locations)}")


def adjudicate(labels: pd.DataFrame, decisions: pd.DataFrame) -> pd.DataFrame:
    """``labels`` with each decision applied to its report's row of the decided label set (see the module's
    docstring): status ``reviewed``, sites' status too, and a reason saying what the reviewer decided and what
    the label was. A decision that cannot apply (an unknown report or label set, an answer outside
    Yes/No/Undefined, sites outside the guideline's, a label decided twice) is a DataError."""
    _check(decisions, labels)
    reviewed = labels.copy()
    row_of = {key: row for row, key in enumerate(zip(labels.report_id, labels.model))}
    for decision in decisions.itertuples(index=False):
        row = reviewed.index[row_of[decision.report_id, decision.label_set]]
        label = labels.loc[row]
        if decision.verdict == WRONG:
            reviewed.at[row, "extravasation"] = decision.answer
            reviewed.at[row, "locations"] = [site for site in LOCATIONS if site in decision.locations]
        reviewed.at[row, "status"] = Status.REVIEWED
        reviewed.at[row, "locations_status"] = Status.REVIEWED
        reviewed.at[row, "reasons"] = [*label.reasons, _decided_reason(decision, label)]
    return reviewed


def review_scores(labels: pd.DataFrame, reviewed: pd.DataFrame, truth: pd.DataFrame, decisions: pd.DataFrame,
                  bootstrap: Bootstrap = DEFAULT_BOOTSTRAP) -> pd.DataFrame:
    """Each decided label set's Table 1A scores (``SCORED``; the reports of ``truth`` whose truth is Yes or No,
    Yes against the rest) before and after review, with the reports scored (``n``) and how many of them were
    reviewed."""
    decided = list(dict.fromkeys(decisions.label_set))
    scored = set(scored_truth(truth).report_id)
    tables = {when: table1a(table[table.model.isin(decided)], truth, bootstrap).set_index("model")
              for when, table in ((BEFORE, labels), (AFTER, reviewed))}
    return pd.DataFrame([
        {"label_set": label_set, "labels": when, **tables[when].loc[label_set, SCORED].to_dict(),
         "n": int(tables[when].at[label_set, "n"]),
         "reviewed": int(decisions.report_id[decisions.label_set == label_set].isin(scored).sum())}
        for label_set in decided for when in (BEFORE, AFTER)
    ])
