"""Figures of a labeling run: the pipeline (Figure 1) with this run's counts, and views of Tables 1A and 1B.

Every function takes what the pipeline already produced (labels, ground
truth, the tables of ``analysis.evaluation.metrics``, the run manifest) and returns a
``matplotlib.figure.Figure`` built without pyplot: no figure outlives its
caller, and importing this module chooses no backend for the process (a
notebook keeps its own). ``save`` writes a figure as PNG and PDF;
``figures_step``, the run's last step, draws and writes every figure, the
reviewer sheet and (for the demo run) the README's results.

The binary views follow Table 1A: ``Yes`` is the positive class; ``No``,
``Undefined`` and invalid answers are negative.
"""

import itertools
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_curve

from analysis.config import RunFiles
from analysis.data.io import read_truth
from analysis.data.vocabulary import BASELINE, ENSEMBLE, LABELS, LOCATIONS, Role, Status
from analysis.evaluation.evaluate import label_set_notes
from analysis.evaluation.metrics import STAGE2_ALONE, roc_auc
from analysis.evaluation.review_budget import CURRENT, PRIORITY, RANDOM, SHARES, WITHOUT_RULES, ReviewBudget, review_budget
from analysis.evaluation.scoring import is_positive, paired_labels, scored_truth
from analysis.labeling.inputs import read_inputs
from analysis.labeling.labels import read_labels
from analysis.labeling.manifest import Manifest, Reports
from analysis.labeling.priority import PriorityModel
from analysis.reporting.diagram import (
    COLUMN_GAP_IN,
    FLOW_TITLE_PT,
    LINE_GAP_IN,
    MARGIN_IN,
    ROW_GAP_IN,
    Diagram,
)
from analysis.reporting.readme import update_readme
from analysis.reporting.review import reviewer_sheet, write_reviewer_sheet
from analysis.reporting.tables import with_interval, write_review_budget
from analysis.specs import Run

PAGE_WIDTH_IN = 7.2  # the text width of a journal page
PNG_DPI = 200
# Okabe–Ito colours stay distinct for colour-blind readers; the ensemble is always black, the baseline grey.
MODEL_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
FIXED_COLORS = {ENSEMBLE: "black", BASELINE: "0.5"}
MARKERS = {ENSEMBLE: "D", BASELINE: "s"}
HEATMAP = matplotlib.colormaps["Blues"].with_extremes(bad="0.93")  # bad: cells without a value


