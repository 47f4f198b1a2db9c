"""The OpenAI-compatible backend: vLLM, SGLang, llama.cpp's llama-server, through the official ``openai`` client.

The same tasks are asked as chat completions. Stage 1's first-token decision
is a completion of one token (``max_tokens: 1``) with ``logprobs`` and
``top_logprobs``, whose messages end with the answer prefix as an assistant
message for the engine to continue (``continue_final_message: true,
add_generation_prompt: false``: vLLM's fields, which llama-server reads
too); a written answer is held to the task's JSON schema by
``response_format``. Whether an engine does both for a model is found out
before the run (``check_model``). A response is read into the pipeline's
shape (Ollama's chat response), the rest of the engine's body kept beside it
under ``completion``.

A model's identity is what the server reports of it in ``/v1/models``, less
what describes how it is served (its context, aliases, the time): vLLM's
``id`` and ``root`` (the weights' repository or folder), llama-server's
``id`` and the GGUF's size, parameters, vocabulary and quantization.
"""

import hashlib
import json
import os

import httpx
import openai

from analysis.llm.answers import begins_answer, parse_answer
from analysis.llm.asking import answer_room, build_request
from analysis.llm.cache import PLACEMENT_OPTIONS
from analysis.llm.preflight import (
    FIRST_TOKEN,
    STRUCTURED,
    ModelCheck,
    add_note,
    structured_instead,
)
from analysis.llm.backend import (
    ModelMissing,
    Refused,
    Backend,
    ServerUnavailable,
    Transient,
    warn_if_remote,
)
from analysis.specs import SpecError

# Seconds to wait for the server's list of models and its version.
LISTING_TIMEOUT_S = 10
# The run's options that OpenAI's chat completions carry, under their names there.
SAMPLING_FIELDS = {"temperature": "temperature", "seed": "seed", "top_p": "top_p", "stop": "stop"}
# Sampling options OpenAI's API lacks, which vLLM, SGLang and llama-server read from the request body.
ENGINE_FIELDS = {"top_k": "top_k", "min_p": "min_p"}
# Options with no field in a request: the server's context and placement are set when it starts, and the
# answer's length is set by the task (one token after the prefix, or num_predict as max_tokens).
NOT_SENT = {"num_ctx", "num_predict", *PLACEMENT_OPTIONS}
# The engine goes on from the last assistant message instead of opening a new turn after it.
CONTINUE_PREFIX = {"continue_final_message": True, "add_generation_prompt": False}
# Fields of a /v1/models entry that say how or since when a model is served, not which model it is: OpenAI's
# `created`, `object` and `owned_by`, vLLM's `permission` and `max_model_len`, llama-server's `aliases`, `tags`,
# `status`, `architecture` and its context per slot (`meta.n_ctx`).
SERVING_FIELDS = {"created", "object", "owned_by", "permission", "max_model_len", "aliases", "tags", "status",
                  "architecture"}
SERVING_META_FIELDS = {"n_ctx"}
# What the engines say when a prompt does not fit: vLLM ("maximum context length", "maximum model length"),
# SGLang ("longer than the model's context length"), llama-server ("exceeds the available context size").
TOO_LONG_SIGNS = ("context length", "maximum model length", "context size", "context_length_exceeded")


def served_identity(entry: dict) -> dict:
    """Which model a /v1/models entry names: the entry without its serving fields."""
    identity = {key: value for key, value in entry.items() if key not in SERVING_FIELDS}
    if isinstance(identity.get("meta"), dict):
        identity["meta"] = {key: value for key, value in identity["meta"].items() if key not in SERVING_META_FIELDS}
    return identity


def served_context(entry: dict) -> int | None:
    """The tokens one request may hold on this server, where it says: vLLM's max_model_len, llama-server's context
    per slot."""
    return entry.get("max_model_len") or (entry.get("meta") or {}).get("n_ctx")


def error_message(error: openai.APIStatusError) -> str:
    """What the server said: the ``message`` of its error body (OpenAI's, vLLM's and llama-server's shape)."""
    body = error.body
    return body["message"] if isinstance(body, dict) and isinstance(body.get("message"), str) else str(body or error)


def pipeline_response(completion, request: dict) -> dict:
    """A chat completion in the shape the pipeline reads (Ollama's chat response), the rest of its body under
    ``completion``.

    llama-server puts a continued assistant message back at the start of the
    reply's content; the content here is what the model wrote, as vLLM returns it.
    """
    body = completion.model_dump(mode="json", exclude_unset=True)
    choice = completion.choices[0]
    content = choice.message.content or ""
    if request.get("extra_body", {}).get("continue_final_message"):
        content = content.removeprefix(request["messages"][-1]["content"])
    response = {"model": completion.model, "message": {"role": "assistant", "content": content},
                "done_reason": choice.finish_reason}
    if choice.logprobs and choice.logprobs.content:
        # Moved out of the body, not copied: the alternatives at every token of a written answer are most of it.
        response["logprobs"] = body["choices"][0].pop("logprobs")["content"]
    if completion.usage:
        response |= {"prompt_eval_count": completion.usage.prompt_tokens,
                     "eval_count": completion.usage.completion_tokens}
    return response | {"completion": body}


