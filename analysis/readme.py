"""The README's results section, written from the run's tables so that no number in it is typed.

The section sits between two marker comments in README.md; everything
between them is replaced, nothing else is touched.
"""

from pathlib import Path

from analysis.config import ROOT

START = "<!-- results:start (written by `make paper` from figures/; do not edit) -->"
END = "<!-- results:end -->"


def results_section(figures_dir: Path, manifest: dict) -> str:
    figures_dir = Path(figures_dir)
    table1a = (figures_dir / "table1a.md").read_text().strip()
    table1b = (figures_dir / "table1b.md").read_text().strip()
    run = manifest["run"]
    lines = [
        START,
        f"Run `{run['name']}` ({run['description']}) on {manifest['reports']['total']} reports, "
        f"server `{manifest['server']['version']}`, finished {manifest['finished_at'][:19]} UTC.",
        "",
        "**Table 1A** (stage 1, `Yes` vs the rest; 95% bootstrap intervals):",
        "",
        table1a,
        "",
        f"**Table 1B** (stage 2, F1 per site over the reports whose ground truth is `Yes`; "
        f"{manifest['reports'].get('sent_to_stage_2', 0)} reports went to stage 2):",
        "",
        table1b,
        "",
        "Figures: [pipeline](figures/figure1_pipeline.png), [confusion matrices](figures/confusion_matrices.png), "
        "[F1 forest plot](figures/forest_f1.png), [sites](figures/locations_f1.png), [ROC](figures/roc_p_yes.png); "
        "beside the published values: [Table 1A](figures/table1a_vs_published.md), "
        "[Table 1B](figures/table1b_vs_published.md); [model comparisons](figures/statistics.md).",
        END,
    ]
    return "\n".join(lines)


def update_readme(figures_dir: Path, manifest: dict, readme: Path = ROOT / "README.md") -> bool:
    """Replace the results section; returns whether the README changed."""
    text = readme.read_text()
    if START not in text or END not in text:
        raise ValueError(f"{readme} has no results markers; add the lines {START!r} and {END!r}")
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    updated = before + results_section(figures_dir, manifest) + after
    if updated != text:
        readme.write_text(updated)
    return updated != text
