"""Ollama's own behaviours where they differ from the embedded server's, reproduced for the tests.

The embedded server is kinder than Ollama in places: it continues a last
assistant message whatever the model's template, always returns
log-probabilities, refuses an over-long prompt instead of cutting it, and
reports the weights' sha256 as a model's digest. ``python -m analysis serve
--as-ollama FILE`` (a YAML file of the fields below) makes it behave as
Ollama does instead, one behaviour per field, each as Ollama's source does it
(github.com/ollama/ollama; the file is named beside each field), so that the
pipeline can be tested against what users meet on a GPU box.
"""

import hashlib
import json
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

# Versions of Ollama that brought what the pipeline uses (their release tags).
DEBUG_RENDER_SINCE = "0.11.5"  # `_debug_render_only` (server/routes.go)
TRUNCATE_FIELD_SINCE = "0.12.6"  # the request's `truncate` (api/types.go)
LOGPROBS_SINCE = "0.12.11"  # `logprobs` and `top_logprobs` (api/types.go)
# llama.cpp's llama-server as Ollama's runner (llm/llama_server.go, first in v0.30.0; v0.24.0 ran its own runners,
# runner/llamarunner and runner/ollamarunner, which v0.30.0 no longer has).
LLAMA_SERVER_RUNNER_SINCE = "0.30.0"

# What Ollama answers when llama.cpp cannot lay a model out in memory, with a status line of llm/status.go:
# its own runner's words (llm/server.go at v0.24.0, "llama runner process has terminated: %s"), then
# llama-server's (llm/llama_server.go at v0.33.0-rc2, "llama-server process has terminated: %s").
OUT_OF_MEMORY = "cudaMalloc failed: out of memory"
LOAD_FAILURE = {"runner": f"llama runner process has terminated: {OUT_OF_MEMORY}",
                "llama-server": f"llama-server process has terminated: {OUT_OF_MEMORY}"}
# What the runner answers for a prompt over the context when the request says truncate: false
# (runner/llamarunner/runner.go at v0.24.0, errorInputTooLong).
INPUT_TOO_LONG = "the input length exceeds the context length"


def llama_server_too_long(prompt_tokens: int, num_ctx: int) -> str:
    """llama-server's body for a prompt over its context, which Ollama from 0.30 passes on whole as its error
    (llm/llama_server.go at v0.33.0-rc2: Completion and Chat return statusErrorMessage(body), the body as read;
    the message is llama.cpp's, as llm/llama_server_test.go there quotes it)."""
    return json.dumps({"error": {
        "code": 400, "type": "exceed_context_size_error", "n_prompt_tokens": prompt_tokens, "n_ctx": num_ctx,
        "message": f"request ({prompt_tokens} tokens) exceeds the available context size ({num_ctx} tokens), "
                   f"try increasing it"}}, separators=(",", ":"))


def bare_template_prompt(messages: list[dict]) -> str:
    """A chat as Ollama's bare template ``{{ .Prompt }}`` renders it (template/template.go at v0.24.0: Parse appends
    ``{{ .Response }}`` to a template without one; Execute, lacking ``.Messages``, renders each user message with
    the reply after it, consecutive messages of one role joined by a blank line): the text, with no role marker,
    and no system message, which that template has no place for."""
    collated: list[dict] = []
    for message in messages:
        if collated and collated[-1]["role"] == message["role"]:
            collated[-1] = {**collated[-1], "content": collated[-1]["content"] + "\n\n" + message["content"]}
        else:
            collated.append(dict(message))
    rendered, prompt, response = [], "", ""
    for message in collated:
        if message["role"] in ("system", "user") and (response or (message["role"] == "system" and prompt)):
            rendered.append(prompt + response)
            prompt, response = "", ""
        if message["role"] == "user":
            prompt = message["content"]
        elif message["role"] == "assistant":
            response = message["content"]
    return "".join(rendered) + prompt + response


def version_tuple(version: str) -> tuple[int, ...]:
    """``0.12.11`` as ``(0, 12, 11)``; pre-release suffixes (``0.13.0-rc1``) are ignored."""
    return tuple(int(part) for part in version.split("-")[0].split(".") if part.isdigit())


def at_least(version: str, since: str) -> bool:
    return version_tuple(version) >= version_tuple(since)


