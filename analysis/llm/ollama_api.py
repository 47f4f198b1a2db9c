"""The Ollama backend: a real Ollama or the embedded server, through the official ``ollama`` client.

Ollama's chat response is the shape the whole pipeline reads, so a response
is kept as it arrives. Ollama runs each model's chat template as written, and
templates differ by model and by pull date; the first-token decision needs
the server to continue the reply's start (``{"answer": "``) as the model's
open turn, so the preflight renders the run's longest stage-1 request on the
server (``_debug_render_only``, Ollama 0.11.5 and later) and looks at how it
ends, and measures what the template adds around the messages.
"""

import re

import httpx
import ollama

from analysis.config import normalize_host
from analysis.llm.asking import build_request, words
from analysis.llm.preflight import FIRST_TOKEN, ModelCheck, add_note, has_chat_structure, structured_instead
from analysis.llm.backend import (
    ModelMissing,
    ModelNotLoaded,
    Refused,
    Backend,
    ServerTooOld,
    ServerUnavailable,
    Transient,
    warn_if_remote,
)

LOGPROBS_SINCE = (0, 12, 11)  # Ollama's release that returns logprobs and top_logprobs
DEBUG_RENDER_SINCE = (0, 11, 5)  # Ollama's release that answers _debug_render_only
# What Ollama says when it cannot load a model where its options put it: the out-of-memory lines of
# llm/status.go, llm/server.go's ErrLoadRequiredFull, and the scheduler's load errors (server/sched.go).
LOAD_FAILURE_SIGNS = (
    "unable to load", "out of memory", "out of device memory", "failed to allocate", "allocation failed",
    "not enough memory", "insufficient memory", "error loading model", "failed to load model",
    "cudamalloc failed", "hipmalloc failed", "requires more system memory",
)
# What a server says when a prompt does not fit its context, when the request says truncate: false: the embedded
# server; Ollama's own runner up to 0.24 (runner/llamarunner/runner.go at v0.24.0: "the input length exceeds the
# context length"); from 0.30, llama.cpp's llama-server as its runner, whose error body Ollama passes on
# (llm/llama_server.go at v0.33.0-rc2: "request (N tokens) exceeds the available context size (M tokens), try
# increasing it"), or its own words where context shift is off ("the prompt is longer than the context length ...").
TOO_LONG_SIGNS = ("num_ctx", "exceeds the context length", "exceeds the available context size",
                  "longer than the context length")
PROBE_TIMEOUT_S = 600  # a probe loads the model, as a run's first request does
# What /api/version says of a build from source without -ldflags "-X=github.com/ollama/ollama/version.Version=…"
# (version/version.go's default), and what the check then says.
UNKNOWN_VERSION_NOTE = ("version unknown: no release number (an Ollama built from source), so no version gate "
                        "applies and what the server can do was probed instead")
# Ollama's /api/show names the weights' blob in its modelfile: FROM .../blobs/sha256-<hex> (sha256:<hex> before).
WEIGHTS_BLOB = re.compile(r"^FROM \S*sha256[-:]([0-9a-f]{64})\s*$", re.MULTILINE)


def version_tuple(version: str) -> tuple[int, ...] | None:
    """``0.12.11`` as ``(0, 12, 11)``; None for what is not a release number (a development build says 0.0.0)."""
    parts = tuple(int(part) for part in re.findall(r"\d+", version.split("-")[0])[:3])
    return parts if len(parts) == 3 and parts != (0, 0, 0) else None


def weights_digest(modelfile: str) -> str | None:
    """The sha256 of a model's weights, read from the modelfile /api/show returns; None if it names no blob."""
    found = WEIGHTS_BLOB.search(modelfile or "")
    return found.group(1) if found else None


def is_load_failure(error: ollama.ResponseError) -> bool:
    """The server could not load the model: another try would fail the same way."""
    return error.status_code >= 500 and any(sign in str(error.error).lower() for sign in LOAD_FAILURE_SIGNS)


def is_transient(error: Exception) -> bool:
    """A failure that another try may not meet: the server restarting, overloaded or briefly unreachable."""
    if isinstance(error, ollama.ResponseError):
        return (error.status_code >= 500 or error.status_code == 429) and not is_load_failure(error)
    return isinstance(error, (ConnectionError, httpx.TransportError))


