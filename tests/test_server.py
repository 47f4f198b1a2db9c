"""The embedded server, driven by the official ollama client with a real model."""

import json

import httpx
import jsonschema
import ollama
import pytest

from analysis.serving.weights import load_registry, sha256_of
from tests.conftest import SMALL_MODEL

GREEDY = {"temperature": 0, "seed": 7, "num_predict": 24}
QUESTION = [{"role": "user", "content": "Name one organ in the abdomen."}]


def test_list_shows_every_embedded_model_with_its_file_sha256(client):
    listed = {m.model: m for m in client.list().models}
    registry = load_registry()
    assert set(listed) == set(registry)
    small = registry[SMALL_MODEL]
    assert listed[SMALL_MODEL].digest == sha256_of(small.path())
    assert listed[SMALL_MODEL].size == small.size
    assert listed[SMALL_MODEL].details.quantization_level == "Q4_1"


def test_show_returns_template_and_gguf_metadata(client):
    shown = client.show(SMALL_MODEL)
    assert "{%" in shown.template  # the GGUF's own chat template
    assert shown.modelinfo["general.architecture"] == "llama"
    assert shown.details.format == "gguf"


def test_chat_answers_with_counts_and_timings(client):
    response = client.chat(model=SMALL_MODEL, messages=QUESTION, options=GREEDY)
    assert response.done and response.message.role == "assistant"
    assert response.message.content.strip()
    assert 0 < response.eval_count <= GREEDY["num_predict"]
    assert response.prompt_eval_count > 5
    assert response.total_duration >= response.eval_duration > 0


def test_streamed_chat_equals_the_whole_answer(client):
    whole = client.chat(model=SMALL_MODEL, messages=QUESTION, options=GREEDY)
    parts = list(client.chat(model=SMALL_MODEL, messages=QUESTION, options=GREEDY, stream=True))
    assert len(parts) > 2
    assert [p.done for p in parts] == [False] * (len(parts) - 1) + [True]
    assert "".join(p.message.content for p in parts) == whole.message.content
    assert parts[-1].eval_count == whole.eval_count


def test_json_schema_format_constrains_the_reply(client):
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string", "enum": ["Yes", "No", "Undefined"]}},
        "required": ["answer"],
    }
    messages = [{"role": "user", "content": "Is the spleen an organ? Answer Yes, No or Undefined."}]
    response = client.chat(model=SMALL_MODEL, messages=messages, format=schema, options={**GREEDY, "num_predict": 32})
    jsonschema.validate(json.loads(response.message.content), schema)


def test_logprobs_and_top_logprobs_describe_each_generated_token(client):
    # Without a repeat penalty, greedy decoding picks the most likely token of the raw distribution.
    options = {**GREEDY, "repeat_penalty": 1.0}
    response = client.chat(model=SMALL_MODEL, messages=QUESTION, options=options, logprobs=True, top_logprobs=5)
    entries = response.logprobs
    assert len(entries) == response.eval_count
    assert "".join(e.token for e in entries) == response.message.content
    for entry in entries:
        assert entry.logprob <= 0
        assert len(entry.top_logprobs) == 5
        values = [alt.logprob for alt in entry.top_logprobs]
        assert values == sorted(values, reverse=True)
        assert entry.logprob == pytest.approx(values[0])


def test_generate_templates_the_prompt_unless_raw(client):
    templated = client.generate(model=SMALL_MODEL, prompt="Name one organ in the abdomen.", options=GREEDY)
    assert templated.response.strip() and templated.done
    raw = client.generate(model=SMALL_MODEL, prompt="The liver is an organ in the", raw=True, options=GREEDY)
    assert raw.prompt_eval_count < templated.prompt_eval_count


def test_stop_sequence_and_num_predict_end_generation(client):
    limited = client.generate(model=SMALL_MODEL, prompt="Count from 1 to 50.", options={**GREEDY, "num_predict": 3})
    assert limited.eval_count == 3 and limited.done_reason == "length"
    stopped = client.generate(model=SMALL_MODEL, prompt="1, 2, 3, 4, 5, 6,", raw=True, options={**GREEDY, "stop": ["9"]})
    assert "9" not in stopped.response and stopped.done_reason == "stop"


def test_unknown_model_is_ollamas_404(client):
    with pytest.raises(ollama.ResponseError) as raised:
        client.chat(model="nope:1b", messages=QUESTION)
    assert raised.value.status_code == 404
    assert raised.value.error == 'model "nope:1b" not found, try pulling it first'


