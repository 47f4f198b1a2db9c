"""Tables written to files that nobody retypes: CSV for machines, Markdown for people, LaTeX for the paper.

Files each writer produces in ``out_dir``; every Markdown table says under
it which reports it scores, which it leaves out and why, and how its
intervals were made:

- ``write_table1a``: ``table1a.{csv,md,tex}`` (the primary analysis: reports
  whose truth is Yes or No) and ``table1a_sensitivity.{csv,md}`` (an
  Undefined truth counted as a negative).
- ``write_table1b``: ``table1b.{csv,md,tex}``, both designs (stage 2 alone,
  end to end) and the baseline's ungated sites, with the gate's counts.
- ``write_statistics``: ``paired_differences.csv``, ``mcnemar.csv``,
  ``agreement.csv``, ``cohen_kappa.csv`` and one ``statistics.md``.
- ``write_confusion``, ``write_calibration``, ``write_by_category``:
  ``confusion.{csv,md}`` (truth × answer, three-way), ``calibration.{csv,md}``
  (Brier score, calibration intercept and slope), ``by_category.{csv,md}``
  (accuracy and F1 by kind of report).
- ``write_comparisons``: ``table1a_vs_published.{csv,md}`` and
  ``table1b_vs_published.{csv,md}``: this run's values beside the study's,
  read from ``analysis/published.yaml``, marked as published on other data
  with other models and never matched row to row.
- ``write_thresholds``, ``write_site_thresholds``, ``write_variants``:
  ``thresholds.{csv,md}``, ``site_thresholds.{csv,md}``, ``variants.{csv,md}``.
- ``write_review_budget``: ``review_budget.{csv,md}``: the chosen label set's
  errors left and F1 after reviewing 5, 10 and 20% of the test reports in
  each order (``analysis.evaluation.review_budget``), the priority's
  calibration on each part and its coefficients; the curves at every share
  in ``review_budget_curves.csv``.
- ``write_stage1``, ``write_stage2``: every file of a stage's evaluation
  (``analysis.evaluation.evaluate``) at once.
- ``table1a_step``, ``table1b_step``: the run's steps that read its labels and
  truth (``analysis.config.RunFiles``), evaluate them and write the above.

Cells read ``0.912 (0.874–0.945)``; a value without a denominator reads
``n/a``. A superscript marks an interval not made the table's usual way: ᵖ
percentile bootstrap where BCa is undefined, ᵇ the bound from the exact
intervals of precision and recall where every resample gave the same F1. A
label set with a note (the rules: training-set performance) is marked † and
the note stands under the table.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from analysis.config import PUBLISHED_FILE, RunFiles
from analysis.data.io import read_truth, write_table
from analysis.data.vocabulary import DEV, LABELS, LOCATIONS
from analysis.evaluation.evidence import EVIDENCE_RULES
from analysis.evaluation.evaluate import Stage1Evaluation, Stage2Evaluation, evaluate_stage1, evaluate_stage2
from analysis.evaluation.intervals import BOUNDED, METHODS, PERCENTILE
from analysis.evaluation.metrics import (
    DESIGNS,
    END_TO_END,
    ENSEMBLE_MEAN,
    MIN_SUPPORT,
    RULES_UNGATED,
    SITES_ASKED,
    SITES_AT_CUTS,
    SITES_FROM_EVIDENCE,
    STAGE2_ALONE,
)
from analysis.evaluation.review_budget import RANDOM, ReviewBudget
from analysis.evaluation.scoring import SCORING_RULES
from analysis.labeling.inputs import read_inputs
from analysis.labeling.labels import read_labels
from analysis.specs import Run

THIS_RUN = "this run"
PUBLISHED = "published (other data, other models)"
METRIC_COLUMNS = ["precision", "recall", "f1", "accuracy"]
EN_DASH, LATEX_DASH = "–", "--"
DIFFERENCE_DASH = " to "  # a difference's interval may start below zero: "-0.1–0.2" would misread
MARKS = {PERCENTILE: "ᵖ", BOUNDED: "ᵇ"}
NOTED = "†"


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


def with_interval(value: float, lower: float, upper: float, dash: str = EN_DASH, method: str = "") -> str:
    """``0.912 (0.874–0.945)``; the value alone without an interval; ``n/a`` without a value."""
    if pd.isna(value):
        return "n/a"
    if pd.isna(lower) or pd.isna(upper):
        return f"{value:.3f}"
    return f"{value:.3f} ({lower:.3f}{dash}{upper:.3f}){MARKS.get(method, '')}"


def _estimates(table: pd.DataFrame, metric: str, dash: str) -> pd.Series:
    """A metric column with its ``_lo``/``_hi`` (and ``_method``) columns, as text."""
    def column(suffix, default):
        return table.get(f"{metric}{suffix}", pd.Series(default, index=table.index))
    cells = zip(table[metric], column("_lo", np.nan), column("_hi", np.nan), column("_method", ""))
    return pd.Series([with_interval(v, lo, hi, dash, method) for v, lo, hi, method in cells], index=table.index)


def _interval_note(table: pd.DataFrame, resampled: str = "F1 and AUC", exact: str = "") -> str:
    """How the table's intervals were made, and what its marks mean where it has them."""
    settings = table.attrs.get("bootstrap", {})
    confidence = f"{settings['confidence']:.0%} " if settings else ""
    parts = [f"Intervals ({confidence.strip() or '95%'}):"]
    if exact:
        parts.append(f"{METHODS['exact']} for {exact};")
    parts.append(f"BCa bootstrap for {resampled}, over reports, paired across label sets"
                 + (f" ({settings['resamples']} resamples, seed {settings['seed']})" if settings else "")
                 + "; a resample in which a value is undefined is left out.")
    methods = {m for column in table.columns if column.endswith("_method") for m in table[column] if m in MARKS}
    parts += [f"{MARKS[m]} {METHODS[m]}." for m in sorted(methods)]
    return " ".join(parts)


