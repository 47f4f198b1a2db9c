"""The code that reads a server's responses, on the bodies a real Ollama sends (tests/ollama_bodies: copied from
Ollama's documentation and source, origins in its README). The official client is driven over an httpx mock
transport that answers with those bodies; no model is involved, the point is the bodies' shapes."""

import json
import math
from pathlib import Path

import httpx
import ollama
import pytest

from analysis.data.vocabulary import Status
from analysis.llm.answers import first_token_probabilities, parse_answer
from analysis.config import TASKS_DIR
from analysis.llm.asking import Asker, build_request, refuse_format_with_prefill
from analysis.llm.cache import ResponseCache
from analysis.llm.client import describe_models
from analysis.llm.ollama_api import OllamaBackend, is_load_failure, is_transient, weights_digest
from analysis.llm.preflight import RawTemplate, has_chat_structure, preflight
from analysis.llm.backend import ModelNotLoaded, RequestRefused, ServerTooOld
from analysis.specs import load_run, load_task

from tests.shipped_requests import every_request_a_task_can_send

BODIES = Path(__file__).parent / "ollama_bodies"
STAGE1 = load_task("extravasation_zeroshot")
OPTIONS = load_run("paper").options_for("mistral:7b")
ERRORS = json.loads((BODIES / "errors.json").read_text())


def body(name: str) -> dict:
    return json.loads((BODIES / name).read_text())


def server_answering(routes: dict[str, tuple[int, dict]], version: str = "0.13.0") -> OllamaBackend:
    """A ``Backend`` whose official client is answered by ``routes``: path -> (status, body)."""
    def handle(request: httpx.Request) -> httpx.Response:
        status, content = routes[request.url.path]
        return httpx.Response(status, json=content)

    client = ollama.Client(host="http://127.0.0.1:11434", transport=httpx.MockTransport(handle))
    return OllamaBackend("http://127.0.0.1:11434", client, f"ollama {version}", version)


def asker_on(server: OllamaBackend, tmp_path, task=STAGE1) -> Asker:
    return Asker(server, ResponseCache(tmp_path / "cache.sqlite"), "llama3.1:70b", "digest", task, OPTIONS)


def test_the_model_list_and_the_weights_blob_are_read_from_ollamas_own_bodies():
    server = server_answering({"/api/tags": (200, body("tags.json")), "/api/show": (200, body("show_llava.json"))})
    described = describe_models(server, ["llama3.2"])
    assert described["llama3.2"]["digest"] == "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72"
    assert described["llama3.2"]["quantization_level"] == "Q4_K_M"
    # /api/show names the weights' blob (sha256:… in older versions, sha256-… now): not the manifest's digest.
    assert described["llama3.2"]["weights"] == "200765e1283640ffbd013184bf496e261032fa75b99498a9613be4e94d63ad52"
    assert weights_digest("FROM /root/.ollama/models/blobs/sha256-" + "ab" * 32) == "ab" * 32


def test_a_version_before_logprobs_is_refused_naming_the_version_needed():
    version = body("version_0.5.1.json")["version"]
    with pytest.raises(ServerTooOld, match=r"Ollama 0\.5\.1; .*from version 0\.12\.11 on"):
        server_answering({}, version).require()
    server_answering({}, "0.12.11").require()
    server_answering({}, "0.0.0").require()  # a development build: each answer is checked instead


def test_a_closed_turn_in_the_rendered_request_picks_the_structured_decision():
    rendered = {"/api/chat": (200, body("chat_debug_render_closed_turn.json"))}
    check = preflight([server_answering(rendered)], load_run("paper"), STAGE1, {"mistral:7b": {"digest": "d"}},
                      ["Grade IV splenic laceration."], cache=None).check_of("mistral:7b")
    assert (check.open_turn, check.decision) == (False, "structured")
    assert check.rendered_end.endswith('{"answer": "</s>[INST] ')


def test_p_yes_is_read_from_logprobs_with_their_bytes():
    response = body("chat_logprobs.json")
    assert parse_answer(response, STAGE1) == ("Yes", "")
    yes, no, undefined = (math.exp(logprob) for logprob in (-0.0513, -3.1204, -5.2371))  # "yes" begins no answer
    assert first_token_probabilities(response["logprobs"], STAGE1.answers)["Yes"] == pytest.approx(yes / (yes + no + undefined))


@pytest.mark.parametrize("name, status", [("chat_no_logprobs.json", Status.NO_LOGPROBS),
                                          ("chat_ended_at_once.json", Status.ENDED)])
