"""The impression's sentences: verbatim spans, in order, split where a reader would split them."""

import pandas as pd
import pytest

from analysis.config import DEMO_DIR
from analysis.data.sentences import LETTERS, by_letter, lettered, sentences
from analysis.labeling.impression import extract_impression


def texts(text: str) -> list[str]:
    return [sentence.text for sentence in sentences(text)]


def test_a_line_splits_at_a_full_stop_before_a_capital_but_not_after_an_abbreviation_or_an_initial():
    assert texts("Grade IV splenic laceration. Active extravasation. Discussed with Dr. Smith at 10:42.") == [
        "Grade IV splenic laceration.", "Active extravasation.", "Discussed with Dr. Smith at 10:42."]
    assert texts("Segment 6 laceration vs. contusion. Seen by J. Doe.") == ["Segment 6 laceration vs. contusion.",
                                                                           "Seen by J. Doe."]


def test_list_markers_are_left_out_and_header_lines_are_no_sentence():
    text = "IMPRESSION:\n1. Splenic laceration.\n2) Small hemoperitoneum.\n- Left rib fractures.\nAdditional findings:\n• None."
    assert texts(text) == ["Splenic laceration.", "Small hemoperitoneum.", "Left rib fractures.", "None."]


def test_lowercase_after_a_full_stop_and_decimals_stay_in_one_sentence():
    assert texts("Hematoma measures 3.2 cm. with no change.") == ["Hematoma measures 3.2 cm. with no change."]


def test_every_span_of_every_demo_impression_is_its_verbatim_text_in_order():
    reports = pd.read_csv(DEMO_DIR / "reports.csv", dtype=str, keep_default_na=False)
    counted = 0
    for report in reports.report_text:
        impression = extract_impression(report).text
        if not impression:
            continue
        found = sentences(impression)
        assert found, impression
        for sentence in found:
            assert impression[sentence.start:sentence.end] == sentence.text and sentence.text == sentence.text.strip()
        assert all(a.end <= b.start for a, b in zip(found, found[1:]))
        counted += 1
    assert counted > 350


def test_letters_name_the_sentences_and_only_the_first_26_can_be_chosen():
    text = " ".join(f"Finding {n}." if n == 0 else f"Finding {LETTERS[n % 26]}{n}." for n in range(30))
    listing = lettered(text).splitlines()
    assert len(listing) == 30 and listing[0] == "A. Finding 0." and listing[25].startswith("Z. ")
    assert listing[26].startswith("-  ")
    chosen = by_letter(text)
    assert list(chosen) == list(LETTERS) and chosen["B"].text == "Finding B1."


@pytest.mark.parametrize("text", ["", "   \n", "IMPRESSION:"])
def test_no_text_has_no_sentences(text):
    assert sentences(text) == [] and lettered(text) == ""
