"""The notebooks run under papermill, as `make paper` runs them, on a small sample."""

import os
import sys

import jupytext
import pandas as pd
import papermill

from analysis.config import NOTEBOOKS_DIR


def test_stage1_notebook_labels_a_sample_and_writes_table1a(use_server, tmp_path, monkeypatch):
    monkeypatch.setenv("EXTRAVASATION_RESPONSE_CACHE", str(tmp_path / "responses.sqlite"))
    # The python3 kernel spec runs `python` from PATH: make it this environment's.
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    notebook = jupytext.read(NOTEBOOKS_DIR / "01_label_and_evaluate.py")
    papermill.execute_notebook(
        notebook,
        tmp_path / "executed.ipynb",
        parameters={"limit": 4, "labels_dir": str(tmp_path / "labels"), "figures_dir": str(tmp_path / "figures")},
        kernel_name="python3",
        progress_bar=False,
    )
    labels = pd.read_csv(tmp_path / "labels" / "labels.csv", dtype=str, keep_default_na=False)
    assert labels.groupby("model").size().tolist() == [4, 4, 4, 4]
    table = pd.read_csv(tmp_path / "figures" / "table1a.csv")
    assert table.model.tolist() == ["qwen2.5-coder:1.5b", "qwen2.5-coder:0.5b", "smollm2:135m", "ensemble"]
    assert (table.n == 4).all()
