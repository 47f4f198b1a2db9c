"""This run against a committed reference, on labels and tables built by hand (no model involved: the arithmetic),
and llama.cpp's system info parsed from a line this machine's llama-cpp-python printed."""

import json
import math
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from analysis.config import DEMO_DIR
from analysis.data.io import read_reports
from analysis.data.sentences import sentences
from analysis.evaluation.reference import compare, moved_values
from analysis.labeling.fingerprint import (
    differences,
    expected_identical,
    fingerprint,
    kernel_flags,
    parse_system_info,
    system_info,
)
from analysis.labeling.impression import extract_impression
from analysis.reporting.reproduction import (
    committed_table,
    read_reference,
    reproduction_markdown,
    summary,
    write_reference,
)
from tests.frames import labels_frame

# llama_cpp.llama_print_system_info() of llama-cpp-python 0.3.36 built on an AMD EPYC with AVX2.
SYSTEM_INFO = (b"CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | LLAMAFILE = 1 | "
               b"OPENMP = 1 | REPACK = 1 | ")
# The same build on the AMD EPYC without AVX2.
WITHOUT_AVX2 = b"CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | F16C = 1 | FMA = 1 | LLAMAFILE = 1 | OPENMP = 1 | REPACK = 1 | "


def numerics(line: bytes = SYSTEM_INFO, version: str = "0.3.36") -> dict:
    """A machine's record as ``system_info`` writes it, for llama.cpp's system-info ``line``."""
    features = parse_system_info(line.decode())
    return {"cpu": "AMD EPYC", "cpu_flags": ["avx", "avx2", "fma"], "threads": 2, "llama_cpp": features,
            "compiler": "GCC 12.2.0", "llama_cpp_python": version,
            "fingerprint": fingerprint(features, "GCC 12.2.0", version), "note": ""}


def labels(rows) -> pd.DataFrame:
    """(report_id, model, extravasation, p_yes) rows as a labels table."""
    return labels_frame([(report_id, model, answer, "", p_yes, "") for report_id, model, answer, p_yes in rows])


REFERENCE = labels([
    ("r1", "a", "Yes", 0.9), ("r2", "a", "No", 0.2), ("r3", "a", "Undefined", 0.4), ("r4", "a", "Yes", 0.8),
    ("r1", "b", "No", 0.1), ("r2", "b", "No", 0.1), ("r5", "b", "No", 0.3),
])
THIS_RUN = labels([
    ("r1", "a", "Yes", 0.9), ("r2", "a", "No", 0.2000004), ("r3", "a", "No", 0.45), ("r4", "a", "Yes", 0.8),
    ("r1", "b", "No", 0.1), ("r2", "b", "No", 0.1), ("r6", "b", "No", 0.3),
    ("r1", "c", "Yes", 0.7),
])


@pytest.fixture
def comparison() -> pd.DataFrame:
    return compare(THIS_RUN, REFERENCE).set_index("model")


def test_each_label_set_counts_the_labels_that_differ_and_the_largest_change_of_p_yes(comparison):
    a = comparison.loc["a"]
    assert (a.n_compared, a.n_labels_differ, a.n_p_yes_differ) == (4, 1, 1)
    # 0.2000004 is 0.200000 at the reference's 6 decimals: the same p_yes
    assert a.max_abs_delta_p_yes == pytest.approx(0.05)
    assert a.agreement == 0.75


def test_kappa_is_cohens_over_the_three_answers(comparison):
    # By hand: observed agreement 3/4; this run answers Yes 2, No 2, the reference Yes 2, No 1, Undefined 1,
    # so chance agreement (2·2 + 2·1 + 0·1)/16 = 6/16, and κ = (3/4 - 6/16)/(1 - 6/16) = 0.6.
    assert comparison.loc["a"].kappa == pytest.approx(0.6)
    assert comparison.loc["a"].kappa == pytest.approx(
        cohen_kappa_score(["Yes", "No", "No", "Yes"], ["Yes", "No", "Undefined", "Yes"]))