def _noted(models: pd.Series, notes: dict[str, str]) -> pd.Series:
    return models.map(lambda model: f"{model}{NOTED}" if model in notes else model)


def _notes_line(notes: dict[str, str], shown) -> str:
    said = [f"{NOTED} {model}: {note}." for model, note in notes.items() if model in set(shown)]
    return (" " + " ".join(said)) if said else ""


def _markdown(shown: pd.DataFrame, text_columns: int = 1) -> str:
    if shown.empty:  # e.g. comparisons of a run with one model
        return "(none)\n"
    alignment = ["left"] * text_columns + ["right"] * (len(shown.columns) - text_columns)
    return shown.to_markdown(index=False, disable_numparse=True, colalign=alignment) + "\n"


def _latex(shown: pd.DataFrame, text_columns: int = 1) -> str:
    shown = shown.map(lambda cell: cell.replace("ᵖ", "^p").replace("ᵇ", "^b") if isinstance(cell, str) else cell)
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


# Table 1A ------------------------------------------------------------------------------------------------------

TABLE1A_SHOWN = ["precision", "recall", "specificity", "f1", "accuracy", "auc"]


def _table1a_shown(table: pd.DataFrame, dash: str, notes: dict[str, str]) -> pd.DataFrame:
    shown = pd.DataFrame({"model": _noted(table.model, notes)})
    for metric in TABLE1A_SHOWN:
        shown[metric] = _estimates(table, metric, dash)
    shown["n"] = table.n.astype(str)
    shown["Undefined answers"] = table.n_undefined.astype(str)
    shown["invalid"] = table.n_invalid.astype(str)
    return shown


def _table1a_note(table: pd.DataFrame, notes: dict[str, str]) -> str:
    first = table.iloc[0]
    prevalence = with_interval(first.prevalence, first.prevalence_lo, first.prevalence_hi)
    left_out = int(first.n_truth_undefined)
    return (
        f"\n{SCORING_RULES[table.attrs['undefined_truth']]} {int(first.n)} reports scored, {int(first.tp + first.fn)} "
        f"of them Yes (prevalence {prevalence}); {left_out} with an Undefined truth "
        f"{'left out' if table.attrs['undefined_truth'] == 'left out' else 'counted as negatives'}. "
        "`Yes` is positive; No, Undefined and invalid answers are negative. auc: ROC AUC of p_yes over the scored "
        "reports that have one (n_auc in the CSV); NPV, prevalence and the counts are in the CSV. "
        + _interval_note(table, exact="precision, recall, specificity, NPV, accuracy and prevalence")
        + _notes_line(notes, table.model) + "\n"
    )


def write_table1a(table: pd.DataFrame, out_dir: Path, notes: dict[str, str] | None = None, stem: str = "table1a") -> list[Path]:
    """``<stem>.csv``, ``.md`` (and ``.tex`` for the primary analysis); returns their paths."""
    notes = notes or {}
    markdown = _markdown(_table1a_shown(table, EN_DASH, notes)) + _table1a_note(table, notes)
    latex = _latex(_table1a_shown(table, LATEX_DASH, notes)) if stem == "table1a" else None
    return _write(out_dir, stem, table.assign(note=table.model.map(notes).fillna("")), markdown, latex)


# Table 1B ------------------------------------------------------------------------------------------------------