def continued(response: dict, task) -> bool:
    """Whether the engine went on from the answer prefix: the reply's first token begins an allowed answer, where a
    new turn would begin with the JSON's opening brace or with words."""
    first = response["logprobs"][0] if response.get("logprobs") else {"token": response["message"]["content"]}
    return begins_answer(first, task.answers)


def measured(check: ModelCheck, response: dict, request: dict) -> ModelCheck:
    """``check`` with the longest prompt's tokens as the server counted them, and the answer's room, as a request
    must leave it."""
    if response.get("prompt_eval_count") is not None:
        check.longest_prompt_tokens = response["prompt_eval_count"] + answer_room(request)
    return check


def schema_held(response: dict, task) -> bool | None:
    """Whether a written answer kept to the task's schema; None when it was cut off before it could end."""
    if parse_answer(response, task)[0] is not None:
        return True
    return None if response.get("done_reason") == "length" else False


def engine_number(base_url: str) -> str:
    """The engine's version where it says: vLLM's and SGLang's /version, llama-server's build in /props."""
    root = base_url.removesuffix("/v1")
    for path, field in (("/version", "version"), ("/props", "build_info")):
        try:
            response = httpx.get(f"{root}{path}", timeout=LISTING_TIMEOUT_S)
        except httpx.HTTPError:
            continue
        answered = response.status_code == 200 and response.headers.get("content-type", "").startswith("application/json")
        if answered and (number := response.json().get(field)):
            return str(number)
    return ""