def test_a_first_token_answer_without_logprobs_is_no_answer_and_is_not_cached(name, status, tmp_path):
    asker = asker_on(server_answering({"/api/chat": (200, body(name))}), tmp_path)
    answer = asker.ask("r1", "Grade IV splenic laceration with active contrast extravasation.")
    assert (answer.value, answer.status) == (None, status)
    assert len(asker.cache) == 0


def test_a_prompt_read_in_part_is_cut_and_not_cached(tmp_path):
    # The documentation's reply read 26 prompt tokens; this prompt has far more words than that.
    asker = asker_on(server_answering({"/api/chat": (200, body("chat_no_logprobs.json"))}), tmp_path,
                     task=STAGE1.model_copy(update={"decision": "structured"}))
    answer = asker.ask("r1", "Grade IV splenic laceration with active contrast extravasation. " * 5)
    assert answer.status == Status.CUT and "it read 26 tokens of a prompt of at least" in answer.reasons[0]
    assert len(asker.cache) == 0


@pytest.mark.parametrize("name", ["load_failure", "load_failure_runner", "load_required_full"])
def test_a_model_that_cannot_be_loaded_stops_at_once(name, tmp_path):
    error = ollama.ResponseError(ERRORS[name]["body"]["error"], ERRORS[name]["status"])
    assert is_load_failure(error) and not is_transient(error)
    asker = asker_on(server_answering({"/api/chat": (ERRORS[name]["status"], ERRORS[name]["body"])}), tmp_path)
    with pytest.raises(ModelNotLoaded, match=r"could not load llama3\.1:70b .*num_gpu"):
        asker.ask("r1", "Splenic laceration.")


@pytest.mark.parametrize("name", ["not_found_chat", "not_found_scheduler", "top_logprobs_range"])
def test_a_request_refused_mid_run_ends_in_one_line(name, tmp_path):
    asker = asker_on(server_answering({"/api/chat": (ERRORS[name]["status"], ERRORS[name]["body"])}), tmp_path)
    with pytest.raises(RequestRefused, match=rf"HTTP {ERRORS[name]['status']}: .*run the same command again"):
        asker.ask("r1", "Splenic laceration.")


@pytest.mark.parametrize("name", ["input_too_long", "input_too_long_llama_server", "prompt_longer_llama_server"])
def test_an_input_too_long_refusal_of_either_runner_is_one_undefined_report(name, tmp_path):
    """Ollama's own runner (up to 0.24) and llama-server (from 0.30, its body passed on) say it in other words:
    either way one report is Undefined and the run goes on."""
    refused = asker_on(server_answering({"/api/chat": (ERRORS[name]["status"], ERRORS[name]["body"])}), tmp_path)
    answer = refused.ask("r1", "Splenic laceration.")
    assert (answer.status, answer.reasons) == (Status.REFUSED, ["prompt does not fit num_ctx 4096: refused by the server"])
    assert len(refused.cache) == 0


def test_the_busy_server_is_retried():
    busy = ollama.ResponseError(ERRORS["busy"]["body"]["error"], ERRORS["busy"]["status"])
    assert is_transient(busy) and not is_load_failure(busy)


def test_every_request_asks_ollama_to_refuse_rather_than_cut():
    assert build_request("m", STAGE1, "Splenic laceration.", OPTIONS)["truncate"] is False


def test_no_request_carries_a_format_and_a_reply_prefix_together():
    """Ollama does not advance a format's grammar over the prompt (runner/llamarunner/runner.go): with a prefilled
    `{"answer": "` the grammar would start again at `{` and mask the answer token."""
    requests = every_request_a_task_can_send()
    assert len(requests) > 2 * len(list(TASKS_DIR.glob("*.yaml")))
    assert not [r for r in requests if r.get("format") and r["messages"][-1]["role"] == "assistant"]
    both = {"model": "m", "format": STAGE1.answer_schema, "messages": STAGE1.messages("Splenic laceration.")}
    with pytest.raises(ValueError, match="both a format and a reply prefix"):
        refuse_format_with_prefill(both)