def test_kappa_is_undefined_where_both_runs_answer_one_class_and_the_agreement_stands_instead(comparison):
    b = comparison.loc["b"]
    assert math.isnan(b.kappa) and "undefined" in b.note and "No" in b.note
    assert b.agreement == 1.0 and b.n_labels_differ == 0


def test_reports_and_label_sets_only_one_run_has_are_counted_never_dropped(comparison):
    assert (comparison.loc["b"].only_this_run, comparison.loc["b"].only_reference) == (1, 1)  # r6 here, r5 there
    c = comparison.loc["c"]  # a label set the reference lacks
    assert (c.n_compared, c.only_this_run, c.only_reference) == (0, 1, 0)
    assert math.isnan(c.kappa) and np.isnan(c.max_abs_delta_p_yes)
    assert list(comparison.index) == ["a", "b", "c"]  # the reference's label sets first


TABLE1A = pd.DataFrame({"model": ["a", "b"], "f1": [0.93567, 0.72848], "n": [200, 200], "f1_method": ["bca", "bca"]})


def test_a_table_value_moved_only_where_its_printed_digits_differ():
    fresh = TABLE1A.assign(f1=[0.93570, 0.73012])  # a: 0.936 either way; b: 0.728 becomes 0.730
    moved = moved_values(fresh, TABLE1A, "Table 1A")
    assert moved.to_dict("records") == [{"table": "Table 1A", "row": "b", "column": "f1", "old": 0.72848, "new": 0.73012}]


def test_rows_and_columns_one_copy_lacks_are_listed():
    fresh = pd.concat([TABLE1A, pd.DataFrame({"model": ["c"], "f1": [0.5], "n": [200], "f1_method": ["bca"]})])
    moved = moved_values(fresh.assign(auc=0.9), TABLE1A.assign(n=[200, 199]), "Table 1A")
    assert moved[["row", "column", "old", "new"]].values.tolist() == [
        ["(every row)", "auc", "absent", "present"], ["c", "(row)", "absent", "present"], ["b", "n", 199, 200]]


def test_rows_cannot_be_matched_where_a_key_column_is_new():
    table1b = pd.DataFrame({"location": ["bowel"], "model": ["a"], "f1": [0.5]})
    moved = moved_values(table1b.assign(design="end to end"), table1b, "Table 1B")
    assert moved[["row", "column", "old", "new"]].values.tolist() == [["(every row)", "design", "absent", "present"]]


def test_identical_labels_are_expected_only_where_the_fingerprints_are_equal():
    here = numerics()
    assert expected_identical(numerics(), here)
    assert differences(numerics(), here) == []
    assert not expected_identical(numerics(WITHOUT_AVX2), here)
    assert differences(numerics(WITHOUT_AVX2), here) == [
        "CPU AVX2: absent in the reference, 1 here", "CPU BMI2: absent in the reference, 1 here"]
    assert not expected_identical(numerics(version="0.3.35"), here)
    unknown = {**here, "llama_cpp": None, "fingerprint": None}
    assert not expected_identical(unknown, unknown)  # two unknown builds are not the same build
    assert not expected_identical(None, here)


def test_the_summary_calls_a_difference_a_defect_only_on_the_reference_s_build(comparison):
    comparison = comparison.reset_index()
    same = summary(comparison, moved_values(TABLE1A, TABLE1A, "Table 1A"), numerics(), numerics())
    assert same.startswith("A defect: not reproduced on the reference's llama.cpp build: 1 of 6 labels differ")
    other = summary(comparison, None, numerics(WITHOUT_AVX2), numerics())
    assert other.startswith("Differs from the reference, as it may where llama.cpp's build is not the reference's "
                            "(CPU AVX2: absent in the reference, 1 here, and 1 more)")
    reproduced = summary(compare(REFERENCE, REFERENCE), moved_values(TABLE1A, TABLE1A, "Table 1A"), numerics(), numerics())
    assert reproduced == ("Reproduced on the reference's llama.cpp build: all 7 labels and p_yes equal the reference's; "
                          "Tables 1A/1B print as the committed ones.")


