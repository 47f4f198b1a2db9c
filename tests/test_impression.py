"""Finding the impression in reports of several formats (no model involved)."""

import pytest

from analysis.impression import extract_impression


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