def save(figure: Figure, out_dir: Path, stem: str) -> list[Path]:
    """``stem.png`` and ``stem.pdf`` in ``out_dir``; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    png, pdf = out_dir / f"{stem}.png", out_dir / f"{stem}.pdf"
    # TrueType fonts keep the PDF's text selectable; no creation date keeps a regenerated PDF byte-identical.
    with matplotlib.rc_context({"pdf.fonttype": 42}):
        figure.savefig(png, dpi=PNG_DPI)
        figure.savefig(pdf, metadata={"CreationDate": None})
    return [png, pdf]


def _model_colors(models) -> dict[str, str]:
    others = itertools.cycle(MODEL_COLORS)
    return {model: FIXED_COLORS.get(model) or next(others) for model in models}


# Figure 1: the pipeline ------------------------------------------------------------------------------------------


def _first_line(template: str) -> str:
    return template.strip().splitlines()[0]


def _answer_counts(counts: dict[str, int]) -> str:
    # No-break spaces keep each label with its count when the line wraps.
    return " · ".join(f"{label}\u00a0{counts.get(label, 0)}" for label in LABELS)


def _run_caveat(tags: list[str], study: list[str]) -> str:
    if tags == study:
        return "The study's models; the counts are this run's, on the reports it was given."
    return f"Not the study's models ({', '.join(study)}): these counts describe this run only, not the paper."


def _impression_lines(run: dict, reports: Reports) -> list[str]:
    not_sent = reports.not_sent
    found = reports.total - reports.impression_found_by.get("none", 0)
    lines = [
        f"impression header found: {found} of {reports.total}",
        f"sent to the models: {reports.sent_to_models}",
        f"not sent, labeled Undefined: {sum(not_sent.values())}",
        *(f"   {reason}: {count}" for reason, count in not_sent.items()),
    ]
    if run.get("no_impression") == "full_report":
        lines.append("a report without an impression is sent whole")
    return lines


def _model_lines(model: dict, gate: str | None) -> list[str]:
    about = [model.get(key) for key in ("parameter_size", "quantization_level")]
    lines = [" · ".join(value for value in about if value)] if any(about) else []
    return lines + (["gate for stage 2"] if model["tag"] == gate else [])


def _location_lines(labels: pd.DataFrame, source: str, located: int, voted: bool,
                    column: str = "locations") -> list[str]:
    """How many reports ``source`` gives each site (in ``column``), and how many of the ``located`` reports get none."""
    sites = labels[column][labels.model == source].tolist()
    # No-break spaces keep "abdominal wall 3" on one line when the list wraps.
    per_site = [f"{site} {sum(site in named for named in sites)}".replace(" ", "\u00a0") for site in LOCATIONS]
    unnamed = located - sum(bool(named) for named in sites)
    return [" · ".join(per_site), f"reports with no site {'by majority' if voted else 'named'}: {unnamed}"]


def pipeline_figure(manifest: Manifest, labels: pd.DataFrame, study_models: list[str]) -> Figure:
    """Figure 1: reports → impression → stage-1 prompt → models → answers → ensemble → stage 2 → locations.

    The rule-based baseline, when the run has one, sits in a box of its own at the bottom.
    ``study_models`` are the study's model tags: the figure says whether this run's are the same.

    Every box carries this run's counts: from the manifest (reports, impressions,
    prompts, answers per model, stage-2 reports) and from ``labels`` (reports
    without a majority, sites the ensemble names). Stage 2 hangs under the gate
    model, whose ``Yes`` sends a report there, beside the ensemble.
    """
    run, reports, counts = manifest.run, manifest.reports, manifest.counts
    tasks = {task["name"]: task for task in manifest.tasks}
    tags = [model["tag"] for model in manifest.models]
    # Stage 2 is drawn where the manifest records that it ran (not after stage 1 alone, nor where it was skipped).
    localization = run["localization"] if manifest.stage2 and manifest.stage2.ran else None
    gate = manifest.stage2.gate if localization else None
    voted = bool((labels.role == Role.ENSEMBLE).any())

    diagram = Diagram(PAGE_WIDTH_IN)
    full_width = PAGE_WIDTH_IN - 2 * MARGIN_IN
    bottom = MARGIN_IN + diagram.text(MARGIN_IN, MARGIN_IN, ["Figure 1. Labeling pipeline, with this run's counts"],
                                      full_width, fontsize=FLOW_TITLE_PT, weight="bold")[1] + LINE_GAP_IN
    bottom += diagram.text(MARGIN_IN, bottom, [f"{run['name']} run: {run['description']}.", _run_caveat(tags, study_models)],
                           full_width, color="0.25")[1]

    columns = max(len(tags), 2)  # a one-model run still needs a column beside it for stage 2
    column_width = (full_width - (columns - 1) * COLUMN_GAP_IN) / columns

    def column_left(column: int) -> float:
        return MARGIN_IN + column * (column_width + COLUMN_GAP_IN)

    top = bottom + ROW_GAP_IN
    corpus = diagram.box(column_left(0), top, column_width, "CT reports", [f"{reports.total} reports"])
    impression = diagram.box(column_left(1), top, full_width - column_width - COLUMN_GAP_IN, "Impression extraction",
                             _impression_lines(run, reports), align="left")
    diagram.across(corpus, impression)

    stage1 = tasks[run["task"]]
    prompt = diagram.box(MARGIN_IN, max(corpus.bottom, impression.bottom) + ROW_GAP_IN, full_width,
                         f"Stage 1 prompt: task {stage1['name']} v{stage1['version']}", [
                             f"“{_first_line(stage1['template'])}”",
                             f"… then the report's IMPRESSION; allowed answers: {' / '.join(stage1['answers'])}",
                         ], fill="#F3F7FB")
    diagram.down(impression, prompt)

    model_boxes = []
    for column, model in enumerate(manifest.models):
        model_boxes.append(diagram.box(column_left(column), prompt.bottom + ROW_GAP_IN, column_width, model["tag"],
                                       _model_lines(model, gate), fill="#FFF6E5"))
        diagram.down(prompt, model_boxes[-1], x=model_boxes[-1].center)
    top = max(box.bottom for box in model_boxes) + ROW_GAP_IN
    answer_boxes = []
    for model_box, tag in zip(model_boxes, tags):
        answer_boxes.append(diagram.box(model_box.left, top, column_width, None, [_answer_counts(counts.get(tag, {}))]))
        diagram.down(model_box, answer_boxes[-1])
    bottom = max(box.bottom for box in answer_boxes)

    # Stage 2 takes the gate's column; the ensemble and the locations take the columns on its far side.
    if gate:
        g = tags.index(gate)
        rest = range(g + 1, columns) if g < len(tags) / 2 else range(0, g)
        region = (column_left(rest[0]), column_left(rest[-1]) + column_width)
        toward_rest = 1 if rest[0] > g else -1
    else:
        region = (MARGIN_IN, MARGIN_IN + full_width)

    ensemble = None
    if voted:
        undecided = int((labels.status[labels.model == ENSEMBLE] == Status.NO_MAJORITY).sum())
        ensemble = diagram.box(region[0], bottom + ROW_GAP_IN, region[1] - region[0], "Majority-vote ensemble", [
            _answer_counts(counts[ENSEMBLE]), f"no majority (→ Undefined): {undecided}",
        ], fill="#EEF6EE")
        for box in answer_boxes:
            if region[0] <= box.center <= region[1]:
                diagram.down(box, ensemble, x=box.center)
            else:
                start = box.center + toward_rest * box.width / 4
                end = ensemble.left if toward_rest > 0 else ensemble.right
                diagram.arrow((start, box.bottom), (end, ensemble.top + ensemble.height / 2), corner=True)
        bottom = ensemble.bottom

    if gate:
        stage2 = tasks[localization["task"]]
        located = manifest.stage2.sent
        gate_box = answer_boxes[g]
        evidence = tasks.get(localization.get("evidence") or "")
        stage2_box = diagram.box(gate_box.left, bottom + ROW_GAP_IN, column_width, "Stage 2, localization prompt", [
            f"task {stage2['name']} v{stage2['version']}",
            f"asked of every model for the {located} reports {gate} called Yes",
            f"“{_first_line(stage2['template'])}”",
            *([f"and task {evidence['name']} v{evidence['version']}: which sentence of the impression reports "
               "the bleeding; its sites read from its words by the rules' vocabulary (†)"] if evidence else []),
        ], fill="#F3F7FB")
        # Offset from the ensemble's arrow, which leaves the same box on the other side of its middle.
        gate_x = gate_box.center - toward_rest * gate_box.width / 4 if voted else gate_box.center
        diagram.down(gate_box, stage2_box, x=gate_x, linestyle="--")
        diagram.note(gate_x - toward_rest * 0.06, (gate_box.bottom + stage2_box.top) / 2, f"Yes: {located}",
                     ha="right" if toward_rest > 0 else "left")
        title = "Locations: sites a majority of models named" if voted else f"Locations named by {gate}"
        source = ENSEMBLE if voted else gate
        lines = _location_lines(labels, source, located, voted)
        if evidence:
            grounded = _location_lines(labels, source, located, voted, "evidence_locations")
            lines += [f"sites of the {'majority’s ' if voted else ''}evidence sentences†: {grounded[0]}"]
        locations = diagram.box(region[0], stage2_box.top, region[1] - region[0], title, lines, fill="#EEF6EE")
        diagram.across(stage2_box, locations)
        if ensemble:
            diagram.down(ensemble, locations)
        bottom = max(stage2_box.bottom, locations.bottom)

    baseline = manifest.baseline
    if baseline and (labels.role == Role.RULES).any():
        sites = _location_lines(labels, BASELINE, counts[BASELINE].get("Yes", 0), voted=False)
        box = diagram.box(MARGIN_IN, bottom + ROW_GAP_IN, full_width,
                          f"For comparison, not in the ensemble: rule-based baseline '{BASELINE}' "
                          f"(medspaCy ConText, {baseline['rule_file']} v{baseline['version']})",
                          [f"on the same impressions: {_answer_counts(counts[BASELINE])}",
                           f"sites of its Yes reports: {sites[0]}"], fill="#F2F2F2")
        bottom = box.bottom

    return diagram.finish(bottom + MARGIN_IN)


# Views of Tables 1A and 1B -------------------------------------------------------------------------------------


def _annotated_grid(axes, values: np.ndarray, texts: list[list[str]], row_labels, column_labels,
                    vmin: float, vmax: float, fontsize: float = 8):
    """A heatmap with a text in every cell (dark cells get white text); NaN cells are grey."""
    norm = Normalize(vmin, vmax)
    image = axes.imshow(np.ma.masked_invalid(values), cmap=HEATMAP, norm=norm, aspect="auto")
    for (row, column), value in np.ndenumerate(values):
        red, green, blue, _ = HEATMAP(norm(value)) if np.isfinite(value) else (1, 1, 1, 1)
        dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
        axes.text(column, row, texts[row][column], ha="center", va="center", fontsize=fontsize,
                  color="white" if dark else ("0.45" if not np.isfinite(value) else "black"))
    axes.set_xticks(range(len(column_labels)), labels=column_labels)
    axes.set_yticks(range(len(row_labels)), labels=row_labels)
    axes.tick_params(length=0)
    axes.spines[:].set_visible(False)
    return image


def confusion_matrices(labels: pd.DataFrame, truth: pd.DataFrame) -> Figure:
    """One 3×3 panel per model (ensemble included): truth Yes/No/Undefined by answer Yes/No/Undefined.

    Counts share one colour scale. Invalid answers are in the Undefined
    column, as in the labels; Table 1A counts that whole column as negative.
    """
    by_model = paired_labels(labels, truth)
    actual = truth.extravasation.to_numpy()

    def counts(answered: np.ndarray) -> np.ndarray:
        return np.array([[np.sum((actual == said) & (answered == answer)) for answer in LABELS] for said in LABELS])

    matrices = {model: counts(answers.extravasation.to_numpy()) for model, answers in by_model.items()}
    per_row = min(len(matrices), 4)
    rows = -(-len(matrices) // per_row)
    figure = Figure(figsize=(PAGE_WIDTH_IN, 0.8 + 2.2 * rows), layout="constrained")
    grid = figure.subplots(rows, per_row, squeeze=False)
    largest = max(matrix.max() for matrix in matrices.values())
    for index, (axes, (model, matrix)) in enumerate(zip(grid.flat, matrices.items())):
        _annotated_grid(axes, matrix.astype(float), [[str(count) for count in row] for row in matrix],
                        LABELS, LABELS, 0, max(largest, 1), fontsize=9)
        axes.set_aspect("equal")
        axes.set_title(model, fontsize=9, weight="bold" if model == ENSEMBLE else "normal")
        axes.set_xlabel("answer", fontsize=8)
        axes.tick_params(labelsize=7.5)
        # "Undefined" is wider than a cell: tilted, the column labels do not run into each other.
        axes.tick_params(axis="x", labelrotation=30)
        for label in axes.get_xticklabels():
            label.set(ha="right", rotation_mode="anchor")
        if index % per_row == 0:
            axes.set_ylabel("truth", fontsize=8)
        else:
            axes.tick_params(axis="y", labelleft=False)
    for axes in grid.flat[len(matrices):]:
        axes.set_visible(False)
    figure.suptitle(
        f"Stage 1 answers against the ground truth ({len(truth)} reports).\n"
        "Table 1A counts only Yes as positive: Undefined answers are negatives.", fontsize=9,
    )
    return figure


def _confidence(table: pd.DataFrame) -> str:
    settings = table.attrs.get("bootstrap")
    return f"{settings['confidence']:.0%} " if settings else ""


def forest_plot(table1a: pd.DataFrame) -> Figure:
    """F1 and accuracy per model (table order, top to bottom), each with its bootstrap interval, on 0–1.

    The left labels give each model's n and its Undefined and invalid counts;
    the right labels give the value and interval as Table 1A prints them.
    """
    figure = Figure(figsize=(PAGE_WIDTH_IN, 1.1 + 0.5 * len(table1a)), layout="constrained")
    panels = figure.subplots(1, 2, sharey=True)
    positions = np.arange(len(table1a))
    colors = _model_colors(table1a.model)
    for axes, metric, name in zip(panels, ("f1", "accuracy"), ("F1", "Accuracy")):
        for y, row in zip(positions, table1a.to_dict("records")):
            value, lower, upper = row[metric], row[f"{metric}_lo"], row[f"{metric}_hi"]
            color = colors[row["model"]]
            # The interval is drawn around its own middle: a percentile interval need not contain the estimate.
            bar = axes.errorbar((lower + upper) / 2, y, xerr=(upper - lower) / 2, fmt="none", ecolor=color,
                                elinewidth=1.4, capsize=3)
            for artist in (*bar.lines[1], *bar.lines[2]):
                artist.set_clip_on(False)  # a cap at 0 or 1 would otherwise be cut in half
            axes.plot(value, y, MARKERS.get(row["model"], "o"), color=color, markersize=6, clip_on=False)
        axes.set_xlim(0, 1)
        axes.set_xlabel(name)
        axes.grid(axis="x", color="0.9")
        axes.set_axisbelow(True)
        method = "BCa bootstrap" if metric == "f1" else "Clopper–Pearson exact"
        axes.set_title(f"{name} with its {_confidence(table1a)}{method} interval", fontsize=9)
        values = axes.secondary_yaxis("right")
        values.set_yticks(positions, labels=[
            with_interval(*row) for row in table1a[[metric, f"{metric}_lo", f"{metric}_hi"]].itertuples(index=False)
        ])
        values.tick_params(length=0, labelsize=7.5)
    panels[0].set_yticks(positions, labels=[
        f"{row.model}\nscored {row.n} · Undefined {row.n_undefined} · invalid {row.n_invalid}" for row in table1a.itertuples()
    ])
    panels[0].tick_params(axis="y", labelsize=7.5)
    panels[0].set_ylim(len(table1a) - 0.5, -0.5)  # first model on top, as in the table
    figure.suptitle("Table 1A, on the reports whose truth is Yes or No: Yes is positive; Undefined and invalid "
                    "answers count as negative", fontsize=9)
    return figure


def location_heatmap(table1b: pd.DataFrame) -> Figure:
    """F1 per location (rows, with their support) and model (columns), with its interval, for one design of
    Table 1B (``table1b`` holds the rows of that design).

    A cell without an F1 (no report has the site and none names it) is grey
    and says "n/a".
    """
    locations = list(dict.fromkeys(table1b.location))
    models = list(dict.fromkeys(table1b.model))

    def wide(column: str) -> np.ndarray:
        return table1b.pivot(index="location", columns="model", values=column).loc[locations, models].to_numpy(dtype=float)

    f1, lower, upper = wide("f1"), wide("f1_lo"), wide("f1_hi")
    texts = [[
        "n/a" if np.isnan(f1[r, c]) else f"{f1[r, c]:.2f}" + (
            f"\n{lower[r, c]:.2f}–{upper[r, c]:.2f}" if np.isfinite(lower[r, c]) and np.isfinite(upper[r, c]) else "")
        for c in range(len(models))
    ] for r in range(len(locations))]
    support = table1b.drop_duplicates("location").set_index("location").support.loc[locations]
    figure = Figure(figsize=(PAGE_WIDTH_IN, 1.2 + 0.45 * len(locations)), layout="constrained")
    axes = figure.subplots()
    image = _annotated_grid(axes, f1, texts, [f"{location} (support {support[location]})" for location in locations],
                            models, 0, 1, fontsize=7.5)
    axes.xaxis.tick_top()
    axes.tick_params(labelsize=8)
    # Model tags are wider than a column: tilted, they do not run into each other.
    for label in axes.get_xticklabels():
        label.set(rotation=20, ha="left", rotation_mode="anchor")
    colorbar = figure.colorbar(image, ax=axes, shrink=0.8)
    colorbar.set_label("F1", fontsize=8)
    colorbar.ax.tick_params(labelsize=8)
    n = int(table1b.n.iloc[0]) if len(table1b) else 0
    design = table1b.design.iloc[0] if len(table1b) else ""
    figure.suptitle(f"Table 1B, {design}: F1 per site over the design's {n} reports (with its "
                    f"{_confidence(table1b)}interval)", fontsize=9)
    return figure


def _score_figure(labels: pd.DataFrame, truth: pd.DataFrame, diagonal: str):
    """A square plot of [0, 1]² with its diagonal, each model's ``p_yes`` (NaN: none) on the reports of ``truth``,
    whether their truth is Yes, and the models' colours."""
    scores = {model: pd.to_numeric(answers.p_yes, errors="coerce").to_numpy(dtype=float)
              for model, answers in paired_labels(labels, truth).items()}
    figure = Figure(figsize=(5.2, 4.8), layout="constrained")
    axes = figure.subplots()
    axes.plot([0, 1], [0, 1], linestyle="--", color="0.6", linewidth=1, label=diagonal)
    axes.set_xlim(0, 1)
    axes.set_aspect("equal")
    return figure, axes, scores, is_positive(truth.extravasation), _model_colors(list(scores))


