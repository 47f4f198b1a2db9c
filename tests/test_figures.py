"""The figures, on labels, ground truth, tables and a manifest built by hand (no model involved).

Ten reports, three made-up models and their majority vote; the expected
counts below were worked out by hand from the answers, not by the code under
test.
"""

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.container import ErrorbarContainer
from matplotlib.image import imread
from matplotlib.patches import FancyBboxPatch
from matplotlib.text import Text

from analysis.data.vocabulary import ENSEMBLE, LABELS, Status
from analysis.evaluation.metrics import STAGE2_ALONE, table1a, table1b
from analysis.labeling.ensemble import majority_vote, vote_sites
from analysis.labeling.manifest import Manifest, Reports, Stage2
from analysis.reporting import figures
from analysis.specs import Bootstrap
from tests.frames import labels_frame, truth_frame

FAST = Bootstrap(resamples=200)  # enough to exercise the intervals; the machine is shared
MODELS = ["big:1b", "small:0.5b", "tiny:135m"]
GATE = "big:1b"
STUDY_MODELS = ["llama3.1:70b", "qwen2.5:72b", "mistral:7b"]
STAGE1_FIRST_LINE = "Does this IMPRESSION report active extravasation on this examination?"
STAGE2_FIRST_LINE = "Where is the active extravasation? List every site."

TRUTH = truth_frame({
    "report_id": [f"r{i}" for i in range(10)],
    "extravasation": ["Yes"] * 5 + ["No", "No", "No", "Undefined", "No"],
    "locations": ["bowel", "liver", "bowel;spleen", "kidney", "other", "", "", "", "", ""],
})
# r9 has no impression: every model labels it Undefined without being asked (no p_yes).
ANSWERS = {
    "big:1b": ["Yes", "Yes", "Yes", "No", "Yes", "No", "Yes", "No", "Undefined", "Undefined"],
    "small:0.5b": ["Yes", "No", "Yes", "Yes", "Undefined", "Undefined", "No", "No", "Undefined", "Undefined"],
    "tiny:135m": ["Yes"] * 9 + ["Undefined"],
}
# Stage 2 went to the reports big:1b called Yes: r0, r1, r2, r4, r6.
SITES = {
    "big:1b": {"r0": "bowel", "r1": "liver", "r2": "bowel;spleen", "r4": "other", "r6": "liver"},
    "small:0.5b": {"r0": "bowel", "r1": "liver", "r2": "spleen"},
    "tiny:135m": {"r0": "bowel;liver", "r1": "kidney", "r2": "bowel", "r4": "other", "r6": "bowel"},
}
GATED = ["r0", "r1", "r2", "r4", "r6"]
ANSWER_COUNTS = {  # Yes, No, Undefined
    "big:1b": (5, 3, 2), "small:0.5b": (3, 3, 4), "tiny:135m": (9, 0, 1),
    ENSEMBLE: (6, 1, 3),  # r5 has no majority (No, Undefined, Yes)
}
ENSEMBLE_SITES = {"bowel": 2, "liver": 1, "spleen": 1, "kidney": 0, "abdominal wall": 0, "gluteal/thigh": 0,
                  "retroperitoneal": 0, "other": 1}  # r6 gets no site: liver once, bowel once


def p_yes(answer: str, report_id: str):
    if report_id == "r9":
        return None
    return {"Yes": 0.9, "No": 0.1, "Undefined": 0.5}[answer]


@pytest.fixture(scope="module")
def labels():
    rows = [
        (report_id, model, answer, SITES[model].get(report_id, ""), p_yes(answer, report_id),
         *(("no impression section", Status.NOT_SENT) if report_id == "r9" else ("", Status.ANSWERED)))
        for model, answers in ANSWERS.items() for report_id, answer in zip(TRUTH.report_id, answers)
    ]
    labels = labels_frame(rows, gate=GATE)
    ensemble = majority_vote(labels, MODELS)
    sites = vote_sites(labels, MODELS, GATED)
    ensemble["locations"] = [sites.get(report_id, []) for report_id in ensemble.report_id]
    ensemble["gated"] = ensemble.report_id.isin(GATED)
    return pd.concat([labels, ensemble], ignore_index=True)


def task(name: str, first_line: str, answers: list[str]) -> dict:
    template = f"{first_line}\nMore instructions.\n\nIMPRESSION:\n{{{{ impression }}}}"
    return {"name": name, "version": 3, "template": template, "answers": answers}


