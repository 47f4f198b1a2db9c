"""The README's results section is written from the tables (no model involved)."""

import pytest

from analysis.readme import END, START, update_readme

MANIFEST = {
    "run": {"name": "embedded", "description": "small CPU models"},
    "reports": {"total": 300, "sent_to_stage_2": 120},
    "server": {"version": "test server"},
    "finished_at": "2026-11-27T10:00:00+00:00",
}


def test_only_the_marked_section_is_replaced(tmp_path):
    (tmp_path / "table1a.md").write_text("| model | f1 |\n|---|---|\n| m | 0.912 (0.874–0.945) |\n")
    (tmp_path / "table1b.md").write_text("| location | m |\n|---|---|\n| spleen | 0.800 |\n")
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nIntro.\n\n{START}\nold numbers\n{END}\n\nAfter.\n")
    assert update_readme(tmp_path, MANIFEST, readme)
    text = readme.read_text()
    assert text.startswith("# Title\n\nIntro.\n\n") and text.endswith(f"{END}\n\nAfter.\n")
    assert "old numbers" not in text and "0.912 (0.874–0.945)" in text and "| spleen | 0.800 |" in text
    assert "on 300 reports" in text and "120 reports went to stage 2" in text
    assert not update_readme(tmp_path, MANIFEST, readme)  # unchanged tables: unchanged file


def test_a_readme_without_markers_is_refused(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n")
    with pytest.raises(ValueError, match="no results markers"):
        update_readme(tmp_path, MANIFEST, readme)