def roc_curves(labels: pd.DataFrame, truth: pd.DataFrame) -> Figure:
    """ROC of ``p_yes`` against truth == Yes per model, over the reports that have a ``p_yes``.

    The legend gives each model's AUC and how many reports it is computed on;
    a model whose scored reports hold one class, or that gives no score at
    all (the rule-based baseline), has no curve ("AUC n/a").
    """
    figure, axes, by_model, actual, colors = _score_figure(labels, truth, "chance")
    for model, scores in by_model.items():
        scored = ~np.isnan(scores)
        auc = roc_auc(scores, actual)
        label = f"{model}: AUC {'n/a' if np.isnan(auc) else f'{auc:.3f}'} ({scored.sum()} of {len(scores)} scored)"
        if np.isnan(auc):
            false_positive_rate = true_positive_rate = []
        else:
            false_positive_rate, true_positive_rate, _ = roc_curve(actual[scored], scores[scored])
        axes.plot(false_positive_rate, true_positive_rate, color=colors[model], label=label,
                  linewidth=2 if model == ENSEMBLE else 1.4)
    axes.set_ylim(0, 1.01)
    axes.set_xlabel("false positive rate (1 − specificity)")
    axes.set_ylabel("true positive rate (recall)")
    axes.set_title("ROC of p(Yes) against truth = Yes", fontsize=9)
    axes.legend(loc="lower right", fontsize=7, frameon=True)
    return figure


