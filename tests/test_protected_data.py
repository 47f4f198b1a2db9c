"""Reports are protected health information: files with report text are private and never committable,
the embedded server and JupyterLab stay on this machine, and nothing phones home."""

import json
import os
import shutil
import subprocess

import pandas as pd
import pytest

from analysis.__main__ import build_parser
from analysis.config import (
    BUILD_DIR,
    INTERIM_DIR,
    NOTEBOOKS_DIR,
    PROCESSED_DIR,
    RAW_DIR,
    RESPONSE_CACHE_FILE,
    ROOT,
)
from analysis.data.io import write_table
from analysis.llm.cache import ResponseCache

# Every kind of file that holds report text or report ids, where the pipeline writes it.
FILES_WITH_REPORT_TEXT = [
    RAW_DIR / "reports.csv",
    RESPONSE_CACHE_FILE,
    RESPONSE_CACHE_FILE.with_suffix(".csv"),
    INTERIM_DIR / "responses.sqlite-wal",
    PROCESSED_DIR / "embedded" / "inputs.csv",
    PROCESSED_DIR / "embedded" / "labels.csv",
    PROCESSED_DIR / "embedded" / "reviewer_sheet.html",
    BUILD_DIR / "02_stage1.ipynb",
    BUILD_DIR / "02_stage1.html",
    NOTEBOOKS_DIR / "02_stage1.ipynb",  # a notebook opened and saved in JupyterLab
    NOTEBOOKS_DIR / ".ipynb_checkpoints" / "02_stage1-checkpoint.ipynb",
]

needs_git = pytest.mark.skipif(not (ROOT / ".git").exists() or not shutil.which("git"), reason="not a git checkout")


def git(*args) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)


@needs_git
@pytest.mark.parametrize("path", FILES_WITH_REPORT_TEXT, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_file_with_report_text_could_be_committed(path):
    assert git("check-ignore", "--quiet", "--no-index", str(path.relative_to(ROOT))).returncode == 0, (
        f"{path.relative_to(ROOT)} is not git-ignored")


@needs_git
def test_nothing_private_is_tracked():
    tracked = git("ls-files").stdout.splitlines()
    private = [p for p in tracked if p.startswith(("data/raw/", "data/interim/", "data/processed/", "build/"))
               or p.endswith(".ipynb")]
    assert private == []


@pytest.fixture
def permissive_umask():
    """Write as a user whose umask would make files readable by everyone."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path) -> int:
    return os.stat(path).st_mode & 0o777


def test_files_with_report_text_are_readable_by_their_owner_only(tmp_path, permissive_umask):
    frame = pd.DataFrame({"report_id": ["r1"], "prompt_text": ["IMPRESSION: active extravasation."]})
    assert mode(write_table(frame, tmp_path / "inputs.csv")) == 0o600
    cache = ResponseCache(tmp_path / "responses.sqlite")
    cache.put("k", model="m", digest="d", task="t", task_version=1, report_id="r1", server="s",
              request={"messages": [{"role": "user", "content": "IMPRESSION: active extravasation."}]},
              response={"message": {"content": '{"answer": "Yes"}'}})
    export = cache.export(tmp_path / "responses.csv")
    files = [tmp_path / "responses.sqlite", tmp_path / "responses.sqlite-wal", export]  # SQLite copies the mode
    assert [mode(p) for p in files] == [0o600] * 3
    cache.close()
    # The reviewer sheet: tests/test_review.py checks its files the same way.


def test_an_existing_world_readable_file_becomes_private_when_rewritten(tmp_path, permissive_umask):
    path = tmp_path / "labels.csv"
    path.write_text("old")
    os.chmod(path, 0o644)
    write_table(pd.DataFrame({"report_id": ["r1"]}), path)
    assert mode(path) == 0o600


def dry_run(*targets) -> list[str]:
    result = subprocess.run(["make", "--dry-run", "--always-make", *targets], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
def test_executed_notebooks_are_written_under_umask_077():
    lines = [line for line in dry_run("data/processed/embedded/stage1.csv") if "papermill" in line or "nbconvert" in line]
    assert lines and all(line.startswith("umask 077 && ") for line in lines), lines


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
def test_jupyterlab_binds_to_loopback_and_asks_nobody_for_news_updates_or_extensions():
    settings = json.loads((ROOT / "jupyter_lab_config.json").read_text())["LabApp"]
    assert settings == {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                        "extension_manager": "readonly"}
    (lab,) = [line for line in dry_run("lab") if "jupyter lab" in line]
    assert "--ip=127.0.0.1" in lab and "--config=jupyter_lab_config.json" in lab and lab.startswith("umask 077 && ")


def test_the_embedded_server_binds_to_loopback_unless_told_otherwise():
    args = build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1"
