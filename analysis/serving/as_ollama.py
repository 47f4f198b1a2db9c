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

# What Ollama answers when llama.cpp cannot lay a model out in memory: llm/llama_server.go
# ("llama-server process has terminated: %s") with a status line of llm/status.go.
LOAD_FAILURE = "llama-server process has terminated: cudaMalloc failed: out of memory"
# What the runner answers for a prompt over the context when the request says truncate: false
# (runner/llamarunner/runner.go errorInputTooLong).
INPUT_TOO_LONG = "the input length exceeds the context length"


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

    def supports(self, since: str) -> bool:
        return at_least(self.built_from or self.version, since)

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
            return LOAD_FAILURE
        return None


def load_behaviour(path: Path) -> OllamaBehaviour:
    return OllamaBehaviour.model_validate(yaml.safe_load(Path(path).read_text()) or {})
