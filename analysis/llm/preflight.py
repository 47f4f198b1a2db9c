"""Before a run asks anything: can this server's answers be trusted, and how must each model be asked?

Ollama runs each model's chat template as written, and templates differ by
model and by pull date; the first-token decision needs the server to continue
the reply's start (``{"answer": "``) as the model's open turn. So for every
model of the run, before the first report:

- the server and its version: one without log-probabilities (Ollama before
  0.12.11) is refused, naming the version needed;
- the model is there (else the ``ollama pull`` line);
- the stage-1 request for the run's longest prompt, as the server renders it
  (``_debug_render_only``, Ollama 0.11.5 and later): does it end with the answer
  prefix, open? Where it does not (a template that closes every assistant
  turn), or where the server cannot show it, that model's stage 1 uses the
  structured decision (the model writes the JSON answer; ``p_yes`` is read at
  its answer token);
- the rendered prompt, the template's own text (system prompt, Modelfile
  messages) included, against ``num_ctx``; the bytes the template adds become
  the room every request of that model leaves for it (a token covers at least
  one byte);
- answers in the response cache that another server version gave.
"""

import re
from dataclasses import asdict, dataclass, field

import ollama

from analysis.llm.asking import build_request, is_load_failure, not_loaded, words
from analysis.llm.cache import ResponseCache
from analysis.llm.client import Server, ServerUnavailable
from analysis.specs import Run, Task

LOGPROBS_SINCE = (0, 12, 11)  # Ollama's release that returns logprobs and top_logprobs
DEBUG_RENDER_SINCE = (0, 11, 5)  # Ollama's release that answers _debug_render_only
FIRST_TOKEN, STRUCTURED = "first_token", "structured"


class ServerTooOld(ServerUnavailable):
    """The server cannot give what the run needs (log-probabilities)."""


def version_tuple(version: str) -> tuple[int, ...] | None:
    """``0.12.11`` as ``(0, 12, 11)``; None for what is not a release number (a development build says 0.0.0)."""
    parts = tuple(int(part) for part in re.findall(r"\d+", version.split("-")[0])[:3])
    return parts if len(parts) == 3 and parts != (0, 0, 0) else None


@dataclass
class ModelCheck:
    """One model of the run, as the server shows it."""

    tag: str
    decision: str  # how its stage 1 is decided on this server
    open_turn: bool | None  # the rendered request ends with the answer prefix, open; None: not shown
    rendered_end: str = ""  # the last characters of the rendered request
    template_bytes: int | None = None  # what the template adds around the messages, in bytes
    template_words: int = 0  # and in whitespace-separated words (each at least one token)
    longest_prompt_bytes: int | None = None  # the longest rendered request, in bytes (≥ its tokens)
    num_ctx: int = 0
    other_servers: dict[str, int] = field(default_factory=dict)  # cached answers per other server version
    note: str = ""

    @property
    def fits(self) -> bool | None:
        if self.longest_prompt_bytes is None:
            return None
        return self.longest_prompt_bytes <= self.num_ctx


@dataclass
class Preflight:
    host: str
    server: str
    version: str
    models: list[ModelCheck]

    def check_of(self, tag: str) -> ModelCheck:
        return next(check for check in self.models if check.tag == tag)

    def record(self) -> dict:
        """For the manifest."""
        return {"host": self.host, "server": self.server, "version": self.version,
                "models": [asdict(check) | {"fits": check.fits} for check in self.models]}

    def table(self) -> str:
        header = ["model", "open turn", "stage 1 decided by", "longest prompt (bytes ≥ tokens)", "num_ctx",
                  "fits", "cached by other servers", "note"]
        rows = [[
            check.tag, {True: "yes", False: "no", None: "not shown"}[check.open_turn], check.decision,
            "" if check.longest_prompt_bytes is None else str(check.longest_prompt_bytes), str(check.num_ctx),
            {True: "yes", False: "may not", None: "not known"}[check.fits],
            ", ".join(f"{count} by {server}" for server, count in check.other_servers.items()) or "none",
            check.note,
        ] for check in self.models]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        lines = [f"Server {self.host}: {self.server} (version {self.version})"]
        lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *rows]]
        return "\n".join(lines)


def require_logprobs(server: Server) -> None:
    """Refuse a server whose version returns no log-probabilities; a development build is let through
    (each answer is checked for log-probabilities as it arrives)."""
    version = version_tuple(server.number)
    if version is not None and version < LOGPROBS_SINCE:
        raise ServerTooOld(
            f"The LLM server at {server.host} is Ollama {server.number}; this pipeline reads answers from "
            f"log-probabilities, which Ollama returns from version {'.'.join(map(str, LOGPROBS_SINCE))} on. "
            f"Upgrade Ollama (https://ollama.com/download) and run the same command again."
        )


def check_model(server: Server, run: Run, task: Task, tag: str, digest: str, longest_text: str,
                cache: ResponseCache | None) -> ModelCheck:
    """``tag`` on ``server``: how its stage 1 is decided, whether the run's longest prompt fits, what the cache holds."""
    options = run.options_for(tag, task)
    request = build_request(tag, task, longest_text, options)
    check = ModelCheck(tag=tag, decision=task.decision, open_turn=None, num_ctx=options["num_ctx"])
    if cache is not None:
        check.other_servers = {name: count for name, count in cache.servers(tag, digest, task.name).items()
                               if name != server.version}
    version = version_tuple(server.number)
    if version is not None and version < DEBUG_RENDER_SINCE:
        check.note = f"Ollama {server.number} cannot show a rendered prompt"
    else:
        try:
            body = server.client._request_raw("POST", "/api/chat", json={**request, "stream": False, "_debug_render_only": True})
        except ollama.ResponseError as error:
            if is_load_failure(error):  # rendering loads the model too
                raise not_loaded(server, tag, error) from None
            raise
        rendered = body.json().get("_debug_info", {}).get("rendered_template")
        if rendered is None:
            check.note = "the server did not show the rendered prompt"
        else:
            message_bytes = sum(len(m["content"].encode("utf-8")) for m in request["messages"])
            check.template_bytes = max(len(rendered.encode("utf-8")) - message_bytes, 0)
            # Less a word per message: the template may glue a message's first or last word to its markers.
            message_words = sum(words(m["content"]) for m in request["messages"])
            check.template_words = max(words(rendered) - message_words - 2 * len(request["messages"]), 0)
            check.longest_prompt_bytes = len(rendered.encode("utf-8")) + max(options.get("num_predict", 0), 0)
            check.rendered_end = rendered[-60:]
            if task.decision == FIRST_TOKEN:
                check.open_turn = rendered.endswith(task.answer_prefix)
    if task.decision == FIRST_TOKEN and not check.open_turn:
        check.decision = STRUCTURED
        check.note = "; ".join(filter(None, [
            check.note, "the template closes the reply's turn: the model writes its JSON answer instead"
            if check.open_turn is False else "the answer prefix cannot be checked: the model writes its JSON answer"]))
    return check


def preflight(server: Server, run: Run, task: Task, described: dict[str, dict], texts, cache: ResponseCache | None) -> Preflight:
    """Every model of ``described`` (tag → its digest and details) checked with the longest of ``texts``."""
    require_logprobs(server)
    longest = max(texts, key=lambda text: len(text.encode("utf-8")), default="")
    checks = [check_model(server, run, task, tag, info["digest"], longest, cache) for tag, info in described.items()]
    return Preflight(host=server.host, server=server.version, version=server.number, models=checks)
