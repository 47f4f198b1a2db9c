"""The reviewer page in a real browser: its script runs under its own Content-Security-Policy, its filters show
exactly the reports the sheet says they should, and markup inside a report stays text.

Headless Debian Chromium driven by selenium (``tests.browser``).
"""

import pandas as pd
import pytest

from analysis.reporting.review import (
    DISAGREES_WITH_TRUTH,
    MODELS_DISAGREE,
    models_of,
    reviewer_sheet,
    write_reviewer_sheet,
)
from tests.browser import chromium, needs_browser
from tests.test_review import case_features_frame, fill_cache, inputs_frame, labels_frame, truth_frame

pytestmark = needs_browser


@pytest.fixture(scope="module")
def sheet_and_page(tmp_path_factory):
    directory = tmp_path_factory.mktemp("review")
    fill_cache(directory / "responses.sqlite")
    sheet = reviewer_sheet(labels_frame(), truth_frame(), inputs_frame(), directory / "responses.sqlite",
                           case_features_frame())
    _, page = write_reviewer_sheet(sheet, directory)
    return sheet, page


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    # A laptop's half screen: the cards must fit it without scrolling sideways.
    with chromium(tmp_path_factory.mktemp("chromium-profile"), width=800) as browser:
        yield browser


@pytest.fixture
def page(driver, sheet_and_page):
    """The page freshly loaded (every filter at "any"), and the console messages its loading left."""
    driver.get(sheet_and_page[1].resolve().as_uri())
    return driver, driver.get_log("browser")


def visible_reports(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    return [card.find_element(By.TAG_NAME, "h2").text
            for card in driver.find_elements(By.CSS_SELECTOR, "article.card") if card.is_displayed()]


def choose(driver, filter_name: str, choice: str) -> None:
    """Pick a filter's choice by the text the reviewer sees."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.NAME, filter_name)).select_by_visible_text(choice)


def choices(driver, filter_name: str) -> list[str]:
    """The filter's choices other than "any", as shown."""
    from selenium.webdriver.common.by import By

    return [option.text for option in driver.find_elements(By.CSS_SELECTOR, f'select[name="{filter_name}"] option')
            if option.get_attribute("value")]


def shown_line(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, "shown").text


def named_for(listed_because: str, reason: str) -> list[str]:
    """The label sets ``listed_because`` names after ``reason``."""
    parts = dict(part.split(": ", 1) for part in listed_because.split("; ") if part)  # empty: flagged for nothing
    return parts[reason].split(", ") if reason in parts else []


def expected_reports(sheet: pd.DataFrame, filter_name: str, choice: str) -> list[str]:
    """What the sheet says a filter choice should leave, in the sheet's order."""
    if filter_name == "model":
        keep = sheet.listed_because.map(
            lambda why: choice in named_for(why, DISAGREES_WITH_TRUTH) + named_for(why, MODELS_DISAGREE))
    elif filter_name == "split":
        keep = sheet.split == choice
    elif filter_name == "kind":
        keep = sheet.kinds.map(lambda kinds: choice in kinds)
    else:
        keep = sheet.listed_because.str.contains(choice, regex=False)
    return sheet.report_id[keep].tolist()


def test_the_page_loads_without_console_errors_and_its_script_counts_the_cards(page, sheet_and_page):
    driver, console = page
    assert [entry for entry in console if entry["level"] in ("SEVERE", "WARNING")] == []
    assert shown_line(driver) == f"{len(sheet_and_page[0])} of {len(sheet_and_page[0])} reports shown"


def test_nothing_scrolls_sideways(page):
    driver, _ = page
    assert driver.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_cards_appear_closest_call_first(page, sheet_and_page):
    driver, _ = page
    sheet = sheet_and_page[0]
    assert visible_reports(driver) == sheet.report_id.tolist()
    scored = sheet.closeness.dropna()
    assert scored.is_monotonic_increasing and sheet.closeness.isna().sum() == 1 and pd.isna(sheet.closeness.iloc[-1])


@pytest.mark.parametrize("filter_name", ["model", "split", "kind", "why"])
def test_each_choice_hides_exactly_the_cards_that_do_not_match_and_reset_shows_all(page, sheet_and_page, filter_name):
    driver, _ = page
    sheet = sheet_and_page[0]
    present = {"model": models_of(sheet), "split": ["dev", "test"],
               "kind": sorted({kind for kinds in sheet.kinds for kind in kinds}),
               "why": [DISAGREES_WITH_TRUTH, MODELS_DISAGREE]}[filter_name]
    assert choices(driver, filter_name) == present
    for choice in present:
        choose(driver, filter_name, choice)
        expected = expected_reports(sheet, filter_name, choice)
        assert expected and len(expected) < len(sheet), f"{filter_name}={choice} does not test the filter"
        assert visible_reports(driver) == expected, f"{filter_name}={choice}"
        assert shown_line(driver) == f"{len(expected)} of {len(sheet)} reports shown"
        driver.find_element("id", "show-all").click()
        assert visible_reports(driver) == sheet.report_id.tolist()
        assert shown_line(driver) == f"{len(sheet)} of {len(sheet)} reports shown"


def test_filters_combine(page, sheet_and_page):
    driver, _ = page
    sheet = sheet_and_page[0]
    model = models_of(sheet, "raw")[-1]
    choose(driver, "model", model)
    choose(driver, "split", "test")
    expected = [report for report in expected_reports(sheet, "model", model)
                if report in expected_reports(sheet, "split", "test")]
    assert expected and visible_reports(driver) == expected


def test_markup_inside_a_report_stays_text(page, sheet_and_page):
    driver, _ = page
    assert driver.execute_script("return window.injected") is None
    assert driver.title == "Reviewer sheet"
    impressions = [pre.text for pre in driver.find_elements("css selector", "pre.impression")]
    assert any("<script>window.injected = true;" in text for text in impressions)