def make_manifest(labels: pd.DataFrame, tags: list[str] = MODELS, gate: str | None = GATE) -> Manifest:
    """The fields of the manifest that the pipeline figure reads, filled by hand."""
    counts = {
        model: dict(zip(LABELS, ANSWER_COUNTS[model])) for model in [*tags, ENSEMBLE] if model in set(labels.model)
    }
    reports = Reports(total=10, sent_to_models=9, not_sent={"no impression section": 1},
                      impression_found_by={"header 'IMPRESSION'": 9, "none": 1}, instruction_like_text_removed=0)
    return Manifest.model_construct(
        run={"name": "handmade", "description": "three made-up models", "task": "zeroshot",
             "localization": {"task": "location", "gate": GATE}, "models": [{"tag": tag} for tag in tags],
             "ensemble": "majority", "no_impression": "undefined"},
        reports=reports,
        models=[{"tag": tag, "digest": "sha256:00", "parameter_size": "1B", "quantization_level": "Q4_K_M"}
                for tag in tags],
        tasks=[task("zeroshot", STAGE1_FIRST_LINE, list(LABELS)), task("location", STAGE2_FIRST_LINE, ["bowel"])],
        counts=counts, baseline=None,
        stage2=Stage2(ran=True, gate=gate, sent=len(GATED)) if gate else Stage2(ran=False, skipped_because="no gate"),
    )


def strings(figure) -> list[str]:
    """Every text of a figure with its line breaks undone (wrapping is layout, not content)."""
    return [" ".join(text.get_text().replace("\u00a0", " ").split()) for text in figure.findobj(Text)
            if text.get_text().strip()]


def saved(figure, tmp_path, stem):
    paths = figures.save(figure, tmp_path, stem)
    assert [path.name for path in paths] == [f"{stem}.png", f"{stem}.pdf"]
    png, pdf = paths
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 5_000
    assert imread(png).shape[1] == round(figure.get_figwidth() * figures.PNG_DPI)  # dpi ≥ 150
    return paths


def test_pipeline_figure_shows_this_runs_counts(labels, tmp_path):
    figure = figures.pipeline_figure(make_manifest(labels), labels, STUDY_MODELS)
    saved(figure, tmp_path, "figure1")
    texts = strings(figure)
    joined = " | ".join(texts)
    assert "handmade run: three made-up models. Not the study's models (llama3.1:70b, qwen2.5:72b, mistral:7b)" in joined
    assert "Stage 1 prompt: task zeroshot v3" in joined
    assert "10 reports" in texts
    for line in ("impression header found: 9 of 10", "sent to the models: 9", "not sent, labeled Undefined: 1",
                 "no impression section: 1"):
        assert line in joined
    assert f"“{STAGE1_FIRST_LINE}”" in joined and "task zeroshot v3" in joined
    for model, (yes, no, undefined) in ANSWER_COUNTS.items():
        assert f"Yes {yes} · No {no} · Undefined {undefined}" in joined, model
    assert all(tag in texts for tag in MODELS)
    assert "no majority (→ Undefined): 1" in joined
    assert f"asked of every model for the 5 reports {GATE} called Yes" in joined and "Yes: 5" in texts
    assert " · ".join(f"{site} {count}" for site, count in ENSEMBLE_SITES.items()) in joined
    assert "reports with no site by majority: 1" in joined


def overlapping(a, b, tolerance=0.5) -> bool:
    return (a.x0 + tolerance < b.x1 and b.x0 + tolerance < a.x1 and a.y0 + tolerance < b.y1 and b.y0 + tolerance < a.y1)


def inside(a, b, tolerance=0.5) -> bool:
    return a.x0 >= b.x0 - tolerance and a.x1 <= b.x1 + tolerance and a.y0 >= b.y0 - tolerance and a.y1 <= b.y1 + tolerance


@pytest.mark.parametrize("layout", ["three models", "gate on the right", "one model", "stage 1 only"])
def test_pipeline_figure_texts_neither_overlap_nor_spill_out_of_their_boxes(labels, layout):
    tags = {"gate on the right": ["small:0.5b", "tiny:135m", GATE], "one model": [GATE]}.get(layout, MODELS)
    own = labels[labels.model.isin([*tags, ENSEMBLE] if len(tags) > 1 else tags)]
    figure = figures.pipeline_figure(make_manifest(own, tags, gate=None if layout == "stage 1 only" else GATE), own, STUDY_MODELS)
    renderer = FigureCanvasAgg(figure).get_renderer()
    texts = [text.get_window_extent(renderer) for text in figure.texts if text.get_text().strip()]
    boxes = [patch.get_window_extent(renderer) for patch in figure.findobj(FancyBboxPatch)]
    page = figure.bbox
    assert all(inside(text, page) for text in texts)
    for a, b in itertools.combinations(texts, 2):
        assert not overlapping(a, b), (a, b)
    for text, box in itertools.product(texts, boxes):
        assert inside(text, box) or not overlapping(text, box), (text, box)
    for a, b in itertools.combinations(boxes, 2):
        assert not overlapping(a, b), (a, b)
    assert ("Stage 2" in " ".join(strings(figure))) == (layout != "stage 1 only")
    assert ("Majority-vote ensemble" in strings(figure)) == (layout != "one model")


def cell_annotations(axes) -> np.ndarray:
    """The numbers written in a 3 × 3 grid, placed by the cell each text sits in."""
    grid = np.full((3, 3), -1)
    for text in axes.texts:
        column, row = (round(v) for v in text.get_position())
        grid[row, column] = int(text.get_text())
    return grid


