"""Requests to an OpenAI-compatible server, and the reading of its responses, on the bodies OpenAI's API reference, vLLM
and llama.cpp's llama-server give (tests/openai_bodies: origins in its README). The official ``openai`` client is
driven over a mock transport that answers with those bodies; no model is involved, the point is the bodies' shapes."""

import json
import math
from pathlib import Path

import httpx2  # the HTTP client the official openai client runs on
import openai
import pytest

from analysis.data.vocabulary import Status
from analysis.llm.answers import answer_probabilities
from analysis.llm.asking import Asker, build_request
from analysis.llm.cache import ResponseCache, cache_key
from analysis.llm.openai_api import OpenAIBackend, served_identity
from analysis.llm.preflight import preflight
from analysis.llm.backend import ModelMissing, RequestRefused
from analysis.specs import Requests, SpecError, load_run, load_task

BODIES = Path(__file__).parent / "openai_bodies"
ERRORS = json.loads((BODIES / "errors.json").read_text())
STAGE1 = load_task("extravasation_zeroshot")
WRITTEN = STAGE1.model_copy(update={"decision": "structured"})
RUN = load_run("vllm")
OPTIONS = RUN.options_for("llama3.1:70b", STAGE1)
TEXT = "Grade IV splenic laceration with active contrast extravasation."


def body(name: str) -> dict:
    return json.loads((BODIES / name).read_text())


class Answering:
    """The mock transport's handler: answers each path from ``routes`` (path -> a list of (status, body), taken in
    turn, the last one repeated), and keeps every JSON body it was sent."""

    def __init__(self, routes: dict[str, list[tuple[int, dict]]]):
        self.routes, self.sent = routes, []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        if request.content:
            self.sent.append(json.loads(request.content))
        replies = self.routes[request.url.path]
        status, content = replies.pop(0) if len(replies) > 1 else replies[0]
        return httpx2.Response(status, json=content)


