"""The README's results sections, written from the run's tables so that no number in it is typed.

Each section sits between two marker comments in README.md; everything
between them is replaced, nothing else is touched. ``results`` is written by
`make paper`, ``variants`` by `make variants`.
"""

from pathlib import Path

from analysis.config import ROOT


def markers(section: str) -> tuple[str, str]:
    return (f"<!-- {section}:start (written by `make {'paper' if section == 'results' else section}` "
            "from figures/; do not edit) -->", f"<!-- {section}:end -->")


START, END = markers("results")


def _evaluated(reports: dict) -> str:
    split = reports.get("split", {})
    if reports.get("evaluated_on") == "test":
        return (f"Tables on the test split: {split['test']} of {reports['total']} reports (the other "
                f"{split.get('dev', 0)} are the development split, used only to write prompts).")
    return f"Tables on all {reports['total']} reports (no development/test split)."


def results_section(figures_dir: Path, manifest: dict) -> str:
    figures_dir = Path(figures_dir)
    table1a = (figures_dir / "table1a.md").read_text().strip()
    table1b = (figures_dir / "table1b.md").read_text().strip()
    run = manifest["run"]
    return "\n".join([
        f"Run `{run['name']}` ({run['description']}) on {manifest['reports']['total']} reports, "
        f"server `{manifest['server']['version']}`, finished {manifest['finished_at'][:19]} UTC. "
        + _evaluated(manifest["reports"]),
        "",
        "**Table 1A** (stage 1, `Yes` vs the rest, on the reports whose truth is Yes or No; 95% intervals):",
        "",
        table1a,
        "",
        f"**Table 1B** (stage 2, F1 per site in two designs; {manifest['reports'].get('sent_to_stage_2', 0)} of the "
        f"{manifest['reports']['total']} reports, both parts of the split, went to stage 2; the counts of the test "
        "split are under each design):",
        "",
        table1b,
        "",
        "Figures: [pipeline](figures/figure1_pipeline.png), [confusion matrices](figures/confusion_matrices.png), "
        "[F1 forest plot](figures/forest_f1.png), [sites](figures/locations_f1.png), [ROC](figures/roc_p_yes.png), "
        "[reliability of p_yes](figures/reliability_p_yes.png) and [its calibration](figures/calibration.md); "
        "beside the published values: [Table 1A](figures/table1a_vs_published.md), "
        "[Table 1B](figures/table1b_vs_published.md); [Table 1A with an Undefined truth as negative]"
        "(figures/table1a_sensitivity.md); [model comparisons and κ](figures/statistics.md); "
        "[truth × answer](figures/confusion.md); [errors by kind of report](figures/by_category.md); "
        "[a p_yes cut chosen on the development split](figures/thresholds.md).",
    ])


def replace_section(section: str, body: str, readme: Path = ROOT / "README.md") -> bool:
    """Replace what lies between the section's markers with ``body``; returns whether the README changed."""
    start, end = markers(section)
    text = readme.read_text()
    if start not in text or end not in text:
        raise ValueError(f"{readme} has no {section} markers; add the lines {start!r} and {end!r}")
    before, rest = text.split(start, 1)
    after = rest.split(end, 1)[1]
    updated = f"{before}{start}\n{body}\n{end}{after}"
    if updated != text:
        readme.write_text(updated)
    return updated != text


def update_readme(figures_dir: Path, manifest: dict, readme: Path = ROOT / "README.md") -> bool:
    """Replace the results section; returns whether the README changed."""
    return replace_section("results", results_section(figures_dir, manifest), readme)


def update_variants_section(figures_dir: Path, readme: Path = ROOT / "README.md") -> bool:
    """Replace the variants section with ``variants.md``; returns whether the README changed."""
    return replace_section("variants", (Path(figures_dir) / "variants.md").read_text().strip(), readme)
