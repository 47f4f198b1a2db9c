"""Stage 1 end to end with the real embedded server and real models."""

import socket
import subprocess
import sys

import pandas as pd
import pytest

from analysis.data.vocabulary import COMBINATION, LOCATIONS, Status
from analysis.labeling.impression import extract_impression
from analysis.labeling.labels import COLUMNS, read_labels
from analysis.llm.client import connect, describe_models, free_loopback_port
from analysis.llm.backend import ModelMissing, ServerUnavailable
from tests.frames import run_labels

REPORTS = pd.DataFrame({
    "report_id": ["r1", "r2", "r3", "r4", "r5"],
    "report_text": [
        "FINDINGS: Splenic laceration.\nIMPRESSION:\n1. Grade IV splenic laceration with active contrast extravasation.\n2. Moderate hemoperitoneum.",
        "IMPRESSION: Grade II liver laceration. No active extravasation.",
        "CT ABDOMEN PELVIS\nFINDINGS: The liver, spleen and kidneys are normal.",  # no impression section
        "",  # empty report
        "Impression: Possible active extravasation in the left rectus sheath versus pseudoaneurysm.",
    ],
})
MODELS = ["qwen2.5-coder:1.5b", "qwen2.5-coder:0.5b", "smollm2:135m"]


def test_every_report_appears_once_per_model_and_reruns_come_from_the_cache(use_server, tmp_path, capsys):
    cache = tmp_path / "responses.sqlite"
    labels, _ = run_labels(REPORTS, tmp_path / "first", cache_path=cache)
    assert list(labels.columns) == COLUMNS
    for model in MODELS + ["ensemble", "rules", COMBINATION]:
        assert sorted(labels[labels.model == model].report_id) == sorted(REPORTS.report_id)
    assert set(labels.extravasation) <= {"Yes", "No", "Undefined"}
    skipped = labels[labels.report_id.isin(["r3", "r4"])]
    assert (skipped.extravasation == "Undefined").all()
    assert set(skipped.reasons.map(tuple)) == {("no impression section",), ("empty report",)}
    answered = labels[labels.report_id.isin(["r1", "r2", "r5"]) & labels.model.isin(MODELS)]
    assert answered.p_yes.between(0, 1).all()
    assert "3 from the cache" not in capsys.readouterr().out
    # Stage 2's evidence: every model asked about a gated report chose sentences of its own impression.
    gated = labels[labels.gated & labels.model.isin(MODELS)]
    assert len(gated) and (gated.evidence_status == Status.ANSWERED).all()
    for report_id, spans in zip(gated.report_id, gated.evidence):
        impression = extract_impression(REPORTS.set_index("report_id").report_text[report_id]).text
        assert all(impression[span["start"]:span["end"]] == span["text"] and 0 <= span["p"] <= 1 for span in spans)
    assert all(set(sites) <= set(LOCATIONS) for sites in gated.evidence_locations)

    again, _ = run_labels(REPORTS, tmp_path / "again", cache_path=cache)
    assert "qwen2.5-coder:1.5b / extravasation_zeroshot: 3 reports, 3 from the cache" in capsys.readouterr().out
    pd.testing.assert_frame_equal(again, labels)


def test_label_and_evaluate_from_the_command_line(use_server, tmp_path):
    reports = tmp_path / "reports.csv"
    REPORTS.to_csv(reports, index=False)
    truth = tmp_path / "truth.csv"
    pd.DataFrame({"report_id": REPORTS.report_id, "extravasation": ["Yes", "No", "No", "Undefined", "Undefined"],
                  "locations": ["spleen", "", "", "", ""]}).to_csv(truth, index=False)
    out = tmp_path / "labels"
    command = [sys.executable, "-m", "analysis", "label", "--reports", str(reports), "--out", str(out),
               "--models", "smollm2:135m", "--cache", str(tmp_path / "cache.sqlite")]
    subprocess.run(command, check=True)
    assert list(pd.read_csv(out / "labels.csv", nrows=0).columns) == COLUMNS
    assert len(read_labels(out / "labels.csv")) == 5

    subprocess.run([sys.executable, "-m", "analysis", "evaluate", "--labels", str(out / "labels.csv"),
                    "--truth", str(truth), "--out", str(tmp_path / "tables")], check=True)
    table = pd.read_csv(tmp_path / "tables" / "table1a.csv")
    assert list(table.columns[:5]) == ["model", "precision", "precision_lo", "precision_hi", "precision_method"]
    assert (table.n.tolist(), table.n_truth_undefined.tolist()) == ([3], [2])  # the two Undefined truths left out
    assert pd.read_csv(tmp_path / "tables" / "undefined_truth.csv").report_id.tolist() == ["r4", "r5"]
    assert (tmp_path / "tables" / "table1a.md").read_text().startswith("| model")


def test_a_missing_model_names_the_pull_command(use_server):
    with pytest.raises(ModelMissing, match=r"`ollama pull llama3.1:70b`"):
        describe_models(connect(), ["qwen2.5-coder:1.5b", "llama3.1:70b"])


def test_no_server_is_one_clear_line_and_a_nonzero_exit(tmp_path, monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(ServerUnavailable, match=r"No LLM server answers at http://127.0.0.1:9 .*`make serve`"):
        connect()
    reports = tmp_path / "reports.csv"
    REPORTS.to_csv(reports, index=False)
    result = subprocess.run([sys.executable, "-m", "analysis", "label", "--reports", str(reports), "--out", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and result.stderr.startswith("error: No LLM server answers")


@pytest.mark.llm  # starts its own server
def test_with_server_starts_the_embedded_server_for_a_command_and_stops_it(tmp_path, monkeypatch):
    port = free_loopback_port()
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{port}")
    probe = f"import httpx; print(httpx.get('http://127.0.0.1:{port}/api/tags').json()['models'][0]['name'])"
    result = subprocess.run([sys.executable, "-m", "analysis", "with-server", "--", sys.executable, "-c", probe],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "qwen2.5-coder:1.5b"
    assert "starting the embedded server" in result.stderr
    with socket.socket() as after:
        assert after.connect_ex(("127.0.0.1", port)) != 0  # stopped again
