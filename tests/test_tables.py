"""The table writers and the published values, on labels built by hand (no model involved)."""

import numpy as np
import pandas as pd
import pytest

from analysis.data.vocabulary import LOCATIONS
from analysis.evaluation.comparisons import agreement_table, mcnemar_table, paired_differences
from analysis.evaluation.metrics import TABLE1A_COLUMNS, TABLE1B_COLUMNS, table1a, table1b
from analysis.reporting.tables import (
    PUBLISHED,
    THIS_RUN,
    load_published,
    with_interval,
    write_comparisons,
    write_statistics,
    write_table1a,
    write_table1b,
)
from tests.frames import labels_frame

RESAMPLES = 200  # enough to exercise the intervals; the machine is shared
MODELS = ["qwen2.5-coder:1.5b", "small_model", "ensemble"]  # "_" must survive LaTeX


@pytest.fixture(scope="module")
def example():
    """Labels of three models on eight reports, five of them truly Yes."""
    truth = pd.DataFrame({
        "report_id": [f"r{i}" for i in range(8)],
        "extravasation": ["Yes"] * 5 + ["No", "No", "Undefined"],
        "locations": ["bowel", "liver", "bowel;spleen", "kidney", "other", "", "", ""],
    })
    answers = {
        MODELS[0]: (["Yes", "Yes", "Yes", "No", "Yes", "No", "Yes", "No"], ["bowel", "liver", "bowel", "", "other", "", "liver", ""]),
        MODELS[1]: (["Yes", "No", "Yes", "Yes", "Undefined", "No", "No", "Yes"], ["bowel", "", "spleen", "kidney", "", "", "", "bowel"]),
        MODELS[2]: (["Yes", "Yes", "Yes", "Yes", "Yes", "No", "No", "No"], ["bowel", "", "bowel", "", "", "", "", ""]),
    }
    rows = [
        (report_id, model, answer, sites, str(0.9 if answer == "Yes" else 0.2), "")
        for model, (model_answers, model_sites) in answers.items()
        for report_id, answer, sites in zip(truth.report_id, model_answers, model_sites)
    ]
    labels = labels_frame(rows)
    return labels, truth


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


def test_table1a_files(example, tmp_path):
    table = table1a(*example, resamples=RESAMPLES)
    paths = write_table1a(table, tmp_path)
    assert [p.name for p in paths] == ["table1a.csv", "table1a.md", "table1a.tex"]
    written = pd.read_csv(paths[0], dtype={"model": str})
    assert list(written.columns) == TABLE1A_COLUMNS
    assert written.f1.tolist() == table.f1.tolist()  # full precision
    assert markdown_header(paths[1]) == [
        "model", "precision", "recall", "f1", "accuracy", "auc", "n", "n_undefined", "n_invalid", "n_scored",
    ]
    markdown = paths[1].read_text()
    first = table.iloc[0]
    assert f"{first.f1:.3f} ({first.f1_lo:.3f}–{first.f1_hi:.3f})" in markdown
    assert f"95% percentile bootstrap over reports, paired across models ({RESAMPLES} resamples" in markdown
    latex = paths[2].read_text()
    assert "\\toprule" in latex and "\\bottomrule" in latex and "small\\_model" in latex
    assert f"{first.f1:.3f} ({first.f1_lo:.3f}--{first.f1_hi:.3f})" in latex


def test_table1b_files(example, tmp_path):
    table = table1b(*example, resamples=RESAMPLES)
    paths = write_table1b(table, tmp_path)
    assert [p.name for p in paths] == ["table1b.csv", "table1b.md", "table1b.tex"]
    assert list(pd.read_csv(paths[0]).columns) == TABLE1B_COLUMNS
    assert markdown_header(paths[1]) == ["location", "support", *MODELS]
    rows = [line.split("|")[1].strip() for line in paths[1].read_text().splitlines()[2:2 + len(LOCATIONS)]]
    assert rows == list(LOCATIONS)
    assert "over the 5 reports whose ground truth is Yes" in paths[1].read_text()
    assert "gluteal/thigh" in paths[2].read_text()


def test_comparisons_put_published_values_beside_this_runs_without_matching_models(example, tmp_path):
    first, second = table1a(*example, resamples=RESAMPLES), table1b(*example, resamples=RESAMPLES)
    published = load_published()
    paths = write_comparisons(first, second, tmp_path, published)
    assert [p.name for p in paths] == [
        "table1a_vs_published.csv", "table1a_vs_published.md", "table1b_vs_published.csv", "table1b_vs_published.md",
    ]

    side_by_side = pd.read_csv(paths[0])
    assert side_by_side.source.tolist() == [THIS_RUN] * 3 + [PUBLISHED] * 4
    assert side_by_side.model.tolist() == MODELS + published["models"]
    theirs = side_by_side[side_by_side.source == PUBLISHED].set_index("model")
    assert theirs.loc["Mistral-7B", "accuracy"] == published["table1a"]["Mistral-7B"]["accuracy"]
    assert theirs.f1_lo.isna().all()
    assert side_by_side[side_by_side.source == THIS_RUN].f1.tolist() == first.f1.tolist()
    assert "published (other data, other models)" in paths[1].read_text()
    assert "123 positives among 300" in paths[1].read_text()

    by_location = pd.read_csv(paths[2])
    assert by_location.location.tolist() == list(LOCATIONS)
    assert list(by_location.columns) == [
        "location", f"{THIS_RUN}: support", *(f"{THIS_RUN}: {m}" for m in MODELS), *(f"{PUBLISHED}: {m}" for m in published["models"]),
    ]
    other = by_location.set_index("location").loc["other"]
    assert other.filter(like=PUBLISHED).isna().all()
    assert by_location.set_index("location").loc["spleen", f"{PUBLISHED}: Llama-3.1-70B"] == 1.0


def test_statistics_files(example, tmp_path):
    labels, truth = example
    paths = write_statistics(
        paired_differences(labels, truth, resamples=RESAMPLES), mcnemar_table(labels, truth), agreement_table(labels), tmp_path,
    )
    assert [p.name for p in paths] == ["paired_differences.csv", "mcnemar.csv", "agreement.csv", "statistics.md"]
    assert list(pd.read_csv(paths[0]).columns) == [
        "model_a", "model_b", "metric", "value_a", "value_b", "difference", "difference_lo", "difference_hi",
    ]
    assert list(pd.read_csv(paths[1]).columns) == [
        "model_a", "model_b", "both_correct", "only_a_correct", "only_b_correct", "both_wrong", "statistic", "p_value",
    ]
    assert pd.read_csv(paths[2]).models.tolist() == ["qwen2.5-coder:1.5b; small_model"]  # not the ensemble
    markdown = paths[3].read_text()
    assert markdown.count("## ") == 3 and "Fleiss" in markdown and "McNemar" in markdown