def reliability_diagram(labels: pd.DataFrame, truth: pd.DataFrame, bins: int = 10) -> Figure:
    """Observed share of truth == Yes against mean ``p_yes``, in equal-width bins of ``p_yes``, per model.

    A calibrated model lies on the diagonal; below it, its ``p_yes`` is too
    high. Marker size follows how many reports fall in a bin (bins without a
    report are not drawn). Models without any score are listed as such.
    """
    figure, axes, by_model, actual, colors = _score_figure(labels, truth, "calibrated")
    edges = np.linspace(0, 1, bins + 1)
    for model, scores in by_model.items():
        scored = ~np.isnan(scores)
        if not scored.any():
            axes.plot([], [], color=colors[model], label=f"{model}: no p_yes")
            continue
        observed, predicted = calibration_curve(actual[scored], scores[scored], n_bins=bins, strategy="uniform")
        # Reports per bin, binned as calibration_curve bins them; it drops empty bins, and so does this.
        counts = np.bincount(np.searchsorted(edges[1:-1], scores[scored]), minlength=bins)
        counts = counts[counts > 0]
        axes.plot(predicted, observed, color=colors[model], linewidth=2 if model == ENSEMBLE else 1.2,
                  label=f"{model} ({scored.sum()} scored)")
        axes.scatter(predicted, observed, s=8 + 60 * counts / counts.max(), color=colors[model],
                     marker=MARKERS.get(model, "o"), zorder=3)
    axes.set_ylim(-0.01, 1.01)
    axes.set_xlabel("mean p(Yes) in the bin")
    axes.set_ylabel("share of reports whose truth is Yes")
    axes.set_title(f"Reliability of p(Yes), {len(truth)} reports, {bins} bins (marker size: reports in the bin)", fontsize=9)
    axes.legend(loc="upper left", fontsize=7, frameon=True)
    return figure


