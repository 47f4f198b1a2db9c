"""A reviewer's decisions applied to hand-made labels: right keeps the label, wrong takes the reviewer's answer and
sites, every report keeps one row per label set, a decision that cannot apply is refused, and the scores move as
the decisions say (no model involved)."""

import pandas as pd
import pytest

from analysis.__main__ import main
from analysis.data.io import DataError, write_table
from analysis.data.vocabulary import ENSEMBLE, Status
from analysis.evaluation.adjudicate import DECISION_COLUMNS, adjudicate, read_decisions, review_scores
from analysis.labeling.labels import read_labels, write_labels
from tests.frames import labels_frame, truth_frame

MODEL = "qwen2.5-coder:1.5b"
# report_id: (truth, the ensemble's answer and sites); the model says No throughout
CASES = {
    "r1": ("Yes", "spleen", "Yes", "spleen"),  # right
    "r2": ("No", "", "Yes", "liver"),  # wrong: a false positive
    "r3": ("Yes", "liver", "No", ""),  # wrong: a miss
    "r4": ("No", "", "No", ""),
    "r5": ("Undefined", "", "No", ""),  # not scored
    "r6": ("Yes", "kidney", "Yes", "kidney"),
}
STAMP = "2026-12-07T03:00:00.000Z"


def labels() -> pd.DataFrame:
    return labels_frame([row for report_id, (_, _, answer, sites) in CASES.items()
                         for row in ((report_id, MODEL, "No", "", 0.2, ""), (report_id, ENSEMBLE, answer, sites, None, ""))])


def truth() -> pd.DataFrame:
    return truth_frame({"report_id": list(CASES), "extravasation": [case[0] for case in CASES.values()],
                        "locations": [case[1] for case in CASES.values()]})


def decisions(*rows) -> pd.DataFrame:
    """Decisions as the page saves them and ``read_decisions`` reads them: sites as lists."""
    frame = pd.DataFrame(rows or [("r1", ENSEMBLE, "right", "Yes", "spleen", STAMP),
                                  ("r2", ENSEMBLE, "wrong", "No", "", STAMP),
                                  ("r3", ENSEMBLE, "wrong", "Yes", "liver;spleen", STAMP)], columns=DECISION_COLUMNS)
    return frame.assign(locations=frame.locations.map(lambda sites: [site for site in sites.split(";") if site]))


def row(table: pd.DataFrame, report_id: str, label_set: str = ENSEMBLE) -> pd.Series:
    (found,) = table.index[(table.report_id == report_id) & (table.model == label_set)]
    return table.loc[found]


def test_a_right_label_keeps_its_answer_and_sites_and_says_it_was_reviewed():
    reviewed = row(adjudicate(labels(), decisions()), "r1")
    assert (reviewed.extravasation, reviewed.locations) == ("Yes", ["spleen"])
    assert reviewed.status == Status.REVIEWED and reviewed.locations_status == Status.REVIEWED
    assert reviewed.reasons == [f"reviewed {STAMP}: the label Yes (spleen) is right"]


def test_a_wrong_label_takes_the_reviewers_answer_and_sites():
    reviewed = adjudicate(labels(), decisions())
    assert (row(reviewed, "r2").extravasation, row(reviewed, "r2").locations) == ("No", [])
    assert row(reviewed, "r2").reasons == [f"reviewed {STAMP}: the label Yes (liver) is wrong; the reviewer's answer is No"]
    assert row(reviewed, "r3").extravasation == "Yes"
    assert row(reviewed, "r3").locations == ["liver", "spleen"]  # in the guideline's order


def test_every_report_keeps_one_row_per_label_set_and_the_undecided_rows_are_untouched():
    before, reviewed = labels(), adjudicate(labels(), decisions())
    assert len(reviewed) == len(before)
    assert reviewed.groupby(["report_id", "model"]).size().eq(1).all()
    decided = before.report_id.isin(["r1", "r2", "r3"]) & (before.model == ENSEMBLE)
    pd.testing.assert_frame_equal(reviewed[~decided], before[~decided])
    assert set(reviewed.status[decided]) == {Status.REVIEWED}


def test_decisions_read_back_from_the_saved_csv(tmp_path):
    path = write_table(decisions().assign(locations=lambda frame: frame.locations.map(";".join)), tmp_path / "d.csv")
    read = read_decisions(path)
    assert read.locations.tolist() == [["spleen"], [], ["liver", "spleen"]]
    pd.testing.assert_frame_equal(adjudicate(labels(), read), adjudicate(labels(), decisions()))
    write_table(decisions().drop(columns="verdict"), tmp_path / "old.csv")
    with pytest.raises(DataError, match=r"missing \['verdict'\]"):
        read_decisions(tmp_path / "old.csv")
    (tmp_path / "none.csv").write_text(",".join(DECISION_COLUMNS) + "\r\n")
    with pytest.raises(DataError, match="no decisions in it"):
        read_decisions(tmp_path / "none.csv")


