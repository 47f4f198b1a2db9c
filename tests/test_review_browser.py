"""The reviewer page in a real browser: its script runs under its own Content-Security-Policy, its filters show
exactly the reports the sheet says they should, markup inside a report stays text, and the decisions a reviewer
marks are saved to a file that ``python -m analysis adjudicate`` applies to the labels.

Headless Debian Chromium driven by selenium (``tests.browser``).
"""

import time
from datetime import datetime

import pandas as pd
import pytest

from analysis.__main__ import main
from analysis.data.io import write_table
from analysis.data.vocabulary import ENSEMBLE, Status
from analysis.evaluation.adjudicate import DECISION_COLUMNS, read_decisions
from analysis.labeling.labels import read_labels, write_labels

from analysis.reporting.review import (
    DISAGREES_WITH_TRUTH,
    MODELS_DISAGREE,
    models_of,
    reviewer_sheet,
    write_reviewer_sheet,
)
from tests.browser import chromium, needs_browser
from tests.test_review import (
    PRIORITY_FIRST,
    case_features_frame,
    fill_cache,
    inputs_frame,
    labels_frame,
    prioritized_labels,
    truth_frame,
)

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


@pytest.fixture(scope="module")
def queue_files(tmp_path_factory):
    """A sheet with review priorities and a chosen label set, its page, and the labels it was written from."""
    directory = tmp_path_factory.mktemp("queue")
    fill_cache(directory / "responses.sqlite")
    labels = prioritized_labels()
    sheet = reviewer_sheet(labels, truth_frame(), inputs_frame(), directory / "responses.sqlite",
                           case_features_frame(), chosen=ENSEMBLE)
    _, page = write_reviewer_sheet(sheet, directory)
    return page, write_labels(labels, directory / "labels.csv")


def decide(driver, report_id: str, verdict: str, answer: str = "", sites: tuple[str, ...] = ()) -> None:
    """Mark the chosen label set's label of a report's card as a reviewer does."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    fieldset = driver.find_element(By.CSS_SELECTOR, f'article.card[data-report="{report_id}"] fieldset.decision')

    def click(element):
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)  # not under the filters
        element.click()

    click(fieldset.find_element(By.CSS_SELECTOR, f'input[value="{verdict}"]'))
    if answer:
        Select(fieldset.find_element(By.NAME, "answer")).select_by_visible_text(answer)
    for site in sites:
        click(fieldset.find_element(By.CSS_SELECTOR, f'input[name="site"][value="{site}"]'))


def downloaded(folder, name: str, timeout: float = 20.0):
    """The file the browser finished downloading into ``folder``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (folder / name).is_file() and not list(folder.glob("*.crdownload")):
            return folder / name
        time.sleep(0.1)
    raise AssertionError(f"no {name} in {folder} after {timeout} s: {list(folder.iterdir())}")


def test_a_reviewer_works_down_the_queue_and_adjudicate_applies_the_saved_decisions(driver, queue_files, tmp_path):
    from selenium.webdriver.common.by import By

    page, labels_path = queue_files
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.get(page.resolve().as_uri())

    assert visible_reports(driver) == PRIORITY_FIRST
    marks = driver.find_elements(By.CSS_SELECTOR, "p.budget")
    assert [mark.text for mark in marks] == [
        "Above: the first 1 report (5% of the queue), with an estimated 0.9 of the 3.7 estimated errors.",
        "Above: the first 2 reports (20% of the queue), with an estimated 1.6 of the 3.7 estimated errors."]
    choose(driver, "split", "test")
    assert not any(mark.is_displayed() for mark in marks)  # they count the whole queue, not a filtered part
    driver.find_element(By.ID, "show-all").click()

    decide(driver, "all-wrong", "wrong", "No")  # the ensemble said Yes (spleen)
    decide(driver, "one-wrong", "right")  # Yes (spleen), as the truth has it
    decide(driver, "not-sent", "wrong", "Yes", ("spleen", "kidney"))  # Undefined: nothing was sent
    decide(driver, "agree", "wrong", "Yes", ("liver",))  # a misclick, cleared
    driver.find_element(By.CSS_SELECTOR, 'article.card[data-report="agree"] button.undecide').click()
    assert driver.find_element(By.ID, "decided").text == "3 decisions, not saved yet"
    driver.find_element(By.ID, "save-decisions").click()
    assert driver.find_element(By.ID, "decided").text == "3 decisions, saved"

    saved = downloaded(downloads, "reviewer_decisions.csv")
    decisions = read_decisions(saved)
    assert tuple(decisions.columns) == DECISION_COLUMNS
    assert decisions[["report_id", "label_set", "verdict", "answer"]].values.tolist() == [
        ["all-wrong", ENSEMBLE, "wrong", "No"], ["one-wrong", ENSEMBLE, "right", "Yes"],
        ["not-sent", ENSEMBLE, "wrong", "Yes"]]
    assert decisions.locations.tolist() == [[], ["spleen"], ["spleen", "kidney"]]
    assert all(datetime.fromisoformat(stamp).tzinfo is not None for stamp in decisions.reviewed_at)

    truth_path = write_table(truth_frame().assign(locations=lambda truth: truth.locations.map(";".join)),
                             tmp_path / "truth.csv")
    out = tmp_path / "labels_reviewed.csv"
    assert main(["adjudicate", "--decisions", str(saved), "--labels", str(labels_path), "--truth", str(truth_path),
                 "--out", str(out)]) == 0
    labels, reviewed = read_labels(labels_path), read_labels(out)
    assert len(reviewed) == len(labels) and reviewed.groupby(["report_id", "model"]).size().eq(1).all()
    rows = reviewed.set_index(["report_id", "model"])
    assert rows.loc[("all-wrong", ENSEMBLE), ["extravasation", "locations"]].tolist() == ["No", []]
    assert rows.loc[("one-wrong", ENSEMBLE), ["extravasation", "locations"]].tolist() == ["Yes", ["spleen"]]
    assert rows.loc[("not-sent", ENSEMBLE), ["extravasation", "locations"]].tolist() == ["Yes", ["spleen", "kidney"]]
    assert (rows.status == Status.REVIEWED).sum() == 3
    assert set(rows.index[rows.status == Status.REVIEWED].get_level_values("model")) == {ENSEMBLE}

    console = driver.get_log("browser")
    assert [entry for entry in console if entry["level"] in ("SEVERE", "WARNING")] == []
    assert not [entry for entry in console if "Content Security Policy" in entry["message"]]