def review_budget_figure(budget: ReviewBudget, notes: dict[str, str]) -> Figure:
    """The chosen label set's errors left (left) and F1 (right) against the share of the test reports reviewed,
    in each order; random order with the range of its F1 over the seeded orders."""
    figure = Figure(figsize=(PAGE_WIDTH_IN, 3.4), layout="constrained")
    errors_axes, f1_axes = figure.subplots(1, 2, sharex=True)
    styles = {PRIORITY: ("#D55E00", "-"), WITHOUT_RULES: ("#0072B2", "-"), CURRENT: ("#009E73", "--"),
              RANDOM: ("0.4", ":")}
    for ordering, curve in budget.curves.groupby("ordering", sort=False):
        color, line = styles[ordering]
        label = f"{ordering}{'†' if ordering in notes else ''}"
        errors_axes.plot(curve.share, curve.errors_left, color=color, linestyle=line, label=label)
        f1_axes.plot(curve.share, curve.f1, color=color, linestyle=line, label=label)
        if ordering == RANDOM:
            f1_axes.fill_between(curve.share, curve.f1_lo, curve.f1_hi, color=color, alpha=0.15, linewidth=0)
    for axes in (errors_axes, f1_axes):
        for share in SHARES:
            axes.axvline(share, color="0.85", linewidth=0.8, zorder=0)
        axes.set_xlim(0, 0.5)
        axes.xaxis.set_major_formatter(PercentFormatter(1.0))
        axes.set_xlabel("share of the test reports reviewed")
        axes.tick_params(labelsize=8)
    errors_axes.set_ylim(0, budget.errors * 1.05 or 1)
    errors_axes.set_ylabel(f"errors of {budget.label_set} left")
    f1_axes.set_ylabel(f"F1 of {budget.label_set} after review")
    f1_axes.set_ylim(top=1.005)
    errors_axes.legend(fontsize=7, frameon=True)
    figure.suptitle(f"Reviewing {budget.reports} scored test reports in each order (a reviewed report takes its true "
                    f"label; lines at {', '.join(f'{s:.0%}' for s in SHARES)})"
                    + ("\n† a feature reads the rules, written reading the test split too" if notes else ""), fontsize=8)
    return figure


