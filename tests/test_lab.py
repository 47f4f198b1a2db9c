"""`make lab`: JupyterLab as the Makefile starts it (as root in a container too), with a token and a free port
added. A student who opens a notebook's .py file from the file browser gets the notebook with its cells, and is
asked nothing about Jupyter news. The page is driven in headless Chromium (``tests.browser``)."""

import os
import shlex
import subprocess
import time

import httpx
import jupytext
import pytest

from analysis.config import NOTEBOOKS_DIR, ROOT
from analysis.llm.client import free_loopback_port
from tests.browser import chromium, needs_browser

NOTEBOOK = "prompt_lab.py"
START_TIMEOUT_S = 90
NEWS_PROMPT = "official Jupyter news"

pytestmark = pytest.mark.llm  # starts JupyterLab and a kernel: not in the fast tier


def make_lab_command() -> list[str]:
    dry_run = subprocess.run(["make", "--dry-run", "lab"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    (command,) = [line for line in dry_run.splitlines() if "jupyter lab" in line]
    return shlex.split(command.removeprefix("umask 077 && "))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab started by `make lab`'s command, from another directory than the checkout and with an empty
    home (so that neither a user's settings nor the working directory decide what it shows): its URL and token."""
    home = tmp_path_factory.mktemp("home")
    port, token = free_loopback_port(), "test-token"
    process = subprocess.Popen([*make_lab_command(), "--no-browser", f"--port={port}", f"--IdentityProvider.token={token}"],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "JUPYTER_RUNTIME_DIR": str(home), "HOME": str(home)})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            try:
                if httpx.get(f"{url}/api/status", params={"token": token}, timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, "JupyterLab did not start"
            time.sleep(0.5)
        yield url, token
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_make_lab_runs_as_root_only_with_allow_root_and_reads_the_settings_folder_by_absolute_path():
    command = make_lab_command()
    assert ("--allow-root" in command) == (os.geteuid() == 0)
    (settings,) = [argument.split("=", 1)[1] for argument in command if argument.startswith("--LabApp.app_settings_dir=")]
    assert settings == str(ROOT / "jupyterlab-settings") and (ROOT / "jupyterlab-settings" / "overrides.json").is_file()


def test_the_server_reads_the_py_file_as_a_notebook(lab):
    url, token = lab
    contents = httpx.get(f"{url}/api/contents/{NOTEBOOK}", params={"token": token, "content": 1}, timeout=30)
    assert contents.status_code == 200 and contents.json()["type"] == "notebook"  # jupytext reads py:percent
    cells = contents.json()["content"]["cells"]
    assert len(cells) == len(jupytext.read(NOTEBOOKS_DIR / NOTEBOOK).cells)
    assert any("parameters" in cell["metadata"].get("tags", []) for cell in cells)


@needs_browser
def test_a_py_notebook_opened_from_the_file_browser_shows_its_cells_and_no_news_prompt(lab, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, token = lab
    expected = len(jupytext.read(NOTEBOOKS_DIR / NOTEBOOK).cells)
    with chromium(tmp_path / "profile", width=1400) as browser:
        browser.get(f"{url}/lab?token={token}")
        wait = WebDriverWait(browser, 60)
        entry_path = (f"//li[contains(@class, 'jp-DirListing-item')][.//span[contains(@class, 'jp-DirListing-itemText')]"
                      f"[normalize-space()='{NOTEBOOK}']]")
        # The listing is drawn before the panel is laid out: an entry can exist a while before it can be clicked.
        wait.until(lambda page: any(entry.is_displayed() for entry in page.find_elements(By.XPATH, entry_path)))
        ActionChains(browser).double_click(browser.find_element(By.XPATH, entry_path)).perform()
        wait.until(lambda page: len(page.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel .jp-Notebook .jp-Cell")) == expected)
        assert not browser.find_elements(By.CSS_SELECTOR, ".jp-FileEditor")  # not opened as plain text
        time.sleep(8)  # the news prompt, where it is shown, appears within 5 s of the page
        toasts = [toast.text for toast in browser.find_elements(By.CSS_SELECTOR, ".Toastify__toast .jp-toast-message")]
        assert not [text for text in toasts if NEWS_PROMPT in text], toasts
