"""The README and docs/ describe what the code has: every subcommand, every status, links that lead somewhere,
and the split's sizes as the split file gives them (no model involved)."""

import argparse
import re

import pandas as pd
import pytest

from analysis.__main__ import build_parser
from analysis.config import DEMO_DIR, DOCS_DIR, ROOT
from analysis.data.vocabulary import Status

PAGES = [ROOT / "README.md", *sorted(DOCS_DIR.glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def subcommands() -> list[str]:
    (commands,) = [action for action in build_parser()._actions if isinstance(action, argparse._SubParsersAction)]
    return sorted(commands.choices)


@pytest.mark.parametrize("name", subcommands())
def test_every_subcommand_is_in_the_command_line_page(name):
    assert f"python -m analysis {name}" in (DOCS_DIR / "command-line.md").read_text()


@pytest.mark.parametrize("status", list(Status), ids=str)
def test_every_status_is_explained(status):
    assert f"| `{status}` |" in (DOCS_DIR / "outputs.md").read_text()


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file(page):
    targets = [target for target in LINK.findall(page.read_text()) if "://" not in target]
    missing = [target for target in targets if not (page.parent / target).exists()]
    assert not missing, missing


def test_the_readme_links_every_page_of_the_docs():
    readme = (ROOT / "README.md").read_text()
    assert [page.name for page in DOCS_DIR.glob("*.md") if f"(docs/{page.name})" not in readme] == []


def test_the_split_sizes_quoted_are_those_of_the_split_file():
    counts = pd.read_csv(DEMO_DIR / "split.csv").split.value_counts()
    readme = (ROOT / "README.md").read_text()
    assert f"{counts['dev']} development reports" in readme and f"{counts['test']} test reports" in readme
    assert f"({counts['dev']} development and {counts['test']} test reports)" in (DOCS_DIR / "command-line.md").read_text()


def test_determinism_on_ollama_is_not_promised_in_the_embedded_servers_terms():
    """Ollama reuses a slot's longest cached prefix and batches parallel requests, so the embedded server's fixed
    batch starts say nothing of it: the page says what holds there, and what the cache and the report do about it."""
    page = (DOCS_DIR / "reproducibility.md").read_text()
    on_ollama = page.split("## On Ollama", 1)[1].split("\n## ", 1)[0]
    for cited in ("runner/llamarunner/cache.go", "cache_prompt", "OLLAMA_NUM_PARALLEL", "response cache",
                  "python -m analysis reproduce --write-reference"):
        assert cited in on_ollama
    assert "fixed batch starts" not in on_ollama