def test_the_report_opens_with_its_summary_and_shows_both_machines_and_the_moves(comparison):
    comparison = comparison.reset_index()
    moved = moved_values(TABLE1A.assign(f1=[0.93567, 0.73012]), TABLE1A, "Table 1A")
    markdown = reproduction_markdown(comparison, moved, numerics(WITHOUT_AVX2), numerics())
    line = summary(comparison, moved, numerics(WITHOUT_AVX2), numerics())
    assert markdown.splitlines()[2] == line and "1 printed value of Tables 1A/1B moved (by at most 0.002)" in line
    assert "CPU: AVX F16C FMA LLAMAFILE OPENMP REPACK SSE3 SSSE3" in markdown  # the reference's build
    assert "| Table 1A | b     | f1       | 0.728 | 0.730 |" in markdown
    assert "Identical labels are not assured: CPU AVX2: absent in the reference, 1 here" in markdown


def test_llama_cpp_system_info_is_read_per_backend():
    assert parse_system_info(SYSTEM_INFO.decode()) == {"CPU": {
        "SSE3": "1", "SSSE3": "1", "AVX": "1", "AVX2": "1", "F16C": "1", "FMA": "1", "BMI2": "1", "LLAMAFILE": "1",
        "OPENMP": "1", "REPACK": "1"}}
    assert parse_system_info("CUDA : ARCHS = 890 | USE_GRAPHS = 1 | CPU : AVX = 1 | ") == {
        "CUDA": {"ARCHS": "890", "USE_GRAPHS": "1"}, "CPU": {"AVX": "1"}}


def test_the_cpu_s_kernel_instruction_sets_are_read_from_cpuinfo():
    cpuinfo = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu pni ssse3 fma avx f16c avx512f avx512_vnni aes\n"
    assert kernel_flags(cpuinfo) == ["avx", "avx512_vnni", "avx512f", "f16c", "fma", "sse3", "ssse3"]


def test_without_llama_cpp_the_record_says_so_and_promises_nothing(monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # import llama_cpp now raises ImportError
    record = system_info()
    assert record["fingerprint"] is None and "could not be imported" in record["note"]
    assert record["cpu"] and record["threads"]
    assert not expected_identical(record, record)


def test_the_reference_keeps_p_yes_to_6_decimals_and_the_machine_beside_it(tmp_path):
    paths = write_reference(THIS_RUN, tmp_path / "reference_labels.csv", numerics())
    assert [path.name for path in paths] == ["reference_labels.csv", "reference_evidence.csv", "reference_labels.json"]
    assert json.loads(paths[2].read_text())["numerics"] == numerics()
    assert list(pd.read_csv(paths[0], nrows=0).columns) == ["report_id", "model", "extravasation", "p_yes"]
    reference = read_reference(paths[0])
    assert reference.p_yes.iloc[1] == 0.2 and reference.attrs["numerics"] == numerics()
    assert compare(THIS_RUN, reference).n_p_yes_differ.sum() == 0


def test_no_committed_table_outside_a_git_checkout(tmp_path):
    (tmp_path / "table1a.csv").write_text(TABLE1A.to_csv(index=False))
    assert committed_table(tmp_path / "table1a.csv") is None


def test_every_evidence_sentence_of_the_committed_demo_run_is_a_sentence_of_its_impression():
    """Over the whole committed demo run (reference_evidence.csv, written from its labels): each span is, to the
    character, one of the project's sentences of the impression the model was shown."""
    spans = pd.read_csv(DEMO_DIR / "reference_evidence.csv", dtype={"text": str})
    reference = read_reference(DEMO_DIR / "reference_labels.csv")
    reports = read_reports(DEMO_DIR / "reports.csv").set_index("report_id").report_text
    assert len(spans) > 300 and spans.model.nunique() >= 4  # three models and the ensemble, at least
    for report_id, group in spans.groupby("report_id"):
        impression = extract_impression(reports[report_id]).text
        own = {(sentence.start, sentence.end) for sentence in sentences(impression)}
        for start, end, text in zip(group.start, group.end, group.text):
            assert impression[start:end] == text and (start, end) in own, (report_id, text)
    # Only reports the gate model called Yes have evidence.
    gate = reference[(reference.model == "qwen2.5-coder:1.5b") & (reference.extravasation == "Yes")].report_id
    assert set(spans.report_id) <= set(gate)