def not_loaded(host: str, tag: str, error: ollama.ResponseError) -> ModelNotLoaded:
    """The one line that stops a run whose model the server cannot load, with what to change."""
    return ModelNotLoaded(
        f"The LLM server at {host} could not load {tag} (HTTP {error.status_code}: {error.error}). "
        f"A model whose layers do not fit where its options put them is refused, not offloaded: remove or lower "
        f"num_gpu in this model's options in the run file (Ollama then offloads what fits), or free GPU memory. "
        f"Everything answered so far is in the response cache."
    )


class OllamaBackend(Backend):
    """An Ollama server (or the embedded one), asked through the official ``ollama`` client."""

    backend = "ollama"
    logprobs_hint = "Ollama returns them from 0.12.11 on"

    def __init__(self, host: str, client: ollama.Client, version: str, number: str = "", workers: int = 1,
                 models: list[str] | None = None):
        super().__init__(host, version, number, workers, models)
        self.client = client

    @classmethod
    def connect(cls, host: str, workers: int = 1, models: list[str] | None = None) -> "OllamaBackend":
        """The server at ``host``, checked to answer."""
        host = normalize_host(host)
        warn_if_remote(host)
        try:
            response = httpx.get(f"{host}/api/version", timeout=10)
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise ServerUnavailable(
                f"No LLM server answers at {host} ({type(error).__name__}). "
                f"Start one with `make serve` (embedded models) or `ollama serve` (Ollama)."
            ) from None
        body = response.json()
        number = str(body.get("version", "unknown"))
        return cls(host, ollama.Client(host=host), body.get("server") or f"ollama {number}", number, workers, models)

    def describe_models(self, tags: list[str]) -> dict[str, dict]:
        """Digest and details of each requested model; a missing one stops with the command that fixes it.

        ``digest`` is what /api/tags lists: on Ollama, the hash of the model's
        manifest, which changes with its template, system prompt or parameters
        as well as with its weights (the response cache keys on it, so a
        re-pull that changes any of them asks again). ``weights`` is the
        weights' own sha256 where /api/show names their blob.
        """
        available = {m.model: m for m in self.client.list().models}
        described = {}
        for tag in tags:
            model = available.get(tag) or available.get(f"{tag}:latest")
            if model is None:
                raise ModelMissing(
                    f"The server at {self.host} has no model {tag}. "
                    f"Fix: `ollama pull {tag}` on an Ollama server, or `make setup` for the embedded models."
                )
            details = model.details.model_dump(exclude_none=True) if model.details else {}
            weights = weights_digest(self.client.show(tag).modelfile)
            described[tag] = {"digest": model.digest, "size": model.size, **details,
                              **({"weights": weights} if weights else {})}
        return described

    def outgoing(self, request: dict) -> dict:
        """The pipeline's requests are Ollama's."""
        return request

    def chat(self, sent: dict, timeout_s: float) -> dict:
        """Ollama's response, as it arrives: the pipeline reads this shape."""
        try:
            # The official client's request path, with its errors; its chat() cannot send `truncate`,
            # and its response model would drop fields the cache keeps for reviewers.
            return self.client._request_raw("POST", "/api/chat", json={**sent, "stream": False},
                                            timeout=timeout_s).json()
        except (ollama.ResponseError, ConnectionError, httpx.TransportError) as error:
            raise self._failure(error, sent["model"]) from None

    def _failure(self, error: Exception, tag: str) -> Exception:
        """``error`` as the pipeline's kind of failure."""
        if is_transient(error):
            return Transient(f"{type(error).__name__}: {error}", timed_out=isinstance(error, httpx.TimeoutException))
        if is_load_failure(error):
            return not_loaded(self.host, tag, error)
        return Refused(error.status_code, str(error.error),
                       too_long=error.status_code == 400 and any(sign in str(error.error) for sign in TOO_LONG_SIGNS),
                       hint=f" (`ollama pull {tag}`)" if error.status_code == 404 else "")

    @property
    def version_note(self) -> str:
        return "" if version_tuple(self.number) else UNKNOWN_VERSION_NOTE

    def require(self) -> None:
        """Refuse a server whose version returns no log-probabilities; one without a release number is probed
        instead, model by model (``check_model``)."""
        version = version_tuple(self.number)
        if version is not None and version < LOGPROBS_SINCE:
            raise ServerTooOld(
                f"The LLM server at {self.host} is Ollama {self.number}; this pipeline reads answers from "
                f"log-probabilities, which Ollama returns from version {'.'.join(map(str, LOGPROBS_SINCE))} on. "
                f"Upgrade Ollama (https://ollama.com/download) and run the same command again."
            )

    def check_model(self, run, task, tag: str, longest_text: str) -> ModelCheck:
        """The run's longest request for ``tag`` as this server renders it: does it end with the answer prefix,
        open, does the template mark the turns at all, and what does it add around the messages?

        Where the prefix is not left open (a template that closes every
        assistant turn), or the server cannot show it, the model writes its
        JSON answer instead. The bytes the template adds become the room every
        request of that model leaves for it (a token covers at least one byte).
        """
        options = run.options_for(tag, task)
        request = build_request(tag, task, longest_text, options, probe=task.longest_probe)
        version = version_tuple(self.number)
        # A release this old is refused before any model is checked (``require``); one without a number is probed.
        check = ModelCheck(tag=tag, decision=task.decision, open_turn=None, num_ctx=options["num_ctx"],
                           logprobs=True if version else self._probe_logprobs(tag, options))
        if version is None:
            refuses = self._probe_truncate(tag, options)
            add_note(check, "probed: log-probabilities yes; an over-long prompt with truncate: false is " + (
                "refused" if refuses else "cut, not refused (each answer's prompt_eval_count shows a cut prompt)"))
        if version is not None and version < DEBUG_RENDER_SINCE:
            return structured_instead(check, task, f"Ollama {self.number} cannot show a rendered prompt")
        rendered = self._rendered(request)
        if rendered is None:
            return structured_instead(check, task, "the server did not show the rendered prompt")
        message_bytes = sum(len(m["content"].encode("utf-8")) for m in request["messages"])
        check.template_bytes = max(len(rendered.encode("utf-8")) - message_bytes, 0)
        # Less a word per message: the template may glue a message's first or last word to its markers.
        message_words = sum(words(m["content"]) for m in request["messages"])
        check.template_words = max(words(rendered) - message_words - 2 * len(request["messages"]), 0)
        check.longest_prompt_bytes = len(rendered.encode("utf-8")) + max(options.get("num_predict", 0), 0)
        check.rendered_end = rendered[-60:]
        check.chat_structure = has_chat_structure(rendered, request["messages"])
        if not check.chat_structure:
            add_note(check, "the template adds no chat structure: the request is the messages' text alone")
        if task.decision == FIRST_TOKEN:
            # The answer prefix as sent (a task with probes names the probe in it).
            check.open_turn = rendered.endswith(request["messages"][-1]["content"])
            if not check.open_turn:
                return structured_instead(check, task, "the template closes the reply's turn")
        return check

    def _probe_logprobs(self, tag: str, options: dict) -> bool:
        """Whether a server without a version number returns log-probabilities for ``tag``; one that does not is
        refused, as a release before them is."""
        probe = {"model": tag, "messages": [{"role": "user", "content": "Reply with the word yes."}],
                 "options": {**options, "num_predict": 2}, "logprobs": True, "top_logprobs": 1}
        if self.chat(probe, timeout_s=PROBE_TIMEOUT_S).get("logprobs"):
            return True
        raise ServerTooOld(
            f"The LLM server at {self.host} reports Ollama {self.number}, no release number (a build from source), "
            f"and returned no log-probabilities when {tag} was asked for them; this pipeline reads answers from "
            f"log-probabilities. Build Ollama 0.12.11 or later, or run a release (https://ollama.com/download)."
        )

    def _probe_truncate(self, tag: str, options: dict) -> bool:
        """Whether a server without a version number refuses a prompt over ``num_ctx`` when told truncate: false
        (Ollama from 0.12.6), rather than cutting it."""
        too_long = "yes " * (options["num_ctx"] + 16)  # each word at least one token
        probe = {"model": tag, "messages": [{"role": "user", "content": too_long}],
                 "options": {**options, "num_predict": 1}, "truncate": False}
        try:
            self.chat(probe, timeout_s=PROBE_TIMEOUT_S)
        except Refused as refusal:
            if refusal.too_long:
                return True
            raise
        return False

    def _rendered(self, request: dict) -> str | None:
        """``request`` as the server renders it with the model's template; None where it does not show it."""
        try:
            body = self.client._request_raw("POST", "/api/chat",
                                            json={**request, "stream": False, "_debug_render_only": True})
        except ollama.ResponseError as error:
            if is_load_failure(error):  # rendering loads the model too
                raise not_loaded(self.host, request["model"], error) from None
            raise
        return body.json().get("_debug_info", {}).get("rendered_template")