def _table1b_shown(table: pd.DataFrame, dash: str, notes: dict[str, str], metric: str = "f1") -> pd.DataFrame:
    """One row per location, its support, and one column per label set of the metric with its interval."""
    shown = table.assign(estimate=_estimates(table, metric, dash), model=_noted(table.model, notes))
    wide = shown.pivot(index="location", columns="model", values="estimate")
    wide = wide.reindex(index=list(LOCATIONS), columns=list(dict.fromkeys(shown.model)))
    support = table.drop_duplicates("location").set_index("location").support.reindex(list(LOCATIONS)).astype(str)
    return pd.concat([support, wide], axis=1).rename_axis(index="location", columns=None).reset_index()


def _design_note(design: str, table: pd.DataFrame) -> str:
    gate, counts = table.attrs["gate"], table.attrs["gate_counts"]
    n = int(table[table.design == design].n.iloc[0])
    if design == STAGE2_ALONE:
        return (f"{STAGE2_ALONE.capitalize()}: the {n} scored reports that the gate model {gate} called Yes and whose "
                f"truth is Yes (of the {counts['gated']} it called Yes, {counts['over_calls']} are truly No and are "
                f"left out here; {counts['misses']} truly Yes reports it did not call Yes are left out too): what the "
                "sites are worth once a bleed is found.")
    return (f"{END_TO_END.capitalize()}: every one of the {n} scored reports; a site counts as named only where "
            f"{gate} said Yes and the label set named it, so the sites of the {counts['misses']} true Yes reports "
            f"{gate} missed are misses, and those named on its {counts['over_calls']} over-calls are false positives.")


def _probability_note(table: pd.DataFrame) -> str:
    if "auc" not in table or table.auc.isna().all():
        return ""
    return (f"Where the sites were asked one at a time, a site is named where its probability reaches "
            f"{table.attrs.get('cut', 0.5):g}; its ROC AUC is over the design's reports, a report the gate did not "
            f"call Yes scoring 0. {ENSEMBLE_MEAN}: the sites whose mean probability over the models reaches the cut, "
            f"beside the ensemble's majority of the models' sites. ")


OTHER_SITES = {  # the label sets whose sites did not come from the localization question, and how they came about
    SITES_AT_CUTS: "each site named where its probability (one yes/no question per site) reaches the cut chosen "
                   "for the label set and the site on the development part (analysis/site_cuts)",
    SITES_FROM_EVIDENCE: "each label set's evidence sentences, the sites their words name",
}


def write_table1b(table: pd.DataFrame, out_dir: Path, notes: dict[str, str] | None = None) -> list[Path]:
    """``table1b.csv``, ``table1b.md``, ``table1b.tex``; returns their paths."""
    notes = notes or {}
    sections, latex = [], []
    for design in DESIGNS:
        rows = table[(table.design == design) & (table.sites == SITES_ASKED)]
        shown = _table1b_shown(rows, EN_DASH, notes)
        sections.append(f"### {design.capitalize()}\n\n{_markdown(shown)}\n{_design_note(design, table)}\n")
        in_design = table[table.design == design]
        scored = in_design[in_design.auc.notna()] if "auc" in in_design else in_design.iloc[0:0]
        if len(scored):
            sections.append(f"ROC AUC of each site's probability, {design}:\n\n"
                            f"{_markdown(_table1b_shown(scored, EN_DASH, notes, 'auc'))}")
        for sites, how in OTHER_SITES.items():
            other = table[(table.design == design) & (table.sites == sites)]
            if len(other):
                sections.append(f"Sites {sites}, {design} (the same reports): {how}\n\n"
                                f"{_markdown(_table1b_shown(other, EN_DASH, notes))}")
        latex.append(f"% {design}\n" + _latex(_table1b_shown(rows, LATEX_DASH, notes)))
    ungated = table[table.design == RULES_UNGATED]
    if len(ungated):
        sections.append(
            f"### {RULES_UNGATED.capitalize()}\n\n{_markdown(_table1b_shown(ungated, EN_DASH, notes))}\n"
            f"The rule-based baseline's own sites on its own Yes calls, over every scored report, not through the "
            f"gate: not comparable with the rows above.\n")
    footer = (f"\nF1 per site, one-vs-rest; support: how many of the design's reports truly have the site. "
              f"{_probability_note(table)}{SCORING_RULES['left out']} "
              f"{_interval_note(table, resampled='F1 and AUC')}{_notes_line(notes, table.model)}\n")
    return _write(out_dir, "table1b", table.assign(note=table.model.map(notes).fillna("")),
                  "\n".join(sections) + footer, "\n".join(latex))


