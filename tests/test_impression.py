"""Finding the impression in reports of several formats (no model involved)."""

import csv

import pandas as pd
import pytest

from analysis.config import DEMO_DIR, ROOT
from analysis.data.io import write_table
from analysis.labeling.impression import extract_impression
from analysis.labeling.inputs import prompt_inputs, read_inputs
from analysis.specs import load_run


@pytest.mark.parametrize(
    "report, expected",
    [
        ("FINDINGS: Liver lacerated.\nIMPRESSION: Grade II liver laceration.", "Grade II liver laceration."),
        ("Findings: ...\nImpression:\n1. Splenic laceration.\n2. No active extravasation.",
         "1. Splenic laceration.\n2. No active extravasation."),
        ("FINDINGS: ...\nCONCLUSION: Hemoperitoneum.", "Hemoperitoneum."),
        ("FINDINGS: ...\nIMPRESSION\nActive extravasation from the spleen.", "Active extravasation from the spleen."),
        ("FINDINGS: ...\n  Impressions:  Normal CT.", "Normal CT."),
    ],
)
def test_the_impression_is_found_in_each_format(report, expected):
    assert extract_impression(report).text == expected


def test_an_addendum_after_the_impression_is_kept():
    report = "IMPRESSION: No active extravasation.\n\nADDENDUM: On review, active extravasation from the spleen."
    assert extract_impression(report).text.endswith("active extravasation from the spleen.")


def test_the_word_impression_inside_a_sentence_is_not_a_header():
    found = extract_impression("FINDINGS: The impression of the liver is normal.\nIMPRESSION: Normal.")
    assert found.text == "Normal." and found.method == "header 'IMPRESSION'"


@pytest.mark.parametrize(
    "report, reason",
    [("", "empty report"), ("   \n\t", "empty report"), ("FINDINGS: normal.", "no impression section"),
     ("FINDINGS: normal.\nIMPRESSION:\n", "impression section is empty")],
)
def test_no_impression_gives_a_reason(report, reason):
    found = extract_impression(report)
    assert found.text is None and found.reason == reason


@pytest.mark.parametrize(
    "report, expected, method",
    [
        ("FINDINGS: ...\n**IMPRESSION:** Grade III splenic laceration.", "Grade III splenic laceration.", "header 'IMPRESSION'"),
        ("FINDINGS: ...\n*** IMPRESSION ***\n- Hemoperitoneum.\n- No active extravasation.",
         "- Hemoperitoneum.\n- No active extravasation.", "header 'IMPRESSION'"),
        ("EXAM: CT A/P\nFINDINGS/IMPRESSION:\nActive extravasation from a mesenteric branch.",
         "Active extravasation from a mesenteric branch.", "header 'FINDINGS/IMPRESSION'"),
        ("CLINICAL IMPRESSION: trauma.\nFINDINGS: ...\nIMPRESSION: Normal CT.", "Normal CT.", "header 'IMPRESSION'"),
        ("Findings: ...\nSummary: Renal laceration without extravasation.", "Renal laceration without extravasation.",
         "header 'Summary'"),
        ("Summary: MVC.\nFindings: ...\nConclusion: Normal.", "Normal.", "header 'Conclusion'"),
    ],
)
def test_headers_in_other_styles(report, expected, method):
    found = extract_impression(report)
    assert (found.text, found.method) == (expected, method)


def test_an_addendum_above_the_original_report_is_appended():
    report = (
        "ADDENDUM: Delayed images show active extravasation from the spleen. Dr. Lee notified.\n\n"
        "ORIGINAL REPORT\nEXAM: CT abdomen\nFINDINGS: Splenic laceration.\nIMPRESSION: Grade III splenic laceration."
    )
    found = extract_impression(report)
    assert found.text == ("Grade III splenic laceration.\n\n"
                          "ADDENDUM: Delayed images show active extravasation from the spleen. Dr. Lee notified.")
    assert found.method == "header 'IMPRESSION' + addendum above the report"


def test_signature_lines_are_dropped():
    report = "IMPRESSION: Normal CT.\n\nElectronically signed by: J. Doe, MD 01/02/2024 03:04"
    assert extract_impression(report).text == "Normal CT."


@pytest.mark.parametrize(
    "pointer", ["See findings above.", "Please see above.", "As above.", "Refer to the findings.", "1. See findings section.",
                "As described in the findings above."],
)
def test_an_impression_that_only_points_elsewhere_is_none(pointer):
    found = extract_impression(f"FINDINGS: Splenic laceration with active extravasation.\nIMPRESSION: {pointer}")
    assert found.text is None and found.reason == "impression only refers to the findings"


def test_the_demo_corpus_has_an_impression_exactly_where_its_ground_truth_expects_one():
    reports = pd.read_csv(DEMO_DIR / "reports.csv", dtype=str, keep_default_na=False)
    features = pd.read_csv(DEMO_DIR / "case_features.csv", dtype=str, keep_default_na=False)
    without = {r.report_id for r in reports.itertuples() if extract_impression(r.report_text).text is None}
    assert without == set(features.report_id[features.hard_cases.str.contains("no_impression")])


def roco_captions():
    with open(ROOT / "tests" / "external" / "roco_captions.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_published_captions_come_back_verbatim_from_an_impression_section():
    # Real text written by people (curly quotes, French, typos): extraction must not alter it.
    captions = roco_captions()
    assert len(captions) == 99
    for caption in captions:
        report = f"EXAM: CT\r\nFINDINGS: See images.\r\n\r\nIMPRESSION:\r\n{caption['report_text']}\r\n"
        assert extract_impression(report).text == caption["report_text"].strip(), caption["report_id"]


def test_a_run_may_send_the_whole_report_when_there_is_no_impression():
    reports = pd.DataFrame({"report_id": ["a", "b", "c"],
                            "report_text": ["FINDINGS: splenic laceration.", "IMPRESSION: Normal.", "  "]})
    default = prompt_inputs(reports, load_run("embedded"))
    assert default.prompt_text.tolist() == [None, "Normal.", None]
    assert default.reason.tolist() == ["no impression section", "", "empty report"]
    whole = prompt_inputs(reports, load_run("embedded").model_copy(update={"no_impression": "full_report"}))
    assert whole.prompt_text.tolist() == ["FINDINGS: splenic laceration.", "Normal.", None]
    assert whole.reason.tolist() == ["", "", "empty report"]


def test_inputs_written_and_read_back_still_send_nothing_for_reports_without_an_impression(tmp_path):
    reports = pd.DataFrame({"report_id": ["a", "b"], "report_text": ["FINDINGS: normal.", "IMPRESSION: Normal."]})
    inputs = prompt_inputs(reports, load_run("embedded"))
    write_table(inputs, tmp_path / "inputs.csv")
    again = read_inputs(tmp_path / "inputs.csv")
    assert again.prompt_text.tolist() == [None, "Normal."]
    assert again.reason.tolist() == ["no impression section", ""]
