"""The results sections of the README and the docs, written from the run's tables so that no number in them is typed.

Each section sits between two marker comments in its page; everything
between them is replaced, nothing else is touched. ``results`` (README.md)
is written by `make paper`, ``variants`` (docs/variants.md) by `make variants`.
"""

from pathlib import Path

from analysis.config import DOCS_DIR, ROOT
from analysis.labeling.manifest import Manifest, Reports


def markers(section: str) -> tuple[str, str]:
    return (f"<!-- {section}:start (written by `make {'paper' if section == 'results' else section}` "
            "from figures/; do not edit) -->", f"<!-- {section}:end -->")


START, END = markers("results")


def _evaluated(reports: Reports) -> str:
    split = reports.split or {}
    if reports.evaluated_on == "test":
        return (f"Tables on the test split: {split['test']} of {reports.total} reports (the other "
                f"{split.get('dev', 0)} are the development split, used only to write prompts).")
    return f"Tables on all {reports.total} reports (no development/test split)."


def results_section(figures_dir: Path, manifest: Manifest) -> str:
    figures_dir = Path(figures_dir)
    table1a = (figures_dir / "table1a.md").read_text().strip()
    table1b = (figures_dir / "table1b.md").read_text().strip()
    # The first design (stage 2 alone, the study's) and the notes under all of them; the others are one link away.
    first_design, notes = table1b.split("\n### ")[0].strip(), table1b.rsplit("\n\n", 1)[-1]
    run = manifest.run
    return "\n".join([
        f"Run `{run['name']}` ({run['description']}) on {manifest.reports.total} reports, "
        f"server `{manifest.server['version']}`, finished {manifest.finished_at[:19]} UTC. "
        + _evaluated(manifest.reports),
        "",
        "**Table 1A** (stage 1, `Yes` vs the rest, on the reports whose truth is Yes or No; 95% intervals):",
        "",
        table1a,
        "",
        f"**Table 1B** (stage 2, F1 per site; {manifest.stage2.sent if manifest.stage2 else 0} of the "
        f"{manifest.reports.total} reports, both parts of the split, went to stage 2; the counts of the test "
        "split are under the table; the end-to-end design and the rules' own sites are in "
        "[figures/table1b.md](figures/table1b.md)):",
        "",
        first_design,
        *(["", notes] if notes not in first_design else []),
        *_review_budget(figures_dir),
        "",
        "Figures: [pipeline](figures/figure1_pipeline.png), [confusion matrices](figures/confusion_matrices.png), "
        "[F1 forest plot](figures/forest_f1.png), [sites](figures/locations_f1.png), [ROC](figures/roc_p_yes.png), "
        "[reliability of p_yes](figures/reliability_p_yes.png) and [its calibration](figures/calibration.md); "
        "beside the published values: [Table 1A](figures/table1a_vs_published.md), "
        "[Table 1B](figures/table1b_vs_published.md); [Table 1A with an Undefined truth as negative]"
        "(figures/table1a_sensitivity.md); [model comparisons and κ](figures/statistics.md); "
        "[truth × answer](figures/confusion.md); [errors by kind of report](figures/by_category.md); "
        "[a p_yes cut chosen on the development split](figures/thresholds.md); stage 2: [every label set's "
        "macro-F1 on both parts and the one chosen on the development part](figures/stage2_designs.md), "
        "[the evidence sentences against the true ones](figures/evidence.md), "
        "[per-site cuts measured on the test split](figures/site_thresholds.md).",
    ])


def _review_budget(figures_dir: Path) -> list[str]:
    """The review budget's 5/10/20% points and the note under them, where the run wrote them."""
    path = figures_dir / "review_budget.md"
    if not path.is_file():
        return []
    points = path.read_text().split("\n### ")[0].strip()
    return ["", "**Review priority** (the reports most likely to be wrong first; the calibration and the "
            "coefficients are in [figures/review_budget.md](figures/review_budget.md), the curves in "
            "[figures/review_budget.png](figures/review_budget.png)): " + points]


def replace_section(section: str, body: str, page: Path) -> bool:
    """Replace what lies between the section's markers in ``page`` with ``body``; returns whether it changed."""
    start, end = markers(section)
    text = page.read_text()
    if start not in text or end not in text:
        raise ValueError(f"{page} has no {section} markers; add the lines {start!r} and {end!r}")
    before, rest = text.split(start, 1)
    after = rest.split(end, 1)[1]
    updated = f"{before}{start}\n{body}\n{end}{after}"
    if updated != text:
        page.write_text(updated)
    return updated != text


def update_readme(figures_dir: Path, manifest: Manifest, readme: Path = ROOT / "README.md") -> bool:
    """Replace the results section; returns whether the README changed."""
    return replace_section("results", results_section(figures_dir, manifest), readme)


def update_variants_section(figures_dir: Path, page: Path = DOCS_DIR / "variants.md") -> bool:
    """Replace the variants section of ``page`` with ``variants.md``; returns whether the page changed."""
    return replace_section("variants", (Path(figures_dir) / "variants.md").read_text().strip(), page)