# Beside the tables ---------------------------------------------------------------------------------------------

def table1a_vs_published(table: pd.DataFrame, published: dict) -> pd.DataFrame:
    """Two blocks of rows: this run's label sets, then the paper's models, each marked by ``source``."""
    interval_columns = [f"{metric}_{bound}" for metric in METRIC_COLUMNS for bound in ("lo", "hi")]
    ours = table[["model", "n", *METRIC_COLUMNS, *interval_columns]].assign(source=THIS_RUN)
    theirs = published_table1a(published).assign(source=PUBLISHED, n=published["n_scored_implied"])
    columns = ["source", "model", "n"] + [c for metric in METRIC_COLUMNS for c in (metric, f"{metric}_lo", f"{metric}_hi")]
    return pd.concat([ours, theirs], ignore_index=True)[columns]


def table1b_vs_published(table: pd.DataFrame, published: dict) -> pd.DataFrame:
    """One row per location: this run's support and F1 per label set in the study's design (stage 2 alone),
    then the paper's F1 per model."""
    ours = table[(table.design == STAGE2_ALONE) & (table.sites == SITES_ASKED)]
    wide = ours.pivot(index="location", columns="model", values="f1").reindex(columns=ours.model.unique())
    theirs = published_table1b(published).pivot(index="location", columns="model", values="f1")
    theirs = theirs.reindex(columns=published["models"])
    support = ours.drop_duplicates("location").set_index("location").support
    blocks = [
        support.rename(f"{THIS_RUN}: support"),
        wide.rename(columns=lambda model: f"{THIS_RUN}: {model}"),
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
    paths = _write(out_dir, "table1a_vs_published", first, _markdown(shown_first, text_columns=2)
                   + f"\nThis run: {SCORING_RULES['left out']}\n" + note)

    second = table1b_vs_published(table1b, published)
    shown_second = second.astype(str)
    scores = second.columns[2:]  # after location and support
    shown_second[scores] = second[scores].map(lambda value: with_interval(value, np.nan, np.nan))
    return paths + _write(out_dir, "table1b_vs_published", second, _markdown(shown_second)
                          + f"\nThis run: {STAGE2_ALONE}, the study's design (see table1b.md).\n" + note)


def write_statistics(evaluation: Stage1Evaluation, out_dir: Path) -> list[Path]:
    """``paired_differences.csv``, ``mcnemar.csv``, ``agreement.csv``, ``cohen_kappa.csv`` and ``statistics.md``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    differences, mcnemar, agreement, cohen = evaluation.differences, evaluation.mcnemar, evaluation.agreement, evaluation.cohen
    paths = [out_dir / name for name in ("paired_differences.csv", "mcnemar.csv", "agreement.csv", "cohen_kappa.csv",
                                         "statistics.md")]
    for frame, path in zip((differences, mcnemar, agreement, cohen), paths):
        frame.to_csv(path, index=False)

    shown_differences = differences[["model_a", "model_b", "metric"]].copy()
    shown_differences["a"] = differences.value_a.map(lambda v: with_interval(v, np.nan, np.nan))
    shown_differences["b"] = differences.value_b.map(lambda v: with_interval(v, np.nan, np.nan))
    shown_differences["a − b"] = _estimates(differences, "difference", DIFFERENCE_DASH)
    shown_differences["note"] = differences.note
    shown_mcnemar = mcnemar[["model_a", "model_b", "only_a_correct", "only_b_correct"]].astype(str)
    for column in ("p_exact", "p_mid", "p_holm"):
        shown_mcnemar[column] = mcnemar[column].map("{:.3g}".format)
    shown_mcnemar["note"] = mcnemar.note
    shown_agreement = agreement[["models", "n_reports", "n_not_sent"]].astype(str)
    shown_agreement["Fleiss' κ"] = _estimates(agreement, "fleiss_kappa", DIFFERENCE_DASH)
    shown_cohen = pd.DataFrame({"model": cohen.model, "Cohen's κ with the truth": _estimates(cohen, "cohen_kappa", DIFFERENCE_DASH)})
    scored = f"{SCORING_RULES['left out']} {int(evaluation.table1a.n.iloc[0])} reports scored."
    paths[4].write_text(
        "## Paired differences between label sets\n\n" + _markdown(shown_differences, text_columns=3)
        + f"\na, b: the metric of model_a and model_b; a − b with its interval. {scored} "
        + _interval_note(differences, resampled="the differences") + "\n\n"
        "## McNemar's test (correct/incorrect, Yes positive)\n\n" + _markdown(shown_mcnemar, text_columns=2)
        + f"\nonly_a_correct, only_b_correct: the reports one of the two gets right and the other wrong. p_exact: "
          f"the exact binomial test; p_mid: its mid-p version; p_holm: p_mid Holm-adjusted across the "
          f"{len(mcnemar)} comparisons of this table. A comparison with a note is not one of two independent "
          f"models. {scored}\n\n"
        "## Agreement of the models (Fleiss' κ on Yes/No/Undefined)\n\n" + _markdown(shown_agreement)
        + f"\nOver the scored reports sent to every model that votes (a report sent to none has every answer "
          f"Undefined by rule, which would inflate the agreement). {_interval_note(agreement, resampled='κ')}\n\n"
        "## Agreement of each label set with the truth (Cohen's κ)\n\n" + _markdown(shown_cohen)
        + f"\nThree-way answers against the truth. {scored} {_interval_note(cohen, resampled='κ')}"
        + _notes_line(evaluation.notes, cohen.model) + "\n"
    )
    return paths


def write_confusion(confusion: pd.DataFrame, out_dir: Path) -> list[Path]:
    """``confusion.csv`` (long) and ``confusion.md`` (a truth × answer table per label set)."""
    blocks = []
    for model, counts in confusion.groupby("model", sort=False):
        grid = counts.pivot(index="truth", columns="answer", values="reports").reindex(index=LABELS, columns=LABELS)
        grid = grid.rename_axis(index=None, columns=None).astype(str).rename(columns=lambda a: f"answer {a}")
        blocks.append(f"### {model}\n\n" + _markdown(grid.rename_axis("truth").reset_index()))
    markdown = "\n".join(blocks) + (
        "\nEvery report with ground truth, its truth Undefined included; invalid answers are in the Undefined column. "
        "Table 1A scores the rows Yes and No, with only the Yes column positive.\n")
    return _write(out_dir, "confusion", confusion, markdown)


def write_calibration(calibration: pd.DataFrame, out_dir: Path) -> list[Path]:
    """``calibration.csv`` and ``calibration.md``: Brier score, calibration intercept and slope of p_yes."""
    shown = pd.DataFrame({
        "model": calibration.model, "reports with p_yes": calibration.n_scores.astype(str),
        "Brier score": calibration.brier.map(lambda v: with_interval(v, np.nan, np.nan)),
        "calibration intercept": _estimates(calibration, "intercept", DIFFERENCE_DASH),
        "calibration slope": _estimates(calibration, "slope", DIFFERENCE_DASH),
    })
    markdown = _markdown(shown) + (
        f"\n{SCORING_RULES['left out']} Over the scored reports with a p_yes. Brier score: mean squared difference of "
        "p_yes and the truth (0 is perfect). Calibration slope: the logistic regression of the truth on logit p_yes "
        "(1 is ideal; below 1 the scores are too extreme); intercept: the same with the slope held at 1 (0 is ideal; "
        "below 0 the scores are too high). 95% Wald intervals; n/a where the scores separate the classes perfectly "
        "or are too few. See reliability_p_yes.png.\n")
    return _write(out_dir, "calibration", calibration, markdown)


def write_by_category(table: pd.DataFrame, out_dir: Path, stem: str = "by_category",
                      reports: str = "test") -> list[Path]:
    """``<stem>.csv`` (long) and ``<stem>.md`` (one row per kind, accuracy and errors per label set), over the
    scored reports of the ``reports`` split."""
    if table.empty:
        return _write(out_dir, stem, table, f"No kinds of report, or no {reports} reports, were given for this run.\n")
    cell = table.assign(shown=[f"{with_interval(a, lo, hi)} [{e}]" for a, lo, hi, e in
                               zip(table.accuracy, table.accuracy_lo, table.accuracy_hi, table.errors)])
    wide = cell.pivot(index="category", columns="model", values="shown")
    wide = wide.reindex(index=list(dict.fromkeys(table.category)), columns=list(dict.fromkeys(table.model)))
    sizes = table.drop_duplicates("category").set_index("category")[["support", "positives"]].astype(str)
    shown = sizes.join(wide).rename_axis(index="category", columns=None).reset_index()
    markdown = _markdown(shown, text_columns=1) + (
        f"\nAccuracy (Clopper–Pearson 95% interval) [errors] of each label set on the scored {reports} reports of each "
        f"kind of report (the demo corpus's hard-case categories; a report may be of several kinds). "
        f"{SCORING_RULES['left out']} support: scored reports of the kind; positives: how many of them are Yes. F1 per "
        f"kind is in {stem}.csv.\n")
    return _write(out_dir, stem, table, markdown)


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
        f"\nThe cut maximises F1 on the {table.n_development.iloc[0]} scored development reports; F1 is measured on the "
        f"{table.n_test.iloc[0]} scored test reports. {SCORING_RULES['left out']} "
        f"{_interval_note(table, resampled='F1 and the differences')} The tables keep the plain answer.\n"
    )
    return _write(out_dir, "thresholds", table, markdown)


def write_review_budget(budget: ReviewBudget, out_dir: Path, notes: dict[str, str] | None = None) -> list[Path]:
    """``review_budget.csv`` (the 5/10/20% points), ``review_budget.md`` (those points, then the priority's
    calibration and coefficients under their own headings) and ``review_budget_curves.csv`` (every share)."""
    notes = notes or {}
    points = budget.points
    random = points.ordering == RANDOM
    shown = pd.DataFrame({
        "order": _noted(points.ordering, notes),
        "share reviewed": points.target.map("{:.0%}".format),
        "reports reviewed": points.reviewed.astype(str),
        "errors caught": [f"{c:.1f}" if r else f"{c:.0f}" for c, r in zip(points.errors_caught, random)],
        "errors left": [f"{c:.1f}" if r else f"{c:.0f}" for c, r in zip(points.errors_left, random)],
        "F1 after review": [with_interval(f, lo, hi) if r else with_interval(f, np.nan, np.nan)
                            for f, lo, hi, r in zip(points.f1, points.get("f1_lo"), points.get("f1_hi"), random)],
    })
    before = budget.curves[(budget.curves.ordering == RANDOM) & (budget.curves.reviewed == 0)].f1.iloc[0]
    calibration = budget.calibration
    calibration_shown = pd.DataFrame({
        "priority": _noted(calibration.priority, notes), "part": calibration.part,
        "reports": calibration.reports.astype(str), "errors": calibration.errors.astype(str),
        "Brier score": calibration.brier.map(lambda v: with_interval(v, np.nan, np.nan)),
        "calibration intercept": _estimates(calibration, "intercept", DIFFERENCE_DASH),
        "calibration slope": _estimates(calibration, "slope", DIFFERENCE_DASH),
    })
    coefficients = budget.coefficients.pivot(index="feature", columns="priority", values="coefficient")
    coefficients = coefficients.reindex(index=budget.coefficients.feature.unique(),
                                        columns=budget.coefficients.priority.unique())
    coefficients_shown = coefficients.map(lambda v: "–" if pd.isna(v) else f"{v:+.3f}").rename(
        columns=lambda name: f"{name}{NOTED if name in notes else ''}").rename_axis("feature").reset_index()
    markdown = "\n".join([
        f"The test split's {budget.reports} scored reports reviewed in each order, a reviewed report taking its true "
        f"label: the errors of {budget.label_set} (Yes against not-Yes) caught and left, and its F1. Before any "
        f"review: {budget.errors} errors, F1 {before:.3f}.",
        "",
        _markdown(shown, text_columns=2),
        f"{SCORING_RULES['left out']} Reports reviewed: round(share × {budget.reports}). Review priority: the "
        f"estimated probability that {budget.label_set} is wrong (labels' review_priority), highest first. Closest "
        "call first: the smallest |p_yes − 0.5| over the models, the ensemble aside, reports without any p_yes last "
        "(the reviewer sheet's order without a priority). Random order: errors caught in expectation (share × errors); F1 the mean over "
        f"{budget.random_orders} seeded random orders, with the range that holds {budget.confidence:.0%} of them. "
        "Ties keep the truth's order." + _notes_line(notes, points.ordering),
        "",
        "### Calibration of the priority",
        "",
        _markdown(calibration_shown, text_columns=2),
        "Whether the priority reads as a probability of an error, over the scored reports of each part: the Brier "
        "score, and the calibration slope (logistic regression of the error on logit priority; 1 is ideal, above 1 "
        "the priority is too cautious, below 1 too extreme) and intercept (the same with the slope held at 1; 0 is "
        "ideal, below 0 the priority is too high); 95% Wald intervals, n/a where the priority separates the errors "
        "from the rest perfectly or they are too few. The development part is the one the priority was fitted on "
        "(in-sample)." + _notes_line(notes, calibration.priority),
        "",
        "### Coefficients",
        "",
        _markdown(coefficients_shown),
        "Logistic regression (scikit-learn, L2 penalty, C "
        f"{budget.regularisation:g}) of an error of {budget.label_set} on the features of analysis/labeling/priority.py, "
        f"each in [0, 1]; a coefficient is the change in the log-odds of an error from 0 to 1 of its feature. Fitted on "
        f"{budget.fitted_on}."
        + _notes_line(notes, coefficients.columns),
    ])
    written = _write(out_dir, "review_budget", points, markdown + "\n")
    budget.curves.to_csv(Path(out_dir) / "review_budget_curves.csv", index=False)
    return [*written, Path(out_dir) / "review_budget_curves.csv"]


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
        f"\nF1 (Yes positive) on the {table.n.iloc[0]} scored test reports, with each variant's difference from "
        f"{reference} for the same model. {SCORING_RULES['left out']} "
        f"{_interval_note(table, resampled='F1 and the differences')} Precision, recall and the ROC AUC of p_yes "
        f"are in variants.csv.\n"
    )
    return _write(out_dir, "variants", table, markdown)


def write_site_thresholds(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    """``site_thresholds.csv`` and ``.md``: per label set and site, F1 on the test reports of stage 2 alone at the
    default cut and at the cut chosen on the development reports."""
    if table.empty:
        return _write(out_dir, "site_thresholds", table,
                      "No site probabilities, or no development split: no cut was chosen per site.\n")
    shown = pd.DataFrame({
        "model": table.model, "site": table.location, "support": table.support.astype(str),
        f"F1 at {table.attrs['default_cut']:g}": _estimates(table, "f1_default", EN_DASH),
        "cut from development": table.cut.map(lambda cut: "n/a" if pd.isna(cut) else f"{cut:.3f}"),
        "F1 at that cut": _estimates(table, "f1_cut", EN_DASH),
    })
    markdown = _markdown(shown, text_columns=2) + (
        f"\nEach site's cut maximises F1 on the {table.attrs['n_development']} development reports of stage 2 alone "
        f"(the gate said Yes, the truth is Yes); F1 is measured on the {table.n.iloc[0]} test reports of that design. "
        f"{SCORING_RULES['left out']} {_interval_note(table, resampled='F1')} The labels keep the default cut.\n")
    return _write(out_dir, "site_thresholds", table, markdown)


def write_stage1(evaluation: Stage1Evaluation, out_dir: Path) -> list[Path]:
    """Every table of stage 1's evaluation; returns the paths written."""
    return (write_table1a(evaluation.table1a, out_dir, evaluation.notes)
            + write_table1a(evaluation.sensitivity, out_dir, evaluation.notes, stem="table1a_sensitivity")
            + write_statistics(evaluation, out_dir)
            + write_confusion(evaluation.confusion, out_dir)
            + write_calibration(evaluation.calibration, out_dir)
            + write_by_category(evaluation.by_category, out_dir)
            + write_by_category(evaluation.by_category_dev, out_dir, "by_category_dev", "development")
            + write_thresholds(evaluation.thresholds, out_dir))


def write_evidence(scores: dict[str, pd.DataFrame], out_dir: Path, share: float) -> list[Path]:
    """``evidence.{csv,md}``: the evidence spans' precision and recall in each part of the split."""
    frames = [frame.assign(part=part) for part, frame in scores.items() if len(frame)]
    if not frames:
        return []
    table = pd.concat(frames, ignore_index=True)
    sections = []
    for part, rows in table.groupby("part", sort=False):
        shown = rows[["model", "reports", "only_first_sentence", "chosen", "correct", "true", "found"]].astype(str).assign(
            precision=_estimates(rows, "precision", EN_DASH), recall=_estimates(rows, "recall", EN_DASH))
        shown.columns = ["label set", "gated reports", "of them: the first sentence alone", "sentences chosen",
                         "of them correct", "true statements", "of them found", "precision", "recall"]
        role = ("where the evidence rule was chosen" if part == DEV else "measured once, with every choice frozen "
                "on the development part")
        sections.append(f"### {part.capitalize()} part ({role})\n\n{_markdown(shown, text_columns=1)}")
    note = (f"Evidence spans against the true evidence statements (the demo corpus's evidence.csv), over the reports "
            f"the gate model sent to stage 2. A sentence is evidence where its probability reaches {share:g} of the "
            f"likeliest sentence's (localization.evidence_share). {EVIDENCE_RULES} Clopper–Pearson 95% intervals, "
            f"sentences taken as independent.\n")
    return _write(out_dir, "evidence", table, "\n".join(sections) + "\n" + note)


def chosen_designs(designs: pd.DataFrame) -> dict[str, str]:
    """The label sets best on the development part by macro-F1: of all (``chosen``), and of those whose sites
    are the models' own answers or probabilities (``llm_only``); none without a development part."""
    if "dev_macro_f1" not in designs or designs.dev_macro_f1.isna().all():
        return {}
    own = designs[designs.sites.isin([SITES_ASKED, SITES_AT_CUTS])]
    return {"chosen": designs.model[designs.dev_macro_f1.idxmax()],
            **({"llm_only": own.model[own.dev_macro_f1.idxmax()]} if own.dev_macro_f1.notna().any() else {})}


def write_designs(designs: pd.DataFrame, out_dir: Path, notes: dict[str, str]) -> list[Path]:
    """``stage2_designs.{csv,md}``: each label set's macro-F1 on both parts, and the ones chosen on the
    development part."""
    if designs.empty:
        return []
    chosen = chosen_designs(designs)
    marks = {name: role for role, name in (("best LLM-only on dev", chosen.get("llm_only")),
                                           ("chosen on dev", chosen.get("chosen"))) if name}
    parts = [part for part in (DEV, "test") if f"{part}_macro_f1" in designs]
    shown = pd.DataFrame({"label set": _noted(designs.model, notes), "sites": designs.sites,
                          **{f"{part}: {what}": designs[f"{part}_{column}"].map(
                              lambda value: with_interval(value, np.nan, np.nan))
                             for part in parts for what, column in (("macro-F1", "macro_f1"),
                                                                    (f"lowest F1 (support ≥ {MIN_SUPPORT})", "lowest_f1"))},
                          "": designs.model.map(marks).fillna("")})
    reports = ", ".join(f"{part} {int(designs[f'{part}_reports'].iloc[0])}" for part in parts)
    text = (_markdown(shown, text_columns=2)
            + f"\nStage 2 alone (the reports the gate model called Yes whose truth is Yes: {reports}). Macro-F1: the "
              "mean of the per-site F1 over the sites with at least one true report; lowest F1: the worst site among "
              f"those with at least {MIN_SUPPORT} true reports. Point estimates; Table 1B gives each site's interval. "
              + (f"Chosen on the development part by its macro-F1: {chosen['chosen']}"
                 + (f"; of the label sets whose sites are the models' own answers or probabilities: {chosen['llm_only']}"
                    if "llm_only" in chosen else "")
                 + ". The test columns are measured once, with every choice frozen; the development columns of the "
                   f"label sets {SITES_AT_CUTS} are on the reports their cuts were chosen on, so they flatter them. "
                 if chosen else
                 "Without a development part nothing is chosen. ")
            + "A label set marked † reads its sites with the rules' vocabulary (see the note under Table 1B): it is "
              "never a model's result alone." + _notes_line(notes, designs.model) + "\n")
    return _write(out_dir, "stage2_designs", designs, text)


def write_stage2(evaluation: Stage2Evaluation, table1a: pd.DataFrame, out_dir: Path,
                 notes: dict[str, str] | None = None, share: float = 1.0) -> list[Path]:
    """Table 1B, the per-site cuts, both tables beside the published ones and the evidence spans' scores;
    returns the paths written."""
    return (write_table1b(evaluation.table1b, out_dir, notes) + write_site_thresholds(evaluation.site_thresholds, out_dir)
            + write_comparisons(table1a, evaluation.table1b, out_dir) + write_evidence(evaluation.evidence, out_dir, share)
            + write_designs(evaluation.designs, out_dir, notes or {}))


def table1a_step(files: RunFiles, run: Run, figures_dir: Path, features: pd.DataFrame | None = None,
                 labels: pd.DataFrame | None = None) -> Stage1Evaluation:
    """Table 1A and every table beside it, in ``figures_dir``, of ``stage1_ensemble.csv`` (or ``labels``) against
    the scored part's truth; the reports whose truth is Undefined, left out, listed in ``undefined_truth.csv``."""
    labels = read_labels(files.ensemble) if labels is None else labels
    evaluation = evaluate_stage1(labels, read_truth(files.truth), read_truth(files.truth_dev), run, features)
    write_stage1(evaluation, figures_dir)
    write_table(evaluation.undefined_truth, files.undefined_truth)  # report ids: kept with the run, not in figures/
    return evaluation


def table1b_step(files: RunFiles, run: Run, figures_dir: Path, labels: pd.DataFrame | None = None) -> Stage2Evaluation:
    """Table 1B and the tables beside it, in ``figures_dir``, of ``labels.csv`` (or ``labels``), beside the
    Table 1A that ``table1a_step`` wrote there."""
    labels = read_labels(files.labels) if labels is None else labels
    texts = read_inputs(files.inputs).set_index("report_id").prompt_text if files.inputs.exists() else None
    evaluation = evaluate_stage2(labels, read_truth(files.truth), read_truth(files.truth_dev), run, texts)
    write_stage2(evaluation, pd.read_csv(Path(figures_dir) / "table1a.csv"), figures_dir, evaluation.notes,
                 run.localization.evidence_share)
    return evaluation