def every_figure(manifest: Manifest, labels: pd.DataFrame, truth: pd.DataFrame, table1a: pd.DataFrame,
                 table1b: pd.DataFrame, study_models: list[str]) -> dict[str, Figure]:
    """Every figure of a run, by the file stem it is saved under: Figure 1 and the views of Tables 1A and 1B
    (on the scored reports of ``truth``; the site heatmap on Table 1B's stage-2-alone design)."""
    scored = scored_truth(truth)
    return {
        "figure1_pipeline": pipeline_figure(manifest, labels, study_models),
        "confusion_matrices": confusion_matrices(labels, truth),
        "forest_f1": forest_plot(table1a),
        "locations_f1": location_heatmap(table1b[table1b.design == STAGE2_ALONE]),
        "roc_p_yes": roc_curves(labels, scored),
        "reliability_p_yes": reliability_diagram(labels, scored),
    }


def applied_priority(manifest: Manifest) -> dict | None:
    """The review priority model the run applied to its labels, as its manifest records it; None if none."""
    return manifest.stage2.review_priority if manifest.stage2 else None


def _review_budget(labels: pd.DataFrame, truth: pd.DataFrame, development: pd.DataFrame,
                   manifest: Manifest) -> ReviewBudget | None:
    """The budget curves of the priority the labels carry, on the test reports; None where the run applied no
    priority model (its manifest says which) or its labels lack the label set it reviews."""
    record = applied_priority(manifest)
    if record is None or labels.review_priority.isna().all():
        return None
    return review_budget(labels, truth, development, PriorityModel.model_validate(record),
                         Run.model_validate(manifest.run).bootstrap)