def server_answering(routes: dict[str, list[tuple[int, dict]]]) -> tuple[OpenAIBackend, Answering]:
    handler = Answering(routes)
    client = openai.OpenAI(base_url="http://127.0.0.1:8000/v1", api_key="unused", max_retries=0,
                           http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    return OpenAIBackend("http://127.0.0.1:8000/v1", client, "vllm 0.11.0", "0.11.0"), handler


def chat_answering(*replies: tuple[int, dict]) -> tuple[OpenAIBackend, Answering]:
    return server_answering({"/v1/chat/completions": list(replies)})


def asker_on(server: OpenAIBackend, tmp_path, task=STAGE1, **kwargs) -> Asker:
    return Asker(server, ResponseCache(tmp_path / "cache.sqlite"), "llama3.1:70b", "digest", task, OPTIONS, **kwargs)


def test_a_first_token_request_asks_for_one_token_after_the_answer_prefix_with_its_alternatives():
    server, handler = chat_answering((200, body("chat_first_token_vllm.json")))
    sent = server.outgoing(build_request("llama3.1:70b", STAGE1, TEXT, OPTIONS, keep_alive="30m"))
    assert sent["messages"][-1] == {"role": "assistant", "content": STAGE1.answer_prefix}
    assert (sent["max_tokens"], sent["logprobs"], sent["top_logprobs"], sent["temperature"], sent["seed"]) == (
        1, True, 20, 0, 42)
    assert sent["extra_body"] == {"continue_final_message": True, "add_generation_prompt": False}
    assert not {"options", "format", "truncate", "keep_alive", "response_format"} & set(sent)
    server.chat(sent, timeout_s=5)
    (posted,) = handler.sent  # the engine fields travel at the top of the JSON body, where vLLM reads them
    assert posted["continue_final_message"] is True and posted["add_generation_prompt"] is False
    assert "extra_body" not in posted and posted["model"] == "llama3.1:70b"


def test_a_written_answer_is_held_to_the_tasks_schema_and_not_continued():
    sent = chat_answering()[0].outgoing(build_request("llama3.1:70b", WRITTEN, TEXT, OPTIONS))
    assert sent["response_format"] == {"type": "json_schema", "json_schema": {
        "name": "answer", "schema": STAGE1.answer_schema, "strict": True}}
    assert sent["max_tokens"] == 32 and [m["role"] for m in sent["messages"]] == ["user"]
    assert "extra_body" not in sent


def test_options_go_where_the_engines_read_them_and_those_without_an_equivalent_are_refused():
    server = chat_answering()[0]
    placed = {**OPTIONS, "num_gpu": 999, "top_k": 40, "min_p": 0.05, "top_p": 0.9}
    sent = server.outgoing(build_request("llama3.1:70b", STAGE1, TEXT, placed))
    assert sent["top_p"] == 0.9 and sent["extra_body"]["top_k"] == 40 and sent["extra_body"]["min_p"] == 0.05
    assert "num_gpu" not in json.dumps(sent) and "num_ctx" not in json.dumps(sent)
    with pytest.raises(SpecError, match=r"\['repeat_penalty'\] have no equivalent on an OpenAI-compatible server"):
        server.outgoing(build_request("llama3.1:70b", STAGE1, TEXT, {**OPTIONS, "repeat_penalty": 1.1}))


def test_the_reference_logprobs_body_is_read_into_the_pipelines_shape():
    server, _ = chat_answering((200, body("chat_logprobs_reference.json")))
    response = server.chat(server.outgoing(build_request("m", WRITTEN, TEXT, OPTIONS)), timeout_s=5)
    assert response["message"] == {"role": "assistant", "content": "Hello! How can I assist you today?"}
    assert (response["done_reason"], response["prompt_eval_count"], response["eval_count"]) == ("stop", 9, 9)
    assert [entry["token"] for entry in response["logprobs"]] == ["Hello", "!"]
    hello, hi = math.exp(-0.31725305), math.exp(-1.3190403)
    assert answer_probabilities(response["logprobs"][0], ["Hello", "Hi"])["Hello"] == pytest.approx(hello / (hello + hi))
    assert response["completion"]["id"] == "chatcmpl-123"  # the server's own body, kept for reviewers


@pytest.mark.parametrize("name", ["chat_first_token_vllm.json", "chat_first_token_llama_server.json"])
def test_a_first_token_answer_and_p_yes_come_from_the_engines_log_probabilities(name, tmp_path):
    reply = body(name)
    asker = asker_on(chat_answering((200, reply))[0], tmp_path)
    answer = asker.ask("r1", TEXT)
    top = {entry["token"]: entry["logprob"] for entry in reply["choices"][0]["logprobs"]["content"][0]["top_logprobs"]}
    yes, no, undefined = (math.exp(top[token]) for token in ("Yes", "No", "Und" if "Und" in top else "Undefined"))
    assert (answer.value, answer.status, answer.reasons) == ("Yes", Status.ANSWERED, [])
    assert answer.p_yes == pytest.approx(yes / (yes + no + undefined))
    stored = asker.cache.get(answer.key)
    # llama-server puts the continued prefix back into the content; what the model wrote is the token alone.
    assert stored["message"]["content"] == "Yes" and stored["completion"]["choices"][0]["finish_reason"] == "length"
    assert asker.cache.request_of(answer.key)["extra_body"]["continue_final_message"] is True


def test_an_answer_without_log_probabilities_is_no_answer_and_is_not_cached(tmp_path):
    asker = asker_on(chat_answering((200, body("chat_default_reference.json")))[0], tmp_path)
    answer = asker.ask("r1", TEXT)
    assert (answer.value, answer.status) == (None, Status.NO_LOGPROBS)
    assert "returned no log-probabilities (vllm 0.11.0; `python -m analysis check` shows" in answer.reasons[0]
    assert len(asker.cache) == 0


@pytest.mark.parametrize("name", ["vllm_too_long", "llama_server_too_long"])
def test_a_prompt_over_the_servers_context_is_refused_undefined_and_not_cached(name, tmp_path):
    asker = asker_on(chat_answering((ERRORS[name]["status"], ERRORS[name]["body"]))[0], tmp_path)
    answer = asker.ask("r1", TEXT)
    assert (answer.status, answer.reasons) == (Status.REFUSED, ["prompt does not fit num_ctx 4096: refused by the server"])
    assert len(asker.cache) == 0


def test_a_model_the_server_does_not_serve_ends_the_run_in_one_line(tmp_path):
    error = ERRORS["vllm_missing_model"]
    asker = asker_on(chat_answering((error["status"], error["body"]))[0], tmp_path)
    with pytest.raises(RequestRefused, match=r"HTTP 404: The model `llama3.1:70b` does not exist\. \(the server serves "
                                             r"no model of that name\)\. Everything answered so far"):
        asker.ask("r1", TEXT)


@pytest.mark.parametrize("name", ["llama_server_loading", "llama_server_no_slot"])
def test_a_loading_or_busy_server_is_asked_again(name, tmp_path):
    error = ERRORS[name]
    server, handler = chat_answering((error["status"], error["body"]), (200, body("chat_first_token_vllm.json")))
    answer = asker_on(server, tmp_path, requests=Requests(retries=2, backoff_s=0)).ask("r1", TEXT)
    assert answer.value == "Yes" and len(handler.sent) == 2


def test_a_models_identity_is_what_the_server_reports_of_it_less_how_it_is_served():
    vllm = body("models_vllm.json")
    server, _ = server_answering({"/v1/models": [(200, vllm)]})
    described = server.describe_models(["llama3.1:70b"])["llama3.1:70b"]
    assert described["served"] == {"id": "llama3.1:70b", "root": "meta-llama/Llama-3.1-70B-Instruct", "parent": None}
    assert described["context"] == 4096
    entry = vllm["data"][0]
    restarted = {**entry, "created": entry["created"] + 3600, "max_model_len": 8192,
                 "permission": [{**entry["permission"][0], "id": "modelperm-another"}]}
    assert served_identity(restarted) == served_identity(entry)  # a restart with another context: the same model
    assert served_identity({**entry, "root": "meta-llama/Llama-3.3-70B-Instruct"}) != served_identity(entry)
    (llama,) = body("models_llama_server.json")["data"]
    assert served_identity(llama) == {"id": llama["id"], "meta": llama["meta"]}
    assert served_identity({**llama, "meta": {**llama["meta"], "n_ctx": 2048}}) == served_identity(llama)
    with pytest.raises(ModelMissing, match=r"serves no model qwen2.5:72b \(it serves llama3.1:70b\).*"
                                           r"--served-model-name qwen2.5:72b"):
        server.describe_models(["qwen2.5:72b"])


def test_the_cache_key_names_the_backend_and_ollamas_keys_stay_as_they_were():
    request = build_request("llama3.1:70b", STAGE1, TEXT, OPTIONS)
    assert cache_key("d", 2, request) == cache_key("d", 2, request, "ollama")
    sent = chat_answering()[0].outgoing(request)
    assert cache_key("d", 2, sent, "openai") != cache_key("d", 2, sent, "ollama")


def fresh_turn() -> dict:
    """The vLLM body as an engine that ignored the prefix answers: a new reply, beginning the JSON anew."""
    reply = body("chat_first_token_vllm.json")
    entry = reply["choices"][0]["logprobs"]["content"][0]
    entry |= {"token": '{"', "top_logprobs": [{"token": '{"', "logprob": -0.01}, {"token": "{", "logprob": -4.7}]}
    reply["choices"][0]["message"]["content"] = '{"'
    return reply


def written_reply() -> dict:
    reply = body("chat_first_token_vllm.json")
    reply["choices"][0]["message"]["content"] = '{"answer": "Yes"}'
    return reply


@pytest.mark.parametrize("first, open_turn, decision, note", [
    ((200, body("chat_first_token_vllm.json")), True, "first_token", ""),
    ((200, fresh_turn()), False, "structured", "it opens a new turn after the answer prefix"),
    ((400, {"error": {"message": "Unrecognized request argument supplied: continue_final_message",
                      "type": "invalid_request_error", "param": None, "code": None}}),
     False, "structured", "it refuses to continue the answer prefix (HTTP 400: Unrecognized request argument"),
])
def test_the_preflight_asks_the_server_what_it_does_with_the_prefix_and_the_schema(first, open_turn, decision, note):
    def route(request: httpx2.Request) -> httpx2.Response:
        status, content = (200, written_reply()) if "response_format" in json.loads(request.content) else first
        return httpx2.Response(status, json=content)

    client = openai.OpenAI(base_url="http://127.0.0.1:8000/v1", api_key="unused", max_retries=0,
                           http_client=httpx2.Client(transport=httpx2.MockTransport(route)))
    server = OpenAIBackend("http://127.0.0.1:8000/v1", client, "vllm 0.11.0", "0.11.0")
    check = preflight([server], RUN, STAGE1, {"llama3.1:70b": {"digest": "d"}}, [TEXT], cache=None).check_of("llama3.1:70b")
    assert (check.open_turn, check.decision, check.json_schema, check.logprobs) == (open_turn, decision, True, True)
    assert note in check.note
    if open_turn:
        assert check.longest_prompt_tokens == 212 + 1 and check.fits  # the prompt's tokens as counted, and the answer
