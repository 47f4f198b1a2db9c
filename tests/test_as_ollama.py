"""The paper's run against the embedded server behaving as Ollama does where the two differ
(analysis/serving/as_ollama.py): each way a real Ollama can make a run silently wrong ends as
the preflight says, with nothing wrong in the labels or in the response cache.

The paper's tags are served by the smallest embedded model (aliases), so the run file runs unchanged.
"""

import json
import re
import subprocess
import sys
import time

import httpx
import pandas as pd
import pytest
import yaml

from analysis.config import ROOT
from analysis.data.vocabulary import Status, site_score_column
from analysis.labeling.inputs import prompt_inputs
from analysis.llm import asking
from analysis.llm.asking import Asker, spare_tokens
from analysis.llm.cache import ResponseCache
from analysis.llm.client import connect, describe_models, free_loopback_port, start_embedded_server
from analysis.llm.backend import ModelNotLoaded, RequestRefused, ServerTooOld
from analysis.specs import load_run, load_task
from tests.conftest import SMALL_MODEL, stop_server
from tests.frames import run_labels

PAPER = load_run("paper")
LLAMA, QWEN, MISTRAL = PAPER.tags
ENDS_AT_ONCE, REMOVED_SOON = "ends-at-once:135m", "removed-soon:135m"
SYSTEM = "You are a careful radiology assistant. " * 150  # a Modelfile SYSTEM prompt of 5,850 bytes
REPORTS = pd.DataFrame({"report_id": ["a", "b", "c", "d"], "report_text": [
    "IMPRESSION: Grade IV splenic laceration with active contrast extravasation.",
    "IMPRESSION: Grade II liver laceration. No active extravasation.",
    "IMPRESSION: Active extravasation from a jejunal mesenteric branch.",
    "IMPRESSION: Renal laceration with perinephric hematoma, no active extravasation.",
]})
STAGE1 = load_task("extravasation_zeroshot")


def start(tmp_path_factory, name: str, **behaviour):
    """The embedded server behaving as ``behaviour`` says; its URL, and the process to stop."""
    path = tmp_path_factory.mktemp(name) / "behaviour.yaml"
    path.write_text(yaml.safe_dump(behaviour))
    url = f"http://127.0.0.1:{free_loopback_port()}"
    return url, start_embedded_server(url, as_ollama=path)


@pytest.fixture(scope="module")
def ollama(tmp_path_factory):
    """Ollama 0.13.0 serving the paper's tags, Mistral's template closing the reply's turn as Ollama's
    template/mistral-instruct.gotmpl does, manifest digests, cutting prompts unless told not to,
    Qwen with a long Modelfile SYSTEM prompt, Llama with 40 layers fitting on the GPU."""
    url, process = start(
        tmp_path_factory, "ollama", version="0.13.0",
        aliases={tag: SMALL_MODEL for tag in (*PAPER.tags, ENDS_AT_ONCE, REMOVED_SOON)},
        closed_turn=[MISTRAL], manifest_digests=True, truncate=True, system={QWEN: SYSTEM},
        gpu_layers={LLAMA: 40}, end_at_once=[ENDS_AT_ONCE], removed_after={REMOVED_SOON: 2},
    )
    try:
        yield url
    finally:
        stop_server(process)


def paper_run(**changes):
    """The paper's run file, its bootstrap aside, with options changed as given."""
    return PAPER.model_copy(update=changes)