@pytest.mark.parametrize(("decision", "message"), [
    (("r9", ENSEMBLE, "wrong", "No", "", STAMP), "name a report the labels do not have: r9"),
    (("r1", "gpt-5", "wrong", "No", "", STAMP), "name a label set the labels do not have"),
    (("r1", ENSEMBLE, "wrong", "Maybe", "", STAMP), "without an answer of Yes/No/Undefined"),
    (("r1", ENSEMBLE, "wrong", "", "", STAMP), "without an answer of Yes/No/Undefined"),
    (("r1", ENSEMBLE, "unsure", "Yes", "", STAMP), "a verdict other than right or wrong"),
    (("r1", ENSEMBLE, "wrong", "Yes", "pancreas", STAMP), "a site not among"),
    (("r1", ENSEMBLE, "wrong", "No", "spleen", STAMP), "give sites to an answer other than Yes"),
    (("r3", ENSEMBLE, "right", "Yes", "liver", STAMP), "call right a label whose answer the labels do not hold"),
])
def test_a_decision_that_cannot_apply_is_refused_by_name(decision, message):
    with pytest.raises(DataError, match=message):
        adjudicate(labels(), decisions(decision))


def test_a_label_decided_twice_is_refused():
    twice = [("r2", ENSEMBLE, "wrong", "No", "", STAMP), ("r2", ENSEMBLE, "right", "Yes", "liver", STAMP)]
    with pytest.raises(DataError, match=r"2 decision\(s\) decide the same label twice: r2 \(ensemble\)"):
        adjudicate(labels(), decisions(*twice))


def test_the_scores_move_as_the_decisions_say():
    scores = review_scores(labels(), adjudicate(labels(), decisions()), truth(), decisions()).set_index("labels")
    before, after = scores.loc["before review"], scores.loc["after review"]
    assert before.label_set == after.label_set == ENSEMBLE
    # Scored: the five reports whose truth is Yes or No; before, one false positive and one miss.
    assert (before.precision, before.recall, before.accuracy) == pytest.approx((2 / 3, 2 / 3, 3 / 5))
    assert (after.precision, after.recall, after.f1, after.accuracy) == (1, 1, 1, 1)
    assert before.n == after.n == 5 and after.reviewed == 3


def test_the_command_writes_the_reviewed_labels_and_their_scores(tmp_path, capsys):
    labels_path = write_labels(labels(), tmp_path / "labels.csv")
    truth_path = write_table(truth().assign(locations=truth().locations.map(";".join)), tmp_path / "truth.csv")
    split_path = write_table(pd.DataFrame({"report_id": list(CASES), "split": ["test"] * 5 + ["dev"]}), tmp_path / "split.csv")
    decisions_path = write_table(decisions().assign(locations=lambda frame: frame.locations.map(";".join)),
                                 tmp_path / "decisions.csv")
    assert main(["adjudicate", "--decisions", str(decisions_path), "--labels", str(labels_path),
                 "--truth", str(truth_path), "--split", str(split_path)]) == 0
    printed = capsys.readouterr().out
    assert "3 decisions (1 right, 2 wrong) on 3 reports, label set(s) ensemble" in printed
    reviewed = read_labels(tmp_path / "labels_reviewed.csv")
    assert row(reviewed, "r3").extravasation == "Yes" and row(reviewed, "r3").status == Status.REVIEWED
    scores = (tmp_path / "labels_reviewed_scores.md").read_text()
    assert "the reports of the test part of" in scores and "| ensemble    | after review" in scores
    # Four scored reports of the test part (r6 is a development report): r1 right, r2 and r3 were wrong.
    assert "| 0.500       | 0.500    | 0.500 | 0.500      | 4   | 3" in scores


def test_the_command_refuses_a_bad_decision_in_one_line(tmp_path, capsys):
    labels_path = write_labels(labels(), tmp_path / "labels.csv")
    decisions_path = write_table(decisions(("r9", ENSEMBLE, "wrong", "No", "", STAMP)), tmp_path / "decisions.csv")
    assert main(["adjudicate", "--decisions", str(decisions_path), "--labels", str(labels_path)]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: 1 decision(s) name a report the labels do not have: r9") and error.count("\n") == 1
    assert not (tmp_path / "labels_reviewed.csv").exists()