def test_prompt_longer_than_num_ctx_is_refused_not_truncated(client):
    with pytest.raises(ollama.ResponseError) as raised:
        client.generate(model=SMALL_MODEL, prompt="liver " * 400, options={**GREEDY, "num_ctx": 256})
    assert raised.value.status_code == 400
    assert "num_ctx 256" in raised.value.error


def test_bad_requests_get_ollamas_error_body(server_url):
    not_json = httpx.post(f"{server_url}/api/chat", content=b"{not json")
    assert not_json.status_code == 400 and not_json.json()["error"].startswith("invalid JSON body")
    no_model = httpx.post(f"{server_url}/api/generate", json={"prompt": "hi"})
    assert no_model.status_code == 400 and no_model.json() == {"error": "model is required"}
    bad_format = httpx.post(f"{server_url}/api/chat", json={"model": SMALL_MODEL, "messages": QUESTION, "format": "xml"})
    assert bad_format.status_code == 400 and "invalid format" in bad_format.json()["error"]


def test_a_body_sent_as_curl_sends_it_is_accepted(server_url):
    # `curl -d '{...}'` labels JSON as a form; Ollama reads it anyway.
    body = json.dumps({"model": SMALL_MODEL, "prompt": "Hi", "stream": False, "options": {"num_predict": 2}})
    response = httpx.post(f"{server_url}/api/generate", content=body,
                          headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=120)
    assert response.status_code == 200 and response.json()["done"] is True


def test_an_answer_does_not_depend_on_the_request_before_it(client):
    # Two prompts sharing a long instruction prefix: the second is evaluated once after an unrelated prompt
    # (nothing reused) and once right after the first (the shared prefix reused). Same numbers, to the bit.
    instruction = "Read the impression below and say whether it reports active extravasation. " * 8
    def ask(text):
        response = client.chat(model=SMALL_MODEL, messages=[{"role": "user", "content": text}], logprobs=True,
                               top_logprobs=5, options={"temperature": 0, "seed": 1, "num_predict": 4})
        return [(entry.token, entry.logprob, [(top.token, top.logprob) for top in entry.top_logprobs])
                for entry in response.logprobs]
    ask("Say something else entirely.")
    cold = ask(instruction + "IMPRESSION: Splenic laceration with active extravasation.")
    ask(instruction + "IMPRESSION: No acute findings.")
    warm = ask(instruction + "IMPRESSION: Splenic laceration with active extravasation.")
    assert cold == warm


def test_a_last_assistant_message_is_continued_as_ollama_does(client):
    messages = [{"role": "user", "content": "Is the sky blue? Reply as JSON."},
                {"role": "assistant", "content": '{"answer": "'}]
    response = client.chat(model=SMALL_MODEL, messages=messages, options={"temperature": 0, "num_predict": 1},
                           logprobs=True, top_logprobs=5)
    assert response.eval_count == 1 and len(response.logprobs) == 1
    assert not response.message.content.startswith("{")  # the reply goes on from inside the JSON string


def test_a_stop_sequence_that_spans_several_tokens_ends_the_reply_before_it(client):
    """The grammar forces the reply, so the stop sequence is known to arrive split over tokens."""
    forced = {"type": "object", "properties": {"answer": {"enum": ["alpha beta gamma delta"]}}, "required": ["answer"]}
    whole = client.chat(model=SMALL_MODEL, messages=QUESTION, format=forced, options=GREEDY, logprobs=True)
    tokens = [entry.token for entry in whole.logprobs]
    assert "beta gam" in whole.message.content and not any("beta gam" in token for token in tokens)
    stopped = client.chat(model=SMALL_MODEL, messages=QUESTION, format=forced, options={**GREEDY, "stop": ["beta gam"]})
    assert stopped.message.content == whole.message.content.split("beta gam")[0]
    assert stopped.done_reason == "stop"


def test_a_request_with_another_num_ctx_reloads_the_model_with_that_context(client):
    client.chat(model=SMALL_MODEL, messages=QUESTION, options={**GREEDY, "num_ctx": 1024, "num_predict": 1})
    loaded = {m.model: m for m in client.ps().models}
    assert loaded[SMALL_MODEL].context_length == 1024
    client.chat(model=SMALL_MODEL, messages=QUESTION, options={**GREEDY, "num_ctx": 2048, "num_predict": 1})
    assert {m.model: m for m in client.ps().models}[SMALL_MODEL].context_length == 2048