def test_the_check_prints_its_table_and_asks_the_closed_turn_model_for_its_json(ollama, monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", ollama)
    result = subprocess.run([sys.executable, "-m", "analysis", "check", "--run", "paper"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.split() and line.split()[0] in PAPER.tags}
    assert f"Server {ollama}: ollama 0.13.0 (version 0.13.0)" in result.stdout
    assert rows[LLAMA].split()[1:4] == ["yes", "yes", "first_token"]
    assert rows[MISTRAL].split()[1:4] == ["yes", "no", "structured"] and "closes the reply's turn" in rows[MISTRAL]
    (header,) = [line for line in result.stdout.splitlines() if line.startswith("model ")]
    assert "fits" in header and " yes " in rows[LLAMA]


def test_a_model_whose_template_closes_the_turn_answers_in_json_and_the_manifest_says_so(ollama, tmp_path):
    cache_path = tmp_path / "cache.sqlite"
    labels, manifest = run_labels(REPORTS, tmp_path / "out", run=paper_run(), models=[LLAMA, MISTRAL], host=ollama, cache_path=cache_path)
    decided = {row["tag"]: row["decision"] for row in manifest.preflight["extravasation_zeroshot"]["models"]}
    assert decided == {LLAMA: "first_token", MISTRAL: "structured"}
    mistral = labels[labels.model == MISTRAL]
    assert set(mistral.status) == {Status.ANSWERED} and mistral.extravasation.isin(["Yes", "No", "Undefined"]).all()
    cache = ResponseCache(cache_path, read_only=True)
    sent = cache.request_of(mistral.response_key.iloc[0])
    assert sent["format"] == STAGE1.answer_schema and [m["role"] for m in sent["messages"]] == ["user"]
    assert cache.request_of(labels[labels.model == LLAMA].response_key.iloc[0])["messages"][-1]["role"] == "assistant"


def test_site_questions_to_a_closed_turn_model_name_the_site_in_the_question_and_keep_every_report(ollama, tmp_path):
    probes = load_task("location_probes")
    run = paper_run(localization=PAPER.localization.model_copy(update={"task": probes.name, "gate": LLAMA}))
    cache_path = tmp_path / "cache.sqlite"
    labels, manifest = run_labels(REPORTS, tmp_path / "out", run=run, models=[LLAMA, MISTRAL], host=ollama, cache_path=cache_path)
    decided = {row["tag"]: row["decision"] for row in manifest.preflight[probes.name]["models"]}
    assert decided == {LLAMA: "first_token", MISTRAL: "structured"}
    assert labels.groupby("model").size().to_dict() == {tag: len(REPORTS) for tag in set(labels.model)}
    gated = labels[(labels.model == MISTRAL) & (labels.locations_status != Status.NOT_ASKED)]
    assert len(gated) == manifest.stage2.sent > 0
    cache = ResponseCache(cache_path, read_only=True)
    keys = gated.locations_keys.iloc[0]
    sent = [cache.request_of(key) for key in keys]
    # The closed turn cannot be continued: each site is asked in the user message, and answered in JSON.
    assert [request["messages"][-1]["content"].split("\n\n")[-1] for request in sent] == [
        probes.probe_question.replace("{{ probe }}", site) for site in probes.probes]
    assert all(request["format"] == probes.answer_schema and len(request["messages"]) == 1 for request in sent)


def test_the_evidence_and_site_questions_follow_each_models_template_and_every_span_is_the_reports_text(ollama, tmp_path):
    labels, manifest = run_labels(REPORTS, tmp_path / "out", run=paper_run(), models=[LLAMA, MISTRAL], host=ollama,
                                  cache_path=tmp_path / "cache.sqlite")
    localization = PAPER.localization
    for task in (localization.evidence, localization.site_probes):
        decided = {row["tag"]: row["decision"] for row in manifest.preflight[task]["models"]}
        assert decided == {LLAMA: "first_token", MISTRAL: "structured"}, task
    gated = labels[labels.model.isin([LLAMA, MISTRAL]) & labels.gated]
    assert len(gated) == 2 * manifest.stage2.sent > 0
    impressions = prompt_inputs(REPORTS, PAPER).set_index("report_id").prompt_text
    spans = [(row.model, impressions[row.report_id], span) for row in gated.itertuples() for span in row.evidence]
    assert spans and all(text[span["start"]:span["end"]] == span["text"] for _, text, span in spans)
    # The letters' probabilities at the answer token: after the prefix on the open turn, in the JSON on the closed.
    assert all(0 < span["p"] <= 1 for _, _, span in spans) and {tag for tag, _, _ in spans} == {LLAMA, MISTRAL}
    site_scores = gated[[site_score_column(site) for site in load_task(localization.site_probes).probes]]
    assert site_scores.melt().value.dropna().between(0, 1).all() and site_scores.notna().any(axis=None)
    # A site without a probability is a question without a valid answer, and its row says why.
    missing = site_scores.isna().any(axis=1)
    assert gated.reasons[missing].map(lambda reasons: any(r.startswith("site probabilities: ") for r in reasons)).all()


@pytest.mark.llm  # starts its own server
def test_a_server_older_than_logprobs_is_refused_before_anything_is_asked(tmp_path_factory, tmp_path):
    url, process = start(tmp_path_factory, "old", version="0.12.10", aliases={LLAMA: SMALL_MODEL})
    try:
        with pytest.raises(ServerTooOld, match=r"Ollama 0\.12\.10; .* from version 0\.12\.11 on"):
            run_labels(REPORTS, tmp_path / "out", run=paper_run(), models=[LLAMA], host=url, cache_path=tmp_path / "cache.sqlite")
        assert len(ResponseCache(tmp_path / "cache.sqlite")) == 0
    finally:
        stop_server(process)


@pytest.mark.llm  # starts its own server
def test_an_answer_without_log_probabilities_is_undefined_and_not_cached(tmp_path_factory, tmp_path):
    # A development build reports 0.0.0, which the check lets through; this one sends no log-probabilities.
    url, process = start(tmp_path_factory, "dev", version="0.0.0")
    try:
        server = connect(url)
        asker = Asker(server, ResponseCache(tmp_path / "cache.sqlite"), SMALL_MODEL,
                      describe_models(server, [SMALL_MODEL])[SMALL_MODEL]["digest"], STAGE1, PAPER.options_for(LLAMA))
        answer = asker.ask("a", "Grade IV splenic laceration with active contrast extravasation.")
        assert (answer.value, answer.status, answer.key) == (None, Status.NO_LOGPROBS, "")
        assert "returned no log-probabilities (ollama 0.0.0; Ollama returns them from 0.12.11 on)" in answer.reasons[0]
        assert len(asker.cache) == 0
    finally:
        stop_server(process)


def test_a_system_prompt_the_messages_do_not_show_is_counted_before_sending(ollama, tmp_path):
    """Qwen's Modelfile SYSTEM prompt takes 5,850 bytes the request does not carry: a report that fits beside a
    64-byte template allowance does not fit beside the template the server shows, and is not sent."""
    text = "Splenic laceration with active extravasation. " * 10
    assert spare_tokens(asking.build_request(QWEN, STAGE1, text, PAPER.options_for(QWEN))) >= 0
    reports = pd.DataFrame({"report_id": ["long"], "report_text": [f"IMPRESSION: {text}"]})
    labels, manifest = run_labels(reports, tmp_path / "out", run=paper_run(), models=[QWEN], host=ollama, cache_path=tmp_path / "c.sqlite")
    (row,) = labels[labels.model == QWEN].itertuples()
    assert (row.status, row.reasons) == (Status.TOO_LONG, ["prompt may not fit num_ctx 4096: not sent"])
    (check,) = manifest.preflight["extravasation_zeroshot"]["models"]
    assert check["template_bytes"] > len(SYSTEM) and check["fits"] is False


def test_a_prompt_sent_over_the_context_is_refused_with_truncate_false(ollama, tmp_path):
    """A client that does not know the template's room sends the prompt; Ollama, told truncate: false, refuses."""
    server = connect(ollama)
    options = {**PAPER.options_for(QWEN), "num_ctx": 1024}
    asker = Asker(server, ResponseCache(tmp_path / "cache.sqlite"), QWEN, describe_models(server, [QWEN])[QWEN]["digest"],
                  STAGE1, options, template_bytes=0)
    answer = asker.ask("long", "Splenic laceration. " * 10)
    assert (answer.status, answer.reasons) == (Status.REFUSED, ["prompt does not fit num_ctx 1024: refused by the server"])
    assert len(asker.cache) == 0


@pytest.mark.llm  # starts its own server
def test_a_prompt_the_server_cuts_anyway_is_caught_by_its_token_count(tmp_path_factory, tmp_path):
    """A server that cuts whatever the request says keeps the last message only: prompt_eval_count shows it."""
    url, process = start(tmp_path_factory, "cutting", aliases={QWEN: SMALL_MODEL}, truncate=True,
                         ignore_truncate_false=True, system={QWEN: SYSTEM})
    try:
        server = connect(url)
        options = {**PAPER.options_for(QWEN), "num_ctx": 1024}
        asker = Asker(server, ResponseCache(tmp_path / "cache.sqlite"), QWEN,
                      describe_models(server, [QWEN])[QWEN]["digest"], STAGE1, options, template_bytes=0)
        answer = asker.ask("long", "Splenic laceration. " * 10)
        assert answer.status == Status.CUT and answer.value is None
        assert answer.reasons[0].startswith("the server cut the prompt: it read ") and len(asker.cache) == 0
    finally:
        stop_server(process)


def test_a_model_that_does_not_fit_where_num_gpu_puts_it_stops_the_run_at_once(ollama, tmp_path):
    run = paper_run(models=[model.model_copy(update={"options": {"num_gpu": 999}}) if model.tag == LLAMA else model
                            for model in PAPER.models], requests=PAPER.requests.model_copy(update={"backoff_s": 5}))
    started = time.monotonic()
    with pytest.raises(ModelNotLoaded, match=rf"could not load {LLAMA} \(HTTP 500: .*out of memory\).*num_gpu"):
        run_labels(REPORTS, tmp_path / "out", run=run, models=[LLAMA], host=ollama, cache_path=tmp_path / "cache.sqlite")
    assert time.monotonic() - started < 5  # no retry: the first backoff alone would take 5 s
    assert len(ResponseCache(tmp_path / "cache.sqlite")) == 0
    # Without num_gpu, Ollama offloads what fits, and the same requests keep the same cache keys.
    labels, _ = run_labels(REPORTS, tmp_path / "out", run=paper_run(), models=[LLAMA], host=ollama, cache_path=tmp_path / "cache.sqlite")
    assert (labels[labels.model == LLAMA].status == Status.ANSWERED).all()


def test_the_manifest_keeps_the_manifest_digest_and_the_weights_digest_apart(ollama, tmp_path):
    _, manifest = run_labels(REPORTS.head(1), tmp_path / "out", run=paper_run(), models=[LLAMA, MISTRAL], host=ollama,
                                cache_path=tmp_path / "cache.sqlite")
    models = {model["tag"]: model for model in manifest.models}
    weights = {model["weights"] for model in models.values()}
    assert len(weights) == 1 and weights.pop() not in {model["digest"] for model in models.values()}
    assert models[LLAMA]["digest"] != models[MISTRAL]["digest"]  # same weights, another template
    # One context for every task: a model loads once per stage.
    assert {json.dumps(options["num_ctx"]) for model in models.values() for options in model["options"].values()} == {"4096"}


def test_a_model_that_ends_its_reply_at_once_gives_its_own_reason_and_nothing_is_cached(ollama, tmp_path):
    server = connect(ollama)
    asker = Asker(server, ResponseCache(tmp_path / "cache.sqlite"), ENDS_AT_ONCE,
                  describe_models(server, [ENDS_AT_ONCE])[ENDS_AT_ONCE]["digest"], STAGE1, PAPER.options_for(LLAMA))
    answer = asker.ask("a", "Grade IV splenic laceration with active contrast extravasation.")
    assert answer.status == Status.ENDED and answer.reasons[0].startswith("the model ended its reply at once (end-of-sequence)")
    assert len(asker.cache) == 0


def test_a_model_removed_mid_run_ends_the_run_in_one_line_keeping_what_was_answered(ollama, tmp_path, monkeypatch):
    run = paper_run(models=[PAPER.models[0].model_copy(update={"tag": REMOVED_SOON})],
                    localization=PAPER.localization.model_copy(update={"gate": REMOVED_SOON}))
    with pytest.raises(RequestRefused, match=rf"refused a request for {REMOVED_SOON} .* HTTP 404: model '{REMOVED_SOON}' "
                                             rf"not found \(`ollama pull {REMOVED_SOON}`\)\. Everything answered so far"):
        run_labels(REPORTS, tmp_path / "out", run=run, host=ollama, cache_path=tmp_path / "cache.sqlite", models=[REMOVED_SOON])
    # Its first request was the preflight's rendering; the one answer after it is kept for the next run.
    assert len(ResponseCache(tmp_path / "cache.sqlite")) == 1


def check_command(host: str, run: str, *more: str) -> list[str]:
    return [sys.executable, "-m", "analysis", "check", "--run", run, "--host", host, *more]


def check_rows(stdout: str, tags) -> dict[str, list[str]]:
    """The check table's row of each tag, split into its columns (two spaces or more apart)."""
    return {line.split()[0]: re.split(r"\s{2,}", line) for line in stdout.splitlines() if line.split() and line.split()[0] in tags}


@pytest.mark.llm  # starts its own servers
def test_a_model_imported_without_a_template_is_refused_on_ollamas_own_runner_and_not_on_llama_server(
        tmp_path_factory, tmp_path, monkeypatch):
    """Up to 0.24 such a model gets {{ .Prompt }}: the check names it and the TEMPLATE line that fixes it, and
    --allow-raw goes on, the manifest saying so. From 0.30 llama-server applies the GGUF's own template."""
    monkeypatch.setenv("EXTRAVASATION_RESPONSE_CACHE", str(tmp_path / "check.sqlite"))
    url, process = start(tmp_path_factory, "bare", version="0.24.0", aliases={QWEN: SMALL_MODEL}, template_less=[QWEN])
    try:
        refused = subprocess.run(check_command(url, "paper", "--models", QWEN), capture_output=True, text=True, timeout=300)
        assert refused.returncode == 1
        assert f"{QWEN}: the server renders its requests as the messages' text with no chat structure" in refused.stderr
        assert 'TEMPLATE """{{- range $i, $_ := .Messages }}' in refused.stderr and "--allow-raw" in refused.stderr
        allowed = subprocess.run(check_command(url, "paper", "--models", QWEN, "--allow-raw"), capture_output=True,
                                 text=True, timeout=300)
        assert allowed.returncode == 0, allowed.stderr
        assert check_rows(allowed.stdout, [QWEN])[QWEN][1:4] == ["no", "yes", "first_token"]
        labels, manifest = run_labels(REPORTS.head(1), tmp_path / "out", run=paper_run(), models=[QWEN], host=url,
                                      cache_path=tmp_path / "cache.sqlite", allow_raw=True)
        record = manifest.preflight["extravasation_zeroshot"]
        assert record["allow_raw"] is True and record["raw_template"] == [QWEN] and len(labels[labels.model == QWEN]) == 1
    finally:
        stop_server(process)
    url, process = start(tmp_path_factory, "bare-llama-server", version="0.32.15", aliases={QWEN: SMALL_MODEL},
                         template_less=[QWEN])
    try:
        native = subprocess.run(check_command(url, "paper", "--models", QWEN), capture_output=True, text=True, timeout=300)
        assert native.returncode == 0, native.stderr
        assert check_rows(native.stdout, [QWEN])[QWEN][1:4] == ["yes", "yes", "first_token"]
    finally:
        stop_server(process)


@pytest.mark.llm  # starts its own server
def test_llama_server_era_refusals_are_read_as_such(tmp_path_factory, tmp_path):
    """From 0.30 Ollama passes llama-server's own error body on: a prompt over the context is one report refused,
    not a stopped run; a model that does not fit says llama-server's words."""
    url, process = start(tmp_path_factory, "llama-server-era", version="0.32.15",
                         aliases={QWEN: SMALL_MODEL, LLAMA: SMALL_MODEL}, gpu_layers={LLAMA: 40}, system={QWEN: SYSTEM})
    try:
        too_long = {"model": QWEN, "messages": [{"role": "user", "content": "Splenic laceration. " * 300}],
                    "options": {"num_ctx": 256}, "truncate": False, "stream": False}
        raw = httpx.post(f"{url}/api/chat", json=too_long, timeout=300)
        assert raw.status_code == 400
        assert json.loads(raw.json()["error"])["error"]["message"].endswith("exceeds the available context size (256 tokens), try increasing it")
        server = connect(url)
        options = {**PAPER.options_for(QWEN), "num_ctx": 1024}
        asker = Asker(server, ResponseCache(tmp_path / "cache.sqlite"), QWEN, describe_models(server, [QWEN])[QWEN]["digest"],
                      STAGE1, options, template_bytes=0)
        answer = asker.ask("long", "Splenic laceration. " * 10)  # with the Modelfile SYSTEM, which the client does not count
        assert (answer.status, answer.reasons) == (Status.REFUSED, ["prompt does not fit num_ctx 1024: refused by the server"])
        run = paper_run(models=[model.model_copy(update={"options": {"num_gpu": 999}}) if model.tag == LLAMA else model
                                for model in PAPER.models])
        with pytest.raises(ModelNotLoaded, match=r"HTTP 500: llama-server process has terminated: .*out of memory"):
            run_labels(REPORTS, tmp_path / "out", run=run, models=[LLAMA], host=url, cache_path=tmp_path / "cache.sqlite")
    finally:
        stop_server(process)


@pytest.mark.llm  # starts its own server and uploads the three embedded GGUF files to it
def test_ollama_import_gives_the_demo_models_templates_that_leave_the_turn_open(tmp_path_factory, tmp_path, monkeypatch):
    """The three demo models created without TEMPLATE are refused; `ollama-import` creates them again from their GGUF
    files with the shipped templates, and the check then shows the open turn."""
    embedded = load_run("embedded")
    monkeypatch.setenv("EXTRAVASATION_RESPONSE_CACHE", str(tmp_path / "check.sqlite"))
    url, process = start(tmp_path_factory, "import", version="0.24.0", template_less=list(embedded.tags),
                         manifest_digests=True)
    try:
        refused = subprocess.run(check_command(url, "embedded"), capture_output=True, text=True, timeout=300)
        assert refused.returncode == 1 and all(f"{tag}: the server renders" in refused.stderr for tag in embedded.tags)
        imported = subprocess.run([sys.executable, "-m", "analysis", "ollama-import", "--host", url, "--out", str(tmp_path)],
                                  capture_output=True, text=True, timeout=900)
        assert imported.returncode == 0, imported.stderr
        assert sorted(path.name for path in tmp_path.glob("*.Modelfile")) == sorted(
            f"{tag.replace(':', '-')}.Modelfile" for tag in embedded.tags)
        checked = subprocess.run(check_command(url, "embedded"), capture_output=True, text=True, timeout=300)
        assert checked.returncode == 0, checked.stderr
        rows = check_rows(checked.stdout, embedded.tags)
        assert {tag: row[1:4] for tag, row in rows.items()} == {tag: ["yes", "yes", "first_token"] for tag in embedded.tags}
    finally:
        stop_server(process)


@pytest.mark.llm  # starts its own server
def test_the_readmes_check_table_is_what_the_check_prints_against_the_shipped_setup(tmp_path, monkeypatch):
    """The README shows the check's output for docs/as-ollama/paper.yaml: that output, line for line (the host aside)."""
    readme = (ROOT / "README.md").read_text()
    shown = readme.split("<!-- check:start -->\n```\n", 1)[1].split("```\n<!-- check:end -->", 1)[0]
    monkeypatch.setenv("EXTRAVASATION_RESPONSE_CACHE", str(tmp_path / "empty.sqlite"))
    url = f"http://127.0.0.1:{free_loopback_port()}"
    process = start_embedded_server(url, as_ollama=ROOT / "docs" / "as-ollama" / "paper.yaml")
    try:
        printed = subprocess.run(check_command(url, "paper"), capture_output=True, text=True, timeout=600)
    finally:
        stop_server(process)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.replace(url, "http://127.0.0.1:11435") == shown
