"""One LLM server as the pipeline sees it, whatever API it speaks: the interface each backend implements.

The pipeline's requests and responses are in Ollama's API (a chat request
with ``messages``, ``options``, ``format``; a response with
``message.content``, ``done_reason``, ``logprobs``, ``prompt_eval_count``).
A backend (``analysis.llm.ollama_api``, ``analysis.llm.openai_api``) knows
how its server identifies a model, how to translate a request into its own
API and the response back, sending it through its official client, which
of its failures another try may cure, and what its server supports of the
first-token decision.
Everything else (the response cache, retries, reading answers, the
preflight's table, spreading reports over servers) is the same for every
backend.
"""

import sys
from abc import ABC, abstractmethod
from typing import ClassVar

from analysis.config import is_local


class ServerUnavailable(RuntimeError):
    pass


class ServerTooOld(ServerUnavailable):
    """The server cannot give what the run needs (log-probabilities)."""


class ServerLost(ServerUnavailable):
    """The server stopped answering part-way through a run, after every retry."""


class ModelMissing(RuntimeError):
    pass


class ModelNotLoaded(RuntimeError):
    """The server could not load a model (e.g. more layers asked on the GPU than fit): retrying cannot help."""


class RequestRefused(RuntimeError):
    """The server refused a request for a reason another try cannot change (HTTP 400 or 404)."""


class Transient(Exception):
    """A failure that another try may not meet: the server restarting, overloaded, unreachable or slow."""

    def __init__(self, message: str, timed_out: bool = False):
        super().__init__(message)
        self.timed_out = timed_out


class Refused(Exception):
    """The server refused one request (HTTP 4xx): ``too_long`` when its prompt does not fit the context,
    ``hint`` what would fix it."""

    def __init__(self, status: int, message: str, too_long: bool = False, hint: str = ""):
        super().__init__(message)
        self.status, self.message, self.too_long, self.hint = status, message, too_long, hint


def warn_if_remote(host: str) -> None:
    if not is_local(host):
        print(
            f"WARNING: the LLM server {host} is not this machine: report text will be sent there. "
            f"Reports are protected health information; use a server you are allowed to send them to.",
            file=sys.stderr,
        )


class Backend(ABC):
    """One LLM server of a run: its address, what it calls itself, the requests in flight it takes, and the
    run's models it serves (None: every one)."""

    backend: ClassVar[str]
    # What to do about answers that come without log-probabilities, for the reason of such an answer.
    logprobs_hint: ClassVar[str]

    def __init__(self, host: str, version: str, number: str = "", workers: int = 1, models: list[str] | None = None):
        self.host = host
        self.version = version  # what the server calls itself, e.g. "ollama 0.12.11"
        self.number = number  # its version number alone
        self.workers = workers
        self.models = models

    def serves(self, tag: str) -> bool:
        return self.models is None or tag in self.models

    @abstractmethod
    def describe_models(self, tags: list[str]) -> dict[str, dict]:
        """``{tag: {"digest": ..., ...}}``: each model's identity as this server reports it (the response
        cache keys on the digest) and its details; a missing model raises ``ModelMissing``."""

    @abstractmethod
    def outgoing(self, request: dict) -> dict:
        """The pipeline's request (``analysis.llm.asking.build_request``) as this server's API takes it: what is
        sent, stored with its response, and keyed on."""

    @abstractmethod
    def chat(self, sent: dict, timeout_s: float) -> dict:
        """The response to ``sent`` in the pipeline's shape, any other body of the server's kept with it; raises
        ``Transient``, ``Refused`` or ``ModelNotLoaded``."""

    def require(self) -> None:
        """Refuse a server that cannot give what the run needs; by default none is refused before the run (each
        answer is checked as it arrives)."""

    @property
    def version_note(self) -> str:
        """What the check says about the server's version beside its name; by default nothing."""
        return ""

    @abstractmethod
    def check_model(self, run, task, tag: str, longest_text: str):
        """What this server does with ``task`` for ``tag``, asked before the run with the run's longest text:
        an ``analysis.llm.preflight.ModelCheck``."""
