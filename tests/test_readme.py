"""The README's results section is written from the tables (no model involved)."""

import pytest

from analysis.labeling.manifest import Manifest, Reports, Stage2
from analysis.reporting.readme import END, START, markers, update_readme, update_variants_section

REPORTS = Reports(total=300, sent_to_models=298, not_sent={"no impression section": 2}, impression_found_by={},
                  instruction_like_text_removed=0)
# Only the fields the README's section reads.
MANIFEST = Manifest.model_construct(run={"name": "embedded", "description": "small CPU models"}, reports=REPORTS,
                                    server={"version": "test server"}, finished_at="2026-11-27T10:00:00+00:00",
                                    stage2=Stage2(ran=True, gate="m", sent=120))


def write_tables(directory):
    (directory / "table1a.md").write_text("| model | f1 |\n|---|---|\n| m | 0.912 (0.874–0.945) |\n")
    (directory / "table1b.md").write_text("| location | m |\n|---|---|\n| spleen | 0.800 |\n")


def test_only_the_marked_section_is_replaced(tmp_path):
    write_tables(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nIntro.\n\n{START}\nold numbers\n{END}\n\nAfter.\n")
    assert update_readme(tmp_path, MANIFEST, readme)
    text = readme.read_text()
    assert text.startswith("# Title\n\nIntro.\n\n") and text.endswith(f"{END}\n\nAfter.\n")
    assert "old numbers" not in text and "0.912 (0.874–0.945)" in text and "| spleen | 0.800 |" in text
    assert "on 300 reports" in text and "120 of the 300 reports, both parts of the split, went to stage 2" in text
    assert not update_readme(tmp_path, MANIFEST, readme)  # unchanged tables: unchanged file


def test_a_readme_without_markers_is_refused(tmp_path):
    write_tables(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n")
    with pytest.raises(ValueError, match="no results markers"):
        update_readme(tmp_path, MANIFEST, readme)


def test_the_results_say_which_reports_the_tables_use(tmp_path):
    write_tables(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text(f"{START}\n{END}\n")
    split = MANIFEST.model_copy(update={"reports": REPORTS.model_copy(update={"split": {"test": 200, "dev": 100},
                                                                             "evaluated_on": "test"})})
    update_readme(tmp_path, split, readme)
    assert "Tables on the test split: 200 of 300 reports (the other 100 are the development split" in readme.read_text()
    update_readme(tmp_path, MANIFEST, readme)
    assert "Tables on all 300 reports (no development/test split)." in readme.read_text()


def test_the_variants_section_is_the_variants_table(tmp_path):
    (tmp_path / "variants.md").write_text("| model | zeroshot | guideline |\n|---|---|---|\n| m | 0.700 | 0.900 |\n")
    start, end = markers("variants")
    readme = tmp_path / "README.md"
    readme.write_text(f"Before.\n{start}\n{end}\nAfter.\n")
    assert update_variants_section(tmp_path, readme)
    assert readme.read_text() == f"Before.\n{start}\n| model | zeroshot | guideline |\n|---|---|---|\n| m | 0.700 | 0.900 |\n{end}\nAfter.\n"
    assert not update_variants_section(tmp_path, readme)
