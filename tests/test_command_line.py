"""The commands a user meets without a model: `evaluate` on another labeler's file, `split` beside the committed
split. The labels scored here are written by the test from the demo truth (no model is asked): what is tested is
that the command reads such a file, derives what it can, and names what it cannot."""

import subprocess
import sys

import pandas as pd
import pytest

from analysis.config import DEMO_DIR, ROOT

TRUTH, SPLIT = DEMO_DIR / "ground_truth.csv", DEMO_DIR / "split.csv"


def analysis_command(*arguments) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", *arguments], cwd=ROOT, capture_output=True, text=True)


def another_labelers_file(path, flip_every: int = 7):
    """A labels file as another tool writes one (``report_id, model, extravasation, locations, p_yes, reason``):
    the truth with every ``flip_every``-th answer turned, so that the scores are known without a model."""
    truth = pd.read_csv(TRUTH, dtype=str, keep_default_na=False)
    answer = truth.extravasation.where(truth.index % flip_every != 0, truth.extravasation.map({"Yes": "No", "No": "Yes"}))
    answer = answer.fillna("Undefined")
    labels = pd.DataFrame({"report_id": truth.report_id, "model": "other-labeler", "extravasation": answer,
                           "locations": truth.locations.where(answer == "Yes", ""),
                           "p_yes": (answer == "Yes").astype(float), "reason": "copied from the truth"})
    labels.to_csv(path, index=False)
    return truth, labels


def test_evaluate_scores_another_labelers_file_and_derives_the_columns_it_lacks(tmp_path):
    truth, labels = another_labelers_file(tmp_path / "theirs.csv")
    done = analysis_command("evaluate", "--labels", str(tmp_path / "theirs.csv"), "--truth", str(TRUTH),
                            "--split", str(SPLIT), "--run", "embedded", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(tmp_path / "out" / "table1a.csv").set_index("model").loc["other-labeler"]

    test_ids = set(pd.read_csv(SPLIT).query("split == 'test'").report_id)
    scored = truth.assign(answer=labels.extravasation).query("report_id in @test_ids and extravasation != 'Undefined'")
    true_positive = ((scored.answer == "Yes") & (scored.extravasation == "Yes")).sum()
    assert table.n == len(scored)
    assert table.precision == pytest.approx(true_positive / (scored.answer == "Yes").sum(), abs=1e-3)
    assert table.recall == pytest.approx(true_positive / (scored.extravasation == "Yes").sum(), abs=1e-3)
    assert 0 < table.recall < 1  # the turned answers are found, not scored away


def test_evaluate_names_the_missing_column(tmp_path):
    another_labelers_file(tmp_path / "theirs.csv")
    pd.read_csv(tmp_path / "theirs.csv").drop(columns="extravasation").to_csv(tmp_path / "theirs.csv", index=False)
    done = analysis_command("evaluate", "--labels", str(tmp_path / "theirs.csv"), "--truth", str(TRUTH),
                            "--out", str(tmp_path / "out"))
    assert done.returncode != 0
    assert "missing ['extravasation']" in done.stderr and "Traceback" not in done.stderr


def test_split_keeps_the_committed_split_unless_forced(tmp_path):
    before = SPLIT.read_bytes()
    refused = analysis_command("split")
    assert refused.returncode != 0 and "--force" in refused.stderr
    assert SPLIT.read_bytes() == before

    copy = tmp_path / "split.csv"
    copy.write_bytes(before)
    replaced = analysis_command("split", "--out", str(copy), "--dev", "100", "--force")
    assert replaced.returncode == 0, replaced.stderr
    assert pd.read_csv(copy).split.value_counts().to_dict() == {"test": 290, "dev": 100}


def test_the_committed_split_is_130_development_and_260_test_reports():
    counts = pd.read_csv(SPLIT).split.value_counts().to_dict()
    assert counts == {"dev": 130, "test": 260}