def test_confusion_matrices_count_truth_against_answer(labels, tmp_path):
    figure = figures.confusion_matrices(labels, TRUTH)
    saved(figure, tmp_path, "confusion")
    panels = {axes.get_title(): axes for axes in figure.axes if axes.get_visible()}
    assert list(panels) == [*MODELS, ENSEMBLE]
    # Rows truth Yes/No/Undefined, columns answer Yes/No/Undefined.
    assert cell_annotations(panels["big:1b"]).tolist() == [[4, 1, 0], [1, 2, 1], [0, 0, 1]]
    assert cell_annotations(panels[ENSEMBLE]).tolist() == [[5, 0, 0], [1, 1, 2], [0, 0, 1]]
    assert all(cell_annotations(axes).sum() == len(TRUTH) for axes in panels.values())


@pytest.fixture(scope="module")
def tables(labels):
    stage2_alone = table1b(labels, TRUTH, gate=GATE, cut=0.5, bootstrap=FAST)
    return table1a(labels, TRUTH, FAST), stage2_alone[stage2_alone.design == STAGE2_ALONE]


def test_forest_plot_draws_each_models_interval(tables, tmp_path):
    table = tables[0]
    figure = figures.forest_plot(table)
    saved(figure, tmp_path, "forest")
    f1_panel, accuracy_panel = figure.axes[:2]
    for axes, metric in ((f1_panel, "f1"), (accuracy_panel, "accuracy")):
        bars = [container for container in axes.containers if isinstance(container, ErrorbarContainer)]
        assert len(bars) == len(table)
        assert axes.get_xlim() == (0, 1)
        for bar, row in zip(bars, table.itertuples()):
            (start, _), (end, _) = bar.lines[2][0].get_segments()[0]
            assert (start, end) == pytest.approx((getattr(row, f"{metric}_lo"), getattr(row, f"{metric}_hi")))
    labels_shown = [label.get_text() for label in f1_panel.get_yticklabels()]
    assert labels_shown[0].startswith("big:1b\nscored 9 · Undefined 1 · invalid 0")  # r8's truth is Undefined
    assert labels_shown[-1].startswith(ENSEMBLE)


def test_location_heatmap_shows_f1_support_and_a_missing_value(tables, tmp_path):
    table = tables[1].copy()
    missing = (table.location == "liver") & (table.model == "small:0.5b")
    table.loc[missing, ["f1", "f1_lo", "f1_hi"]] = np.nan
    figure = figures.location_heatmap(table)
    saved(figure, tmp_path, "locations")
    axes = figure.axes[0]
    rows = [label.get_text() for label in axes.get_yticklabels()]
    assert rows[:3] == ["bowel (support 2)", "liver (support 1)", "spleen (support 1)"]
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in axes.texts}
    assert cells[(1, MODELS.index("small:0.5b"))] == "n/a"
    bowel_big = table[(table.location == "bowel") & (table.model == "big:1b")].iloc[0]
    assert cells[(0, 0)].splitlines()[0] == f"{bowel_big.f1:.2f}"


def test_roc_curves_give_auc_and_scored_count(labels, tables, tmp_path):
    figure = figures.roc_curves(labels, TRUTH[TRUTH.extravasation != "Undefined"])  # Table 1A's scored reports
    saved(figure, tmp_path, "roc")
    legend = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    for row in tables[0].itertuples():
        assert f"{row.model}: AUC {row.auc:.3f} (8 of 9 scored)" in legend


def test_roc_curves_without_scores_say_so(labels):
    unscored = labels.assign(p_yes=labels.p_yes.where(labels.model != "tiny:135m", None))
    legend = [text.get_text() for text in figures.roc_curves(unscored, TRUTH).axes[0].get_legend().get_texts()]
    assert "tiny:135m: AUC n/a (0 of 10 scored)" in legend


def test_reliability_diagram_bins_p_yes_against_the_share_of_true_yes(labels, tmp_path):
    figure = figures.reliability_diagram(labels.assign(p_yes=labels.p_yes.where(labels.model != "tiny:135m", None)), TRUTH)
    saved(figure, tmp_path, "reliability")
    lines = {line.get_label(): line for line in figure.axes[0].get_lines()}
    # big:1b: p_yes 0.1 on r3 (truth Yes), r5, r7 (No); 0.5 on r8 (Undefined); 0.9 on r0, r1, r2, r4 (Yes) and r6 (No).
    big = lines["big:1b (9 scored)"]
    assert big.get_xdata() == pytest.approx([0.1, 0.5, 0.9]) and big.get_ydata() == pytest.approx([1 / 3, 0, 0.8])
    assert "tiny:135m: no p_yes" in lines


def test_figures_are_left_to_their_caller(labels, tables):
    figures.pipeline_figure(make_manifest(labels), labels, STUDY_MODELS)
    figures.forest_plot(tables[0])
    assert plt.get_fignums() == []  # pyplot would keep them alive until closed
