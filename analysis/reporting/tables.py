"""Tables written to files that nobody retypes: CSV for machines, Markdown for people, LaTeX for the paper.

Files each writer produces in ``out_dir``:

- ``write_table1a``: ``table1a.csv`` (every column, full precision),
  ``table1a.md`` and ``table1a.tex`` (three decimals with the bootstrap
  interval, and the counts n, n_undefined, n_invalid, n_scored).
- ``write_table1b``: ``table1b.csv`` (long: one row per location and model),
  ``table1b.md`` and ``table1b.tex`` (wide, as the paper prints it: one row
  per location, one column of F1 with its interval per model).
- ``write_comparisons``: ``table1a_vs_published.{csv,md}`` and
  ``table1b_vs_published.{csv,md}``: this run's values beside the study's,
  which are read from ``analysis/published.yaml`` and marked as published on
  other data with other models. The two blocks are never matched row to row.
- ``write_statistics``: ``paired_differences.csv``, ``mcnemar.csv``,
  ``agreement.csv`` and one ``statistics.md`` with the three tables.
- ``write_thresholds``: ``thresholds.{csv,md}``: per model, the ``p_yes`` cut
  chosen on the development split and, on the test split, F1 of the plain
  answer and of the cut, with their paired difference.
- ``write_variants``: ``variants.{csv,md}``: F1 per model and prompt variant
  on the test split, and each variant's difference from zero-shot.
- ``write_stage1`` and ``write_stage2``: every file of a stage's evaluation
  (``analysis.evaluation.evaluate``) at once.

Every value comes from the tables given (computed by ``analysis.evaluation.metrics``
and the rest of ``analysis.evaluation``) or from ``published.yaml``.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from analysis.config import PUBLISHED_FILE
from analysis.data.vocabulary import LOCATIONS
from analysis.evaluation.evaluate import Stage1Evaluation

THIS_RUN = "this run"
PUBLISHED = "published (other data, other models)"
METRIC_COLUMNS = ["precision", "recall", "f1", "accuracy"]
EN_DASH, LATEX_DASH = "–", "--"
DIFFERENCE_DASH = " to "  # a difference's interval may start below zero: "-0.1–0.2" would misread


def load_published(path: Path = PUBLISHED_FILE) -> dict:
    return yaml.safe_load(Path(path).read_text())


def published_table1a(published: dict) -> pd.DataFrame:
    """``model, precision, recall, f1, accuracy`` for the paper's models, in the paper's order."""
    rows = [{"model": model, **published["table1a"][model]} for model in published["models"]]
    return pd.DataFrame(rows, columns=["model", *METRIC_COLUMNS])


def published_table1b(published: dict) -> pd.DataFrame:
    """``location, model, f1`` for the locations and models the paper reports."""
    rows = [
        {"location": location, "model": model, "f1": scores[model]}
        for location, scores in published["table1b"].items() for model in published["models"]
    ]
    return pd.DataFrame(rows, columns=["location", "model", "f1"])


def with_interval(value: float, lower: float, upper: float, dash: str = EN_DASH) -> str:
    """``0.912 (0.874–0.945)``; the value alone without an interval; ``n/a`` without a value."""
    if pd.isna(value):
        return "n/a"
    if pd.isna(lower) or pd.isna(upper):
        return f"{value:.3f}"
    return f"{value:.3f} ({lower:.3f}{dash}{upper:.3f})"


def _estimates(table: pd.DataFrame, metric: str, dash: str) -> pd.Series:
    """A metric column with its ``_lo``/``_hi`` columns, as text."""
    lower = table.get(f"{metric}_lo", pd.Series(np.nan, index=table.index))
    upper = table.get(f"{metric}_hi", pd.Series(np.nan, index=table.index))
    return pd.Series([with_interval(*values, dash=dash) for values in zip(table[metric], lower, upper)], index=table.index)


def _interval_note(table: pd.DataFrame) -> str:
    settings = table.attrs.get("bootstrap")
    if not settings:
        return "Intervals: percentile bootstrap over reports, paired across models."
    return (
        f"Intervals: {settings['confidence']:.0%} percentile bootstrap over reports, paired across models "
        f"({settings['resamples']} resamples, seed {settings['seed']})."
    )


def _markdown(shown: pd.DataFrame, text_columns: int = 1) -> str:
    if shown.empty:  # e.g. comparisons of a run with one model
        return "(none)\n"
    alignment = ["left"] * text_columns + ["right"] * (len(shown.columns) - text_columns)
    return shown.to_markdown(index=False, disable_numparse=True, colalign=alignment) + "\n"


def _latex(shown: pd.DataFrame, text_columns: int = 1) -> str:
    styler = shown.style.hide(axis="index").format(escape="latex").format_index(escape="latex", axis=1)
    return styler.to_latex(hrules=True, column_format="l" * text_columns + "r" * (len(shown.columns) - text_columns))


def _write(out_dir: Path, stem: str, data: pd.DataFrame, markdown: str, latex: str | None = None) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{stem}.csv", out_dir / f"{stem}.md"]
    data.to_csv(paths[0], index=False)
    paths[1].write_text(markdown)
    if latex is not None:
        paths.append(out_dir / f"{stem}.tex")
        paths[2].write_text(latex)
    return paths


def _table1a_shown(table: pd.DataFrame, dash: str) -> pd.DataFrame:
    shown = table[["model"]].copy()
    for metric in [*METRIC_COLUMNS, "auc"]:
        shown[metric] = _estimates(table, metric, dash)
    for count in ["n", "n_undefined", "n_invalid", "n_scored"]:
        shown[count] = table[count].astype(str)
    return shown


def write_table1a(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    """``table1a.csv``, ``table1a.md``, ``table1a.tex``; returns their paths."""
    markdown = _markdown(_table1a_shown(table, EN_DASH)) + (
        f"\n{_interval_note(table)} `Yes` is positive; No, Undefined and invalid answers are negative. "
        "auc: ROC AUC of p_yes over the n_scored reports that have one.\n"
    )
    return _write(out_dir, "table1a", table, markdown, _latex(_table1a_shown(table, LATEX_DASH)))


def _table1b_shown(table: pd.DataFrame, dash: str) -> pd.DataFrame:
    """One row per location, its support, and one column per model of F1 with its interval."""
    shown = table.assign(estimate=_estimates(table, "f1", dash))
    wide = shown.pivot(index="location", columns="model", values="estimate")
    wide = wide.reindex(index=table.location.unique(), columns=table.model.unique())
    support = table.drop_duplicates("location").set_index("location").support.astype(str)
    return pd.concat([support, wide], axis=1).rename_axis(index="location", columns=None).reset_index()


def write_table1b(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    """``table1b.csv``, ``table1b.md``, ``table1b.tex``; returns their paths."""
    n = table.n.iloc[0] if len(table) else 0
    markdown = _markdown(_table1b_shown(table, EN_DASH)) + (
        f"\nF1 per location over the {n} reports whose ground truth is Yes; support: how many of them have the "
        f"location. {_interval_note(table)}\n"
    )
    return _write(out_dir, "table1b", table, markdown, _latex(_table1b_shown(table, LATEX_DASH)))


def table1a_vs_published(table: pd.DataFrame, published: dict) -> pd.DataFrame:
    """Two blocks of rows: this run's models, then the paper's, each marked by ``source``."""
    interval_columns = [f"{metric}_{bound}" for metric in METRIC_COLUMNS for bound in ("lo", "hi")]
    ours = table[["model", "n", *METRIC_COLUMNS, *interval_columns]].assign(source=THIS_RUN)
    theirs = published_table1a(published).assign(source=PUBLISHED, n=published["n_reports"])
    columns = ["source", "model", "n"] + [c for metric in METRIC_COLUMNS for c in (metric, f"{metric}_lo", f"{metric}_hi")]
    return pd.concat([ours, theirs], ignore_index=True)[columns]


def table1b_vs_published(table: pd.DataFrame, published: dict) -> pd.DataFrame:
    """One row per location: this run's support and F1 per model, then the paper's F1 per model."""
    ours = table.pivot(index="location", columns="model", values="f1").reindex(columns=table.model.unique())
    theirs = published_table1b(published).pivot(index="location", columns="model", values="f1")
    theirs = theirs.reindex(columns=published["models"])
    support = table.drop_duplicates("location").set_index("location").support
    blocks = [
        support.rename(f"{THIS_RUN}: support"),
        ours.rename(columns=lambda model: f"{THIS_RUN}: {model}"),
        theirs.rename(columns=lambda model: f"{PUBLISHED}: {model}"),
    ]
    return pd.concat(blocks, axis=1).reindex(LOCATIONS).rename_axis(index="location", columns=None).reset_index()


def _published_note(published: dict) -> str:
    observations = "".join(f"- {text}\n" for text in published["observations"])
    return (
        f"\nRows or columns marked '{PUBLISHED}' are the study's published values ({published['source']}) "
        "on its private reports with its models; they are shown beside this run's values, not matched to its models.\n\n"
        f"Observations on the published values:\n\n{observations}"
    )


def write_comparisons(table1a: pd.DataFrame, table1b: pd.DataFrame, out_dir: Path, published: dict | None = None) -> list[Path]:
    """``table1a_vs_published.{csv,md}`` and ``table1b_vs_published.{csv,md}``; returns their paths."""
    published = load_published() if published is None else published
    note = _published_note(published)

    first = table1a_vs_published(table1a, published)
    shown_first = first[["source", "model", "n"]].astype(str)
    for metric in METRIC_COLUMNS:
        shown_first[metric] = _estimates(first, metric, EN_DASH)
    paths = _write(out_dir, "table1a_vs_published", first, _markdown(shown_first, text_columns=2) + note)

    second = table1b_vs_published(table1b, published)
    shown_second = second.astype(str)
    scores = second.columns[2:]  # after location and support
    shown_second[scores] = second[scores].map(lambda value: with_interval(value, np.nan, np.nan))
    return paths + _write(out_dir, "table1b_vs_published", second, _markdown(shown_second) + note)


def write_statistics(differences: pd.DataFrame, mcnemar: pd.DataFrame, agreement: pd.DataFrame, out_dir: Path) -> list[Path]:
    """``paired_differences.csv``, ``mcnemar.csv``, ``agreement.csv`` and ``statistics.md``; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "paired_differences.csv", out_dir / "mcnemar.csv", out_dir / "agreement.csv", out_dir / "statistics.md"]
    differences.to_csv(paths[0], index=False)
    mcnemar.to_csv(paths[1], index=False)
    agreement.to_csv(paths[2], index=False)

    shown_differences = differences[["model_a", "model_b", "metric"]].copy()
    shown_differences["a"] = differences.value_a.map("{:.3f}".format)
    shown_differences["b"] = differences.value_b.map("{:.3f}".format)
    shown_differences["a − b"] = _estimates(differences, "difference", DIFFERENCE_DASH)
    shown_mcnemar = mcnemar.astype(str)
    shown_mcnemar["p_value"] = mcnemar.p_value.map("{:.3g}".format)
    shown_agreement = agreement.astype(str)
    shown_agreement["fleiss_kappa"] = agreement.fleiss_kappa.map(lambda kappa: with_interval(kappa, np.nan, np.nan))
    paths[3].write_text(
        "## Paired differences between models\n\n" + _markdown(shown_differences, text_columns=3)
        + f"\na, b: the metric of model_a and model_b; a − b with its interval. {_interval_note(differences)}\n\n"
        "## McNemar's exact test (correct/incorrect, Yes positive)\n\n" + _markdown(shown_mcnemar, text_columns=2)
        + "\n## Agreement of the models (Fleiss' κ on Yes/No/Undefined)\n\n" + _markdown(shown_agreement)
    )
    return paths


