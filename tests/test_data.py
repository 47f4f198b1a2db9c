"""Reading reports and ground truth (no model involved)."""

import pandas as pd
import pytest

from analysis.data.io import DataError, DataWarning, read_reports, read_truth


def write(tmp_path, text, name="input.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_text_that_looks_missing_is_kept_as_text(tmp_path):
    reports = read_reports(write(tmp_path, "report_id,report_text\nr1,N/A\nr2,NULL\nr3,\nr4,nan\n"))
    assert reports.report_text.tolist() == ["N/A", "NULL", "", "nan"]


def test_an_export_with_its_own_column_names_and_a_byte_order_mark(tmp_path):
    path = write(tmp_path, "\ufeffAccession,ReportBody,Site\nA1,IMPRESSION: normal,MGH\n")
    reports = read_reports(path, id_column="Accession", text_column="ReportBody")
    assert reports.to_dict("records") == [{"report_id": "A1", "report_text": "IMPRESSION: normal"}]


def test_parquet_reads_like_csv_and_nulls_become_empty_text(tmp_path):
    path = tmp_path / "reports.parquet"
    pd.DataFrame({"id": [1, 2], "text": ["IMPRESSION: normal", None]}).to_parquet(path)
    reports = read_reports(path, id_column="id", text_column="text")
    assert reports.to_dict("records") == [{"report_id": "1", "report_text": "IMPRESSION: normal"},
                                          {"report_id": "2", "report_text": ""}]


def test_missing_columns_are_named_with_the_fix(tmp_path):
    with pytest.raises(DataError, match=r"missing column\(s\) \['report_text'\]; found \['report_id', 'text'\]\. Name the columns"):
        read_reports(write(tmp_path, "report_id,text\nr1,x\n"))


def test_a_repeated_id_with_different_text_is_an_error(tmp_path):
    with pytest.raises(DataError, match=r"different texts: \['r1', 'r3'\]"):
        read_reports(write(tmp_path, "report_id,report_text\nr1,a\nr1,b\nr2,c\nr3,d\nr3,e\n"))


def test_exact_repeats_collapse_with_a_warning(tmp_path):
    with pytest.warns(DataWarning, match=r"1 exact duplicate row\(s\) kept once: \['r1'\]"):
        reports = read_reports(write(tmp_path, "report_id,report_text\nr1,a\nr1,a\nr2,c\n"))
    assert reports.report_id.tolist() == ["r1", "r2"]


def test_a_row_without_id_is_an_error(tmp_path):
    with pytest.raises(DataError, match="1 row\\(s\\) without a report id, e.g. row 3"):
        read_reports(write(tmp_path, "report_id,report_text\nr1,a\n ,b\n"))


def test_truth_labels_and_locations_must_follow_the_guideline(tmp_path):
    with pytest.raises(DataError, match="must be one of"):
        read_truth(write(tmp_path, "report_id,extravasation,locations\nr1,yes,\n"))
    with pytest.raises(DataError, match=r"unknown location\(s\) \['pelvis'\]"):
        read_truth(write(tmp_path, "report_id,extravasation,locations\nr1,Yes,spleen;pelvis\n"))