def _priority_notes(budget: ReviewBudget, manifest: Manifest) -> dict[str, str]:
    """† beside the priority where one of its features reads rules written on the test split too."""
    rules_note = label_set_notes(Run.model_validate(manifest.run)).get(BASELINE)
    if not (rules_note and budget.uses_rules):
        return {}
    return {PRIORITY: f"one of its features is whether the rules' answer differs ({rules_note})"}


@dataclass
class Drawn:
    """What the figures step drew, wrote and listed, for a notebook to show."""

    figures: dict[str, Figure]  # by the stem of their files
    sheet: pd.DataFrame  # the reviewer sheet
    written: list[Path]


def figures_step(files: RunFiles, figures_dir: Path, study_models: list[str], cache_path: Path,
                 features: pd.DataFrame | None = None, readme: bool = False) -> Drawn:
    """Every figure of the run (PNG and PDF in ``figures_dir``) from its labels, manifest and tables; the reviewer
    sheet beside its labels; and with ``readme`` the README's results section."""
    labels, manifest = read_labels(files.labels), Manifest.read(files.manifest)
    truth, development = read_truth(files.truth), read_truth(files.truth_dev)
    table1a, table1b = (pd.read_csv(Path(figures_dir) / f"{name}.csv") for name in ("table1a", "table1b"))
    drawn = every_figure(manifest, labels, truth, table1a, table1b, study_models)
    written = []
    if budget := _review_budget(labels, truth, development, manifest):
        notes = _priority_notes(budget, manifest)
        drawn["review_budget"] = review_budget_figure(budget, notes)
        written += write_review_budget(budget, figures_dir, notes)
    written += [path for stem, figure in drawn.items() for path in save(figure, figures_dir, stem)]
    record = applied_priority(manifest)
    reviewed = record["label_set"] if record and record["label_set"] in set(labels.model) else None
    sheet = reviewer_sheet(labels, pd.concat([truth, development], ignore_index=True), read_inputs(files.inputs),
                           cache_path, features, chosen=reviewed)
    written += write_reviewer_sheet(sheet, files.directory)
    if readme and update_readme(figures_dir, manifest):
        written.append(Path("README.md"))
    return Drawn(drawn, sheet, written)
