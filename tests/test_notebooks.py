"""The numbered notebooks run under papermill in order, as `make paper` runs them, on a small sample."""

import json
import os
import sqlite3
import sys

import jupytext
import pandas as pd
import papermill
import pytest

from analysis.config import DEMO_DIR, FIGURES_DIR, NOTEBOOKS_DIR, PROCESSED_DIR
from analysis.labeling.labels import read_labels
from analysis.labeling.manifest import Manifest
from analysis.llm.cache import ResponseCache
from tests.conftest import SMALL_MODEL

# Six demo reports, two of them without an impression (truncated; empty impression section);
# DEMO-0084 is in the development split, the others in the test split.
SAMPLE = ["DEMO-0001", "DEMO-0002", "DEMO-0003", "DEMO-0031", "DEMO-0061", "DEMO-0084"]
DEVELOPMENT = ["DEMO-0084"]
WITHOUT_IMPRESSION = {"DEMO-0031": "no impression section", "DEMO-0061": "impression section is empty"}


@pytest.fixture
def run_notebook(use_server, tmp_path, monkeypatch):
    monkeypatch.setenv("EXTRAVASATION_RESPONSE_CACHE", str(tmp_path / "responses.sqlite"))
    # The python3 kernel spec runs `python` from PATH: make it this environment's.
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])

    def run(name, **parameters):
        return execute(name, tmp_path / f"{name}.ipynb", processed_dir=str(tmp_path / "processed"), **parameters)
    return run


def execute(name, output, **parameters):
    """The notebook, executed with papermill as `make` runs it; returns the executed notebook."""
    return papermill.execute_notebook(jupytext.read(NOTEBOOKS_DIR / f"{name}.py"), output, parameters=parameters,
                                      kernel_name="python3", progress_bar=False)


def sample_files(tmp_path):
    reports = pd.read_csv(DEMO_DIR / "reports.csv", dtype=str, keep_default_na=False)
    truth = pd.read_csv(DEMO_DIR / "ground_truth.csv", dtype=str, keep_default_na=False)
    reports[reports.report_id.isin(SAMPLE)].to_csv(tmp_path / "reports.csv", index=False)
    truth[truth.report_id.isin(SAMPLE)].to_csv(tmp_path / "truth.csv", index=False)
    return str(tmp_path / "reports.csv"), str(tmp_path / "truth.csv")


