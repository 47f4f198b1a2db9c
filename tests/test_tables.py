"""The table writers and the published values, on labels built by hand (no model involved)."""

import numpy as np
import pandas as pd
import pytest

from analysis.data.vocabulary import LOCATIONS
from analysis.evaluation.evaluate import evaluate_stage1
from analysis.evaluation.metrics import table1b
from analysis.reporting.tables import (
    PUBLISHED,
    THIS_RUN,
    load_published,
    with_interval,
    write_comparisons,
    write_stage1,
    write_table1b,
)
from analysis.specs import Bootstrap, load_run
from tests.frames import labels_frame, truth_frame

FAST = Bootstrap(resamples=200)  # enough to exercise the intervals; the machine is shared
RUN = load_run("embedded").model_copy(update={"bootstrap": FAST})
MODELS = ["qwen2.5-coder:1.5b", "small_model", "ensemble", "rules"]  # "_" must survive LaTeX
NOTE = "rules written while reading the whole demo corpus, test split included: training-set performance"


@pytest.fixture(scope="module")
def example():
    """Labels of three models and the rules on nine reports: five truly Yes, three No, one Undefined."""
    truth = truth_frame({
        "report_id": [f"r{i}" for i in range(9)],
        "extravasation": ["Yes"] * 5 + ["No", "No", "Undefined", "No"],
        "locations": ["bowel", "liver", "bowel;spleen", "kidney", "other", "", "", "", ""],
    })
    answers = {
        MODELS[0]: (["Yes", "Yes", "Yes", "No", "Yes", "No", "Yes", "No", "No"], ["bowel", "liver", "bowel", "", "other", "", "liver", "", ""]),
        MODELS[1]: (["Yes", "No", "Yes", "Yes", "Undefined", "No", "No", "Yes", "No"], ["bowel", "", "spleen", "kidney", "", "", "", "bowel", ""]),
        MODELS[2]: (["Yes", "Yes", "Yes", "Yes", "Yes", "No", "No", "No", "No"], ["bowel", "", "bowel", "", "", "", "", "", ""]),
        MODELS[3]: (["Yes", "Yes", "Yes", "Yes", "Yes", "No", "No", "No", "No"], ["bowel", "liver", "bowel;spleen", "kidney", "other", "", "", "", ""]),
    }
    rows = [
        (report_id, model, answer, sites, None if model == "rules" else str(0.9 if answer == "Yes" else 0.2), "")
        for model, (model_answers, model_sites) in answers.items()
        for report_id, answer, sites in zip(truth.report_id, model_answers, model_sites)
    ]
    return labels_frame(rows, gate=MODELS[0]), truth


def markdown_header(path):
    return [cell.strip() for cell in path.read_text().splitlines()[0].strip("|").split("|")]


def test_values_are_shown_with_three_decimals_and_their_interval():
    assert with_interval(0.9123, 0.8741, 0.9449) == "0.912 (0.874–0.945)"
    assert with_interval(0.9123, 0.8741, 0.9449, dash="--") == "0.912 (0.874--0.945)"
    assert with_interval(0.976, np.nan, np.nan) == "0.976"
    assert with_interval(np.nan, np.nan, np.nan) == "n/a"


def test_published_values_cover_the_papers_models_and_locations():
    published = load_published()
    assert published["models"] == ["Llama-3.1-70B", "Qwen2.5-72B", "Mistral-7B", "Ensemble"]
    assert set(published["table1a"]) == set(published["models"])
    assert set(published["table1b"]) == set(LOCATIONS) - {"other"}  # the paper gives no "other" row
    assert all(set(scores) == set(published["models"]) for scores in published["table1b"].values())
    assert published["table1a"]["Llama-3.1-70B"] == {"precision": 0.976, "recall": 1.0, "f1": 0.988, "accuracy": 0.99}


