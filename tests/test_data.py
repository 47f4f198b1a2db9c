"""Reading reports and ground truth (no model involved)."""

import pytest

from analysis.data import DataError, read_reports, read_truth


def write(tmp_path, text):
    path = tmp_path / "input.csv"
    path.write_text(text)
    return path


def test_text_that_looks_missing_is_kept_as_text(tmp_path):
    reports = read_reports(write(tmp_path, "report_id,report_text\nr1,N/A\nr2,NULL\nr3,\n"))
    assert reports.report_text.tolist() == ["N/A", "NULL", ""]


def test_missing_columns_are_named(tmp_path):
    with pytest.raises(DataError, match=r"missing column\(s\) \['report_text'\]"):
        read_reports(write(tmp_path, "report_id,text\nr1,x\n"))


def test_a_repeated_id_with_different_text_is_an_error_and_exact_repeats_collapse(tmp_path):
    with pytest.raises(DataError, match=r"different texts: \['r1'\]"):
        read_reports(write(tmp_path, "report_id,report_text\nr1,a\nr1,b\nr2,c\n"))
    assert read_reports(write(tmp_path, "report_id,report_text\nr1,a\nr1,a\nr2,c\n")).report_id.tolist() == ["r1", "r2"]


def test_truth_labels_must_follow_the_guideline(tmp_path):
    with pytest.raises(DataError, match="must be one of"):
        read_truth(write(tmp_path, "report_id,extravasation,locations\nr1,yes,\n"))
