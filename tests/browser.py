"""Headless Debian Chromium driven by selenium, for the tests of pages a person reads (the reviewer sheet,
JupyterLab). Skipped without it, unless REQUIRE_BROWSER=1 (CI) makes that a failure."""

import os
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
MISSING = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.is_file()]
BROWSER_REQUIRED = os.environ.get("REQUIRE_BROWSER") == "1"

needs_browser = pytest.mark.skipif(
    bool(MISSING) and not BROWSER_REQUIRED,
    reason=f"headless browser tests need {' and '.join(MISSING)} (Debian packages chromium, chromium-driver)",
)


@contextmanager
def chromium(profile: Path, width: int = 800, height: int = 900):
    """A headless Chromium with a fresh profile in ``profile`` that contacts no one but the pages it is sent to."""
    if MISSING:
        pytest.fail(f"REQUIRE_BROWSER=1, but {' and '.join(MISSING)} is missing")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--no-first-run",
                     "--disable-sync", f"--user-data-dir={profile}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # A driver path given to Service means selenium-manager is never asked to find or download one.
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    browser.set_window_size(width, height)
    try:
        yield browser
    finally:
        browser.quit()