class OllamaBehaviour(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(LOGPROBS_SINCE, description="What /api/version reports, and what this version of "
                         "Ollama supports: logprobs from 0.12.11, truncate from 0.12.6, _debug_render_only from 0.11.5.")
    built_from: str | None = Field(None, description="A build from source reports version 0.0.0 "
                                   "(version/version.go) whatever it can do: the release whose source it was built "
                                   "from, which decides what it supports; none: the version it reports.")
    aliases: dict[str, str] = Field({}, description="Tags served by an embedded model's weights, e.g. "
                                    "llama3.1:70b: qwen2.5-coder:1.5b, so that the paper's run file runs unchanged.")
    closed_turn: list[str] = Field([], description="Tags whose chat template closes every assistant turn, the "
                                   "last one too (template/mistral-instruct.gotmpl): a reply prefix is not continued.")
    truncate: bool = Field(False, description="Cut an over-long prompt as Ollama does (server/prompt.go: drop the "
                           "earliest messages, keep the last; then the runner keeps the start and the end) "
                           "instead of refusing it; a request's truncate: false is honoured from 0.12.6.")
    ignore_truncate_false: bool = Field(False, description="Cut even when the request says truncate: false.")
    system: dict[str, str] = Field({}, description="A tag's Modelfile SYSTEM prompt, which Ollama puts before the "
                                   "messages when they hold no system message (server/routes.go ChatHandler).")
    end_at_once: list[str] = Field([], description="Tags whose first chosen token ends the reply: Ollama then "
                                   "returns no content and no log-probabilities.")
    removed_after: dict[str, int] = Field({}, description="Tags removed (`ollama rm`) after this many chat "
                                          "requests: later ones get Ollama's 404 (server/routes.go ChatHandler).")
    gpu_layers: dict[str, int] = Field({}, description="Layers of a tag that fit on the GPU: a request whose "
                                       "num_gpu asks for more fails to load (HTTP 500, llm/llama_server.go).")
    manifest_digests: bool = Field(False, description="/api/tags gives the hash of the model's manifest "
                                   "(server/images.go), /api/show's modelfile names the weights' blob.")
    template_less: list[str] = Field([], description="Tags created from a GGUF file by a Modelfile without "
                                     "TEMPLATE, whose own chat template matches no entry of Ollama's template/index.json "
                                     "(server/model.go detectChatTemplate; template/template.go Named: edit distance "
                                     "under 100; Qwen2.5's has none): before 0.30 they get the bare {{ .Prompt }} "
                                     "(server/images.go), from 0.30 llama-server applies the GGUF's own template "
                                     "(server/routes.go chatModeForModel: no Go template, native chat).")

    def supports(self, since: str) -> bool:
        return at_least(self.built_from or self.version, since)

    @property
    def runner(self) -> str:
        """The runner of this version: Ollama's own (``runner``) or llama.cpp's llama-server."""
        return "llama-server" if self.supports(LLAMA_SERVER_RUNNER_SINCE) else "runner"

    def bare_template(self, tag: str) -> bool:
        """Whether ``tag`` is rendered by the bare ``{{ .Prompt }}``: imported without a template, before
        llama-server applied the GGUF's own."""
        return tag in self.template_less and self.runner == "runner"

    def too_long(self, prompt_tokens: int, num_ctx: int) -> str:
        """This version's error for a prompt over ``num_ctx`` when the request says truncate: false."""
        return llama_server_too_long(prompt_tokens, num_ctx) if self.runner == "llama-server" else INPUT_TOO_LONG

    def weights_of(self, tag: str) -> str:
        """The embedded model whose weights answer for ``tag``."""
        return self.aliases.get(tag, tag)

    def manifest_digest(self, tag: str, weights_sha256: str, template: str) -> str:
        """A stand-in for Ollama's manifest digest: it changes with the template and system prompt as well as
        with the weights."""
        manifest = {"weights": weights_sha256, "template": hashlib.sha256(template.encode()).hexdigest(),
                    "closes_turn": tag in self.closed_turn, "system": self.system.get(tag, "")}
        return hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()

    def load_failure(self, tag: str, options: dict | None) -> str | None:
        """Ollama's error body when ``num_gpu`` asks for more layers than the GPU holds; None if it loads."""
        wanted = (options or {}).get("num_gpu")
        fits = self.gpu_layers.get(tag)
        if fits is not None and wanted is not None and wanted > fits:
            return LOAD_FAILURE[self.runner]
        return None


def load_behaviour(path: Path) -> OllamaBehaviour:
    return OllamaBehaviour.model_validate(yaml.safe_load(Path(path).read_text()) or {})