def test_stage1_files_state_the_scored_set_the_rule_and_the_intervals(example, tmp_path):
    labels, truth = example
    evaluation = evaluate_stage1(labels, truth, truth.iloc[0:0], RUN)
    names = [p.name for p in write_stage1(evaluation, tmp_path)]
    assert names[:3] == ["table1a.csv", "table1a.md", "table1a.tex"]
    for name in ("table1a_sensitivity.md", "statistics.md", "cohen_kappa.csv", "confusion.md", "calibration.md",
                 "by_category.md", "thresholds.md"):
        assert name in names
    written = pd.read_csv(tmp_path / "table1a.csv", dtype={"model": str})
    assert {"specificity", "npv", "prevalence", "f1_method", "n_truth_undefined", "note"} <= set(written.columns)
    assert written.f1.tolist() == evaluation.table1a.f1.tolist()  # full precision
    assert markdown_header(tmp_path / "table1a.md") == [
        "model", "precision", "recall", "specificity", "f1", "accuracy", "auc", "n", "Undefined answers", "invalid"]
    markdown = (tmp_path / "table1a.md").read_text()
    assert "Scored: the reports whose ground truth is Yes or No; those whose truth is Undefined are left out" in markdown
    assert "8 reports scored, 5 of them Yes" in markdown and "1 with an Undefined truth left out" in markdown
    assert "Clopper–Pearson exact for precision, recall, specificity, NPV, accuracy and prevalence" in markdown
    assert "BCa bootstrap for F1 and AUC" in markdown and "200 resamples" in markdown
    assert "| rules† " in markdown and f"† rules: {NOTE}." in markdown
    first = evaluation.table1a.iloc[0]
    assert with_interval(first.f1, first.f1_lo, first.f1_hi, method=first.f1_method) in markdown
    latex = (tmp_path / "table1a.tex").read_text()
    assert "\\toprule" in latex and "small\\_model" in latex
    sensitivity = (tmp_path / "table1a_sensitivity.md").read_text()
    assert "counts as a negative (sensitivity analysis)" in sensitivity and "9 reports scored" in sensitivity
    statistics = (tmp_path / "statistics.md").read_text()
    assert statistics.count("## ") == 4 and "p_holm" in statistics and "the ensemble is a vote of" in statistics
    assert pd.read_csv(tmp_path / "agreement.csv").models.tolist() == ["qwen2.5-coder:1.5b; small_model"]
    assert "No development split: no threshold was chosen." in (tmp_path / "thresholds.md").read_text()


def test_a_missing_value_reads_n_a_and_marked_intervals_say_how_they_were_made():
    assert with_interval(0.5, 0.2, 0.8, method="percentile") == "0.500 (0.200–0.800)ᵖ"
    assert with_interval(1.0, 0.9, 1.0, method="bound") == "1.000 (0.900–1.000)ᵇ"
    assert with_interval(np.nan, np.nan, np.nan, method="bound") == "n/a"


def test_table1b_files_show_both_designs_with_the_gates_counts(example, tmp_path):
    table = table1b(*example, gate=MODELS[0], cut=RUN.localization.cut, bootstrap=FAST)
    paths = write_table1b(table, tmp_path, {"rules": NOTE})
    assert [p.name for p in paths] == ["table1b.csv", "table1b.md", "table1b.tex"]
    assert set(pd.read_csv(paths[0]).design) == {"stage 2 alone", "end to end", "rules, ungated"}
    markdown = paths[1].read_text()
    assert markdown.count("### ") == 3
    counts = table.attrs["gate_counts"]
    assert counts == {"scored": 8, "gated": 5, "hits": 4, "over_calls": 1, "misses": 1}
    assert "the 4 scored reports that the gate model qwen2.5-coder:1.5b called Yes and whose truth is Yes" in markdown
    assert "every one of the 8 scored reports" in markdown and "the 1 true Yes reports" in markdown
    assert "gluteal/thigh" in paths[2].read_text()


def test_comparisons_put_published_values_beside_this_runs_without_matching_models(example, tmp_path):
    labels, truth = example
    first = evaluate_stage1(labels, truth, truth.iloc[0:0], RUN).table1a
    second = table1b(labels, truth, gate=MODELS[0], cut=RUN.localization.cut, bootstrap=FAST)
    published = load_published()
    paths = write_comparisons(first, second, tmp_path, published)
    assert [p.name for p in paths] == [
        "table1a_vs_published.csv", "table1a_vs_published.md", "table1b_vs_published.csv", "table1b_vs_published.md",
    ]
    side_by_side = pd.read_csv(paths[0])
    assert side_by_side.source.tolist() == [THIS_RUN] * 4 + [PUBLISHED] * 4
    assert side_by_side.model.tolist() == MODELS + published["models"]
    theirs = side_by_side[side_by_side.source == PUBLISHED].set_index("model")
    assert (theirs.n == 294).all() and theirs.f1_lo.isna().all()
    assert "published (other data, other models)" in paths[1].read_text()
    assert "when 293 to\n" not in paths[1].read_text() and "296 reports were scored" in paths[1].read_text()
    by_location = pd.read_csv(paths[2])
    assert by_location.location.tolist() == list(LOCATIONS)
    assert by_location.set_index("location").loc["spleen", f"{PUBLISHED}: Llama-3.1-70B"] == 1.0
    assert "stage 2 alone, the study's design" in paths[3].read_text()