def test_the_notebooks_run_in_order_and_each_writes_its_files(run_notebook, tmp_path):
    processed, figures = tmp_path / "processed", tmp_path / "figures"
    reports_file, truth_file = sample_files(tmp_path)
    run_notebook("01_data", reports_file=reports_file, truth_file=truth_file)
    inputs = pd.read_csv(processed / "inputs.csv")
    assert len(inputs) == len(SAMPLE)
    assert inputs[inputs.split == "dev"].report_id.tolist() == DEVELOPMENT
    assert pd.read_csv(processed / "truth_dev.csv").report_id.tolist() == DEVELOPMENT
    evaluated = len(SAMPLE) - len(DEVELOPMENT)
    run_notebook("02_stage1")
    stage1 = read_labels(processed / "stage1.csv")
    assert stage1.groupby("model").size().tolist() == [len(SAMPLE)] * 4
    skipped = stage1[stage1.report_id.isin(WITHOUT_IMPRESSION)]
    assert (skipped.extravasation == "Undefined").all()
    assert (skipped.report_id.map(WITHOUT_IMPRESSION).map(lambda reason: [reason]) == skipped.reasons).all()
    asked = ResponseCache(tmp_path / "responses.sqlite")
    assert len(asked) == 3 * (len(SAMPLE) - len(WITHOUT_IMPRESSION))  # nothing asked about the two
    run_notebook("03_ensemble")
    run_notebook("04_table1a", figures_dir=str(figures))
    table1a = pd.read_csv(figures / "table1a.csv")
    assert table1a.model.tolist() == [
        "qwen2.5-coder:1.5b", "qwen2.5-coder:0.5b", "smollm2:135m", "ensemble", "rules", "ensemble + ConText veto"]
    scored = evaluated - len(WITHOUT_IMPRESSION)  # their truth is Undefined: counted, listed, not scored
    assert (table1a.n == scored).all() and (table1a.n_truth_undefined == len(WITHOUT_IMPRESSION)).all()
    assert pd.read_csv(processed / "undefined_truth.csv").report_id.tolist() == sorted(WITHOUT_IMPRESSION)
    for name in ("table1a_sensitivity.md", "confusion.md", "calibration.md", "by_category.md", "by_category_dev.md", "cohen_kappa.csv"):
        assert (figures / name).exists(), name
    run_notebook("05_localization", figures_dir=str(figures))
    labels = read_labels(processed / "labels.csv")
    assert labels.groupby("model").size().tolist() == [len(SAMPLE)] * 6  # three models, ensemble, rules, combination
    manifest = Manifest.read(processed / "manifest.json")
    assert manifest.reports.split == {"test": evaluated, "dev": len(DEVELOPMENT)}
    assert manifest.reports.evaluated_on == "test"
    localization = manifest.run["localization"]
    assert {t.task for t in manifest.timing} == {
        "extravasation_zeroshot", localization["task"], localization["evidence"], localization["site_probes"],
        f"rules extravasation v{manifest.baseline['version']}"}
    table1b = pd.read_csv(figures / "table1b.csv")
    assert set(table1b.sites) == {"asked", "at per-site cuts", "from the evidence"}
    assert (figures / "stage2_designs.md").exists()
    assert set(table1b.location) >= {"bowel", "spleen", "liver", "kidney"}
    assert set(table1b.design) == {"stage 2 alone", "end to end", "rules, ungated"}
    assert "rules" in set(table1b.model) and "rules" in set(pd.read_csv(figures / "mcnemar.csv").model_b)
    run_notebook("06_figures", figures_dir=str(figures))
    assert (figures / "figure1_pipeline.png").stat().st_size > 10_000
    assert (processed / "reviewer_sheet.html").exists()
    assert (figures / "reliability_p_yes.png").stat().st_size > 10_000
    assert "cut (p_yes ≥)" in (figures / "thresholds.md").read_text()  # DEMO-0084 is the development split
    run_notebook("07_variants", figures_dir=str(figures), models=[SMALL_MODEL])
    variants = pd.read_csv(processed / "variants.csv", dtype=str, keep_default_na=False)
    assert variants.groupby("variant").size().to_dict() == {v: len(SAMPLE) for v in ("zeroshot", "guideline", "fewshot")}
    assert (variants.groupby("variant").report_id.apply(sorted) == [sorted(SAMPLE)] * 3).all()
    table = pd.read_csv(figures / "variants.csv")
    assert table.variant.tolist() == ["zeroshot", "guideline", "fewshot"] and (table.n == scored).all()
    assert (figures / "variants.md").read_text().startswith("| model")


def _files(*directories):
    return {path: path.stat().st_mtime_ns for directory in directories if directory.exists()
            for path in directory.rglob("*") if path.is_file()}


def test_the_prompt_lab_compares_an_edited_prompt_on_development_reports_in_its_own_folder(use_server, tmp_path, monkeypatch):
    cache = tmp_path / "responses.sqlite"
    monkeypatch.setenv("EXTRAVASATION_RESPONSE_CACHE", str(cache))
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    before = _files(FIGURES_DIR, PROCESSED_DIR)
    executed = execute("prompt_lab", tmp_path / "prompt_lab.ipynb", model=SMALL_MODEL, sample_size=4,
                       processed_dir=str(tmp_path / "lab"))
    assert _files(FIGURES_DIR, PROCESSED_DIR) == before  # no run's files, no table, no figure
    assert sorted(read_labels(tmp_path / "lab" / "variants" / name / "stage1.csv").report_id.nunique()
                  for name in ("default", "edited")) == [4, 4]
    with sqlite3.connect(cache) as db:
        asked = db.execute("SELECT task, report_id FROM responses").fetchall()
    split = pd.read_csv(DEMO_DIR / "split.csv").set_index("report_id").split
    assert sorted(task for task, _ in asked) == ["extravasation_zeroshot"] * 4 + ["prompt_lab"] * 4
    assert {split[report_id] for _, report_id in asked} == {"dev"}
    outputs = "".join(json.dumps(cell.get("outputs", [])) for cell in executed.cells)
    assert "difference_lo" in outputs and "labels changed" in outputs