def write_thresholds(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    """``thresholds.csv`` and ``thresholds.md``; without a development split, a note saying so."""
    if table.empty:
        return _write(out_dir, "thresholds", table, "No development split: no threshold was chosen.\n")
    shown = pd.DataFrame({
        "model": table.model,
        "cut (p_yes ≥)": table.threshold.map("{:.3f}".format),
        "F1, plain answer": _estimates(table, "f1_answer", EN_DASH),
        "F1, cut": _estimates(table, "f1_threshold", EN_DASH),
        "cut − answer": _estimates(table, "difference", DIFFERENCE_DASH),
    })
    markdown = _markdown(shown) + (
        f"\nThe cut maximises F1 on the {table.n_development.iloc[0]} development reports; F1 is measured on the "
        f"{table.n_test.iloc[0]} test reports. {_interval_note(table)} The tables keep the plain answer.\n"
    )
    return _write(out_dir, "thresholds", table, markdown)


def write_variants(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    """``variants.csv`` (long) and ``variants.md`` (one row per model: F1 of each variant, and its difference from
    the reference variant named in ``table.attrs["reference"]``)."""
    reference = table.attrs["reference"]
    estimates = table.assign(estimate=_estimates(table, "f1", EN_DASH), change=_estimates(table, "difference", DIFFERENCE_DASH))
    variants, models = list(table.variant.unique()), list(table.model.unique())
    shown = estimates.pivot(index="model", columns="variant", values="estimate").reindex(index=models, columns=variants)
    changes = estimates[estimates.variant != reference].pivot(index="model", columns="variant", values="change")
    changes = changes.reindex(index=models, columns=[v for v in variants if v != reference])
    shown = pd.concat([shown, changes.add_prefix("Δ ").add_suffix(f" − {reference}")], axis=1).rename_axis(columns=None)
    markdown = _markdown(shown.reset_index()) + (
        f"\nF1 (Yes positive) on the {table.n.iloc[0]} test reports, with each variant's difference from {reference} "
        f"for the same model. {_interval_note(table)} Precision, recall and the ROC AUC of p_yes are in variants.csv.\n"
    )
    return _write(out_dir, "variants", table, markdown)


def write_stage1(evaluation: Stage1Evaluation, out_dir: Path) -> list[Path]:
    """Table 1A, the comparisons between models and the ``p_yes`` cut; returns the paths written."""
    return (write_table1a(evaluation.table1a, out_dir)
            + write_statistics(evaluation.differences, evaluation.mcnemar, evaluation.agreement, out_dir)
            + write_thresholds(evaluation.thresholds, out_dir))


def write_stage2(table1b: pd.DataFrame, table1a: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Table 1B, and both tables beside the published ones; returns the paths written."""
    return write_table1b(table1b, out_dir) + write_comparisons(table1a, table1b, out_dir)