class OpenAIBackend(Backend):
    """An OpenAI-compatible server, asked through the official ``openai`` client."""

    backend = "openai"
    logprobs_hint = "`python -m analysis check` shows which models of this server return them"

    def __init__(self, host: str, client: openai.OpenAI, version: str, number: str = "", workers: int = 1,
                 models: list[str] | None = None):
        super().__init__(host, version, number, workers, models)
        self.client = client
        self.contexts: dict[str, int | None] = {}  # tag -> its context on this server, once described

    @classmethod
    def connect(cls, base_url: str, workers: int = 1, models: list[str] | None = None) -> "OpenAIBackend":
        """The server at ``base_url`` (e.g. ``http://gpu1:8000/v1``), checked to answer; it calls itself by the
        owner its models list (vllm, sglang, llamacpp) and its version."""
        base_url = base_url.rstrip("/")
        warn_if_remote(base_url)
        # An engine started without --api-key accepts any key; the client insists on one. Retries are the run's.
        client = openai.OpenAI(base_url=base_url, api_key=os.environ.get("OPENAI_API_KEY") or "unused",
                               max_retries=0, timeout=LISTING_TIMEOUT_S)
        try:
            listed = client.models.list().data
        except openai.APIError as error:
            raise ServerUnavailable(
                f"No OpenAI-compatible LLM server answers at {base_url} ({type(error).__name__}). Start one "
                f"(`vllm serve MODEL --served-model-name TAG`, `llama-server -m FILE --alias TAG`) or correct "
                f"hosts: in the run file."
            ) from None
        number = engine_number(base_url)
        engine = listed[0].owned_by if listed else "OpenAI-compatible server"
        return cls(base_url, client, f"{engine} {number}".strip(), number, workers, models)

    def describe_models(self, tags: list[str]) -> dict[str, dict]:
        """Each model's identity as the server reports it (``served``), its hash (``digest``), and its context."""
        listed = self.client.models.list().data
        served = {model.id: model.model_dump(mode="json", exclude_unset=True) for model in listed}
        described = {}
        for tag in tags:
            if tag not in served:
                raise ModelMissing(
                    f"The server at {self.host} serves no model {tag} (it serves {', '.join(served) or 'none'}). "
                    f"Fix: serve the model under that name (vLLM --served-model-name {tag}, llama-server --alias "
                    f"{tag}) or change the tag in the run file."
                )
            identity = served_identity(served[tag])
            self.contexts[tag] = served_context(served[tag])
            digest = hashlib.sha256(json.dumps(identity, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
            described[tag] = {"digest": digest, "served": identity,
                              **({"context": self.contexts[tag]} if self.contexts[tag] else {})}
        return described

    def outgoing(self, request: dict) -> dict:
        """The keyword arguments of one ``chat.completions.create`` call (engine fields under ``extra_body``).

        A request that ends with an assistant message asks for that message to
        be continued; one with a ``format`` for a written answer held to it.
        ``keep_alive`` and ``truncate`` have no equivalent: an engine keeps its
        model loaded, and refuses a prompt that does not fit.
        """
        options = request["options"]
        unknown = sorted(set(options) - SAMPLING_FIELDS.keys() - ENGINE_FIELDS.keys() - NOT_SENT)
        if unknown:
            raise SpecError(f"option(s) {unknown} have no equivalent on an OpenAI-compatible server; "
                            f"remove them from the run file")
        sent = {"model": request["model"], "messages": request["messages"],
                **{SAMPLING_FIELDS[name]: value for name, value in options.items() if name in SAMPLING_FIELDS},
                "logprobs": request["logprobs"], "top_logprobs": request["top_logprobs"]}
        if options.get("num_predict", 0) > 0:
            sent["max_tokens"] = options["num_predict"]
        extra = {ENGINE_FIELDS[name]: value for name, value in options.items() if name in ENGINE_FIELDS}
        if request["messages"][-1]["role"] == "assistant":
            extra |= CONTINUE_PREFIX
        if request.get("format"):
            sent["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "answer", "schema": request["format"], "strict": True}}
        return sent | ({"extra_body": extra} if extra else {})

    def chat(self, sent: dict, timeout_s: float) -> dict:
        try:
            completion = self.client.chat.completions.create(**sent, timeout=timeout_s)
        except openai.APIError as error:
            raise self._failure(error) from None
        return pipeline_response(completion, sent)

    @staticmethod
    def _failure(error: openai.APIError) -> Exception:
        """``error`` as the pipeline's kind of failure."""
        name = f"{type(error).__name__}: {error}"
        if isinstance(error, openai.APIConnectionError):  # a timeout is one too
            return Transient(name, timed_out=isinstance(error, openai.APITimeoutError))
        if isinstance(error, openai.APIStatusError) and error.status_code < 500 and error.status_code != 429:
            message = error_message(error)
            return Refused(error.status_code, message,
                           too_long=error.status_code == 400 and any(sign in message.lower() for sign in TOO_LONG_SIGNS),
                           hint=" (the server serves no model of that name)" if error.status_code == 404 else "")
        return Transient(name)  # a server error, an overload, or a body the client could not read

    def _probe(self, request: dict, timeout_s: float) -> dict | Refused:
        """The response to one request of the preflight, or the server's refusal of it."""
        try:
            return self.chat(self.outgoing(request), timeout_s)
        except Refused as refused:
            return refused
        except Transient as error:
            raise ServerUnavailable(f"The LLM server at {self.host} did not answer the preflight ({error}).") from None

    def check_model(self, run, task, tag: str, longest_text: str) -> ModelCheck:
        """Two requests with the run's longest text: a written answer under the task's schema (is the schema held,
        are log-probabilities returned?) and, for the first-token decision, one token after the answer prefix
        (is the prefix continued?). The prompt tokens the server counts say whether the longest prompt fits."""
        options = run.options_for(tag, task)
        served = self.contexts.get(tag) or options["num_ctx"]
        check = ModelCheck(tag=tag, decision=task.decision, open_turn=None, num_ctx=min(options["num_ctx"], served))
        if served < options["num_ctx"]:
            add_note(check, f"the server's context is {served} tokens, less than num_ctx: a longer prompt is refused")
        written_task = task.model_copy(update={"decision": STRUCTURED})
        written_request = build_request(tag, written_task, longest_text, options, probe=task.longest_probe)
        written = self._probe(written_request, run.requests.timeout_s)
        if isinstance(written, Refused):
            check.json_schema = False
            add_note(check, f"it refuses response_format (HTTP {written.status}: {written.message})")
        else:
            check.logprobs = bool(written.get("logprobs"))
            measured(check, written, written_request)
            check.json_schema = schema_held(written, written_task)
            if check.json_schema is None:
                add_note(check, "its written answer was cut off by num_predict before it could be checked")
            elif not check.json_schema:
                add_note(check, "its written answer did not keep to the schema: each is checked as it arrives")
        if task.decision != FIRST_TOKEN:
            return check
        first_request = build_request(tag, task, longest_text, options, probe=task.longest_probe)
        first = self._probe(first_request, run.requests.timeout_s)
        if isinstance(first, Refused):
            check.open_turn = False
            return structured_instead(check, task, f"it refuses to continue the answer prefix "
                                                   f"(HTTP {first.status}: {first.message})")
        check.open_turn, check.logprobs = continued(first, task), bool(first.get("logprobs"))
        measured(check, first, first_request)
        if not check.logprobs:
            return structured_instead(check, task, "it returns no log-probabilities")
        if not check.open_turn:
            return structured_instead(check, task, "it opens a new turn after the answer prefix")
        return check