def server_built_from_source(logprobs: bool) -> OllamaBackend:
    """An Ollama that reports 0.0.0 (version/version.go's default, a build from source): it renders a request
    with an open turn, answers with or without log-probabilities, and refuses an over-long prompt with
    truncate: false as runner/llamarunner/runner.go does."""
    def handle(request: httpx.Request) -> httpx.Response:
        sent = json.loads(request.content)
        if sent.get("_debug_render_only"):
            text = "".join(m["content"] for m in sent["messages"])
            return httpx.Response(200, json={"_debug_info": {"rendered_template": f"[INST] {text}"}})
        if len(sent["messages"][0]["content"]) > sent["options"]["num_ctx"]:
            return httpx.Response(ERRORS["input_too_long"]["status"], json=ERRORS["input_too_long"]["body"])
        return httpx.Response(200, json=body("chat_logprobs.json" if logprobs else "chat_no_logprobs.json"))

    client = ollama.Client(host="http://127.0.0.1:11434", transport=httpx.MockTransport(handle))
    return OllamaBackend("http://127.0.0.1:11434", client, "ollama 0.0.0", "0.0.0")


def test_a_server_without_a_release_number_is_probed_and_the_check_says_its_version_is_unknown():
    checked = preflight([server_built_from_source(logprobs=True)], load_run("paper"), STAGE1,
                        {"llama3.1:70b": {"digest": "d"}}, ["Grade IV splenic laceration."], cache=None)
    check = checked.check_of("llama3.1:70b")
    assert (check.logprobs, check.decision) == (True, "first_token")
    assert "probed: log-probabilities yes; an over-long prompt with truncate: false is refused" in check.note
    assert "ollama 0.0.0 (version 0.0.0): version unknown: no release number" in checked.table()
    with pytest.raises(ServerTooOld, match=r"Ollama 0\.0\.0, no release number .* returned no log-probabilities"):
        preflight([server_built_from_source(logprobs=False)], load_run("paper"), STAGE1,
                  {"llama3.1:70b": {"digest": "d"}}, ["Grade IV splenic laceration."], cache=None)


def test_a_bare_template_is_refused_naming_the_model_and_the_template_line_that_fixes_it():
    """A GGUF file created without TEMPLATE whose own template Ollama does not recognise renders as the messages'
    text alone (tests/ollama_bodies/chat_debug_render_bare_template.json): no model is told it is in a chat."""
    bare = {"/api/chat": (200, body("chat_debug_render_bare_template.json"))}
    described = {"qwen2.5:72b": {"digest": "d"}}
    with pytest.raises(RawTemplate) as refused:
        preflight([server_answering(bare, "0.24.0")], load_run("paper"), STAGE1, described, ["Grade IV splenic laceration."],
                  cache=None)
    message = str(refused.value)
    assert "qwen2.5:72b: the server renders its requests as the messages' text with no chat structure" in message
    assert 'TEMPLATE """{{- range $i, $_ := .Messages }}' in message and "<|im_start|>{{ .Role }}" in message
    assert "--allow-raw" in message
    checked = preflight([server_answering(bare, "0.24.0")], load_run("paper"), STAGE1, described,
                        ["Grade IV splenic laceration."], cache=None, allow_raw=True)
    check = checked.check_of("qwen2.5:72b")
    assert (check.chat_structure, check.open_turn, check.decision) == (False, True, "first_token")
    assert checked.record()["allow_raw"] is True and checked.record()["raw_template"] == ["qwen2.5:72b"]
    # A template that closes the turn still marks it: that model writes its JSON answer, nothing is refused.
    closed = preflight([server_answering({"/api/chat": (200, body("chat_debug_render_closed_turn.json"))})],
                       load_run("paper"), STAGE1, {"mistral:7b": {"digest": "d"}}, ["Grade IV splenic laceration."],
                       cache=None)
    assert closed.check_of("mistral:7b").chat_structure is True and closed.raw == []


@pytest.mark.parametrize("rendered, marked", [
    ("Question?{\"answer\": \"", False),
    ("<|im_start|>user\nQuestion?<|im_end|>\n<|im_start|>assistant\n{\"answer\": \"", True),
    ("[INST] Question?[/INST] {\"answer\": \"", True),
    ("### Instruction:\nQuestion?\n\n### Response:\n{\"answer\": \"", True),
    ("User: Question?\nAssistant: {\"answer\": \"", True),
    # The messages' own words are not the template's: a report naming the user is still a bare rendering.
    ("Question from the user?{\"answer\": \"", False),
])
def test_chat_structure_is_read_from_what_the_template_adds(rendered, marked):
    question = "Question from the user?" if "from the user" in rendered else "Question?"
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": question},
                {"role": "assistant", "content": '{"answer": "'}]
    assert has_chat_structure(rendered, messages) is marked
