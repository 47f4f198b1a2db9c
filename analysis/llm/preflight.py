"""Before a run asks anything: can its servers' answers be trusted, and how must each model be asked?

The first-token decision needs a server that returns log-probabilities and
continues the reply's start (``{"answer": "``) as the model's own open turn.
Servers differ in both, by engine, version and model, so for every server of
the run and every model, before the first report, its backend finds out
with the run's longest prompt (``Backend.check_model``):

- Ollama: its version (one without log-probabilities is refused), and the
  request as the server renders it with the model's template: does it end
  with the answer prefix, open, does the template put any chat structure
  around the messages at all (a model imported from a GGUF file without a
  ``TEMPLATE`` may get none: it is refused unless the user allows it), and
  what does the template add (room every request of that model then leaves
  for it)?
- an OpenAI-compatible engine: a one-token request with the answer prefix
  to continue, whose log-probabilities show whether the prefix was
  continued (the likeliest next token begins an allowed answer), and a
  written answer under the task's JSON schema (is the schema held?); the
  prompt tokens it reports say whether the longest prompt fits.

A model whose stage 1 cannot be decided by the first token on every server
writes its JSON answer instead, on every server, so that no label depends
on which server answered. Answers the response cache holds from another
server version are counted, and reused.
"""

import re
from dataclasses import asdict, dataclass, field, replace

from analysis.llm.cache import ResponseCache
from analysis.llm.backend import Backend
from analysis.llm.modelfile import fixing_template_line

FIRST_TOKEN, STRUCTURED = "first_token", "structured"
# What a chat template writes around the messages to say whose turn it is: a control token (<|im_start|>,
# <|start_header_id|>, <start_of_turn>, <s>), an instruction bracket ([INST]), a heading (### Response:) or a role's name.
ROLE_MARKER = re.compile(r"<\|?/?[A-Za-z_][\w|]*\|?>|\[/?INST\]|^#{2,} ?\w+|\b(system|user|assistant|human|model)\b",
                         re.IGNORECASE | re.MULTILINE)


class RawTemplate(RuntimeError):
    """A model's template puts no chat structure around the messages: its answers would not be a chat model's."""


def template_text(rendered: str, messages: list[dict]) -> str:
    """What the template wrote: ``rendered`` with each message's text taken out once, in order (a message the
    template dropped, such as a system message a bare template has no place for, is passed over)."""
    kept, position = [], 0
    for content in (message["content"] for message in messages):
        found = rendered.find(content, position) if content else -1
        if found >= 0:
            kept.append(rendered[position:found])
            position = found + len(content)
    return "".join(kept) + rendered[position:]


def has_chat_structure(rendered: str, messages: list[dict]) -> bool:
    """Whether the template marks the turns at all: ``{{ .Prompt }}`` (Ollama's template for a GGUF file whose
    own template it did not recognise) renders the messages' text and nothing else."""
    return bool(ROLE_MARKER.search(template_text(rendered, messages)))


@dataclass
class ModelCheck:
    """One model of the run, as one server shows it."""

    tag: str
    decision: str  # how its stage 1 is decided on this server
    open_turn: bool | None  # the answer prefix is continued as the model's open turn; None: not shown
    chat_structure: bool | None = None  # the template marks the turns (False: the messages' text alone); None: not shown
    rendered_end: str = ""  # the last characters of the rendered request
    template_bytes: int | None = None  # what the template adds around the messages, in bytes
    template_words: int = 0  # and in whitespace-separated words (each at least one token)
    longest_prompt_bytes: int | None = None  # the longest rendered request, in bytes (≥ its tokens)
    longest_prompt_tokens: int | None = None  # the longest request's prompt tokens, as the server counted them
    num_ctx: int = 0
    logprobs: bool | None = None  # the server returns the answer token's log-probabilities; None: not known
    json_schema: bool | None = None  # a written answer kept to the task's schema; None: not asked, or cut off
    other_servers: dict[str, int] = field(default_factory=dict)  # cached answers per other server version
    note: str = ""

    @property
    def fits(self) -> bool | None:
        longest = self.longest_prompt_tokens if self.longest_prompt_tokens is not None else self.longest_prompt_bytes
        return None if longest is None else longest <= self.num_ctx


def add_note(check: ModelCheck, note: str) -> ModelCheck:
    check.note = "; ".join(filter(None, [check.note, note]))
    return check


def structured_instead(check: ModelCheck, task, why: str) -> ModelCheck:
    """``check`` with ``why`` noted; a first-token task is then decided by the model's JSON answer."""
    if task.decision == FIRST_TOKEN:
        check.decision = STRUCTURED
        why = f"{why}: the model writes its JSON answer instead"
    return add_note(check, why)


def _every(values: list[bool | None]) -> bool | None:
    """True where every server said yes, False where one said no, None where some did not say."""
    if False in values:
        return False
    return True if all(values) else None


def _largest(values) -> int | None:
    """The largest of the values a server measured; None where none did."""
    return max((value for value in values if value is not None), default=None)


def merged(checks: list[ModelCheck]) -> ModelCheck:
    """One model's checks on several servers as the one way the run asks it: the first token decides only where
    every server allows it, and a request leaves the largest room any template takes."""
    if len(checks) == 1:
        return checks[0]
    return replace(
        checks[0],
        decision=STRUCTURED if any(c.decision == STRUCTURED for c in checks) else checks[0].decision,
        open_turn=_every([c.open_turn for c in checks]),
        chat_structure=_every([c.chat_structure for c in checks]),
        logprobs=_every([c.logprobs for c in checks]),
        json_schema=_every([c.json_schema for c in checks]),
        template_bytes=_largest(c.template_bytes for c in checks),
        template_words=min(c.template_words for c in checks),
        longest_prompt_bytes=_largest(c.longest_prompt_bytes for c in checks),
        longest_prompt_tokens=_largest(c.longest_prompt_tokens for c in checks),
        note="; ".join(dict.fromkeys(c.note for c in checks if c.note)),
    )


@dataclass
class ServerCheck:
    """Every model of the run, as one server shows it."""

    host: str
    server: str
    version: str
    models: list[ModelCheck]
    note: str = ""  # what the version says, where it says less than a release number would


def _longest(check: ModelCheck) -> str:
    if check.longest_prompt_tokens is not None:
        return f"{check.longest_prompt_tokens} tokens"
    return "" if check.longest_prompt_bytes is None else f"{check.longest_prompt_bytes} bytes"


def _record(check: ModelCheck) -> dict:
    return asdict(check) | {"fits": check.fits}


@dataclass
class Preflight:
    servers: list[ServerCheck]
    allow_raw: bool = False  # the user chose to ask models whose template has no chat structure

    @property
    def raw(self) -> list[str]:
        """The models whose template puts no chat structure around the messages, on some server."""
        return [tag for tag in self.tags if self.check_of(tag).chat_structure is False]

    def check_of(self, tag: str) -> ModelCheck:
        """How the run asks ``tag``: the same on every server that serves it."""
        return merged([check for server in self.servers for check in server.models if check.tag == tag])

    @property
    def tags(self) -> list[str]:
        return list(dict.fromkeys(check.tag for server in self.servers for check in server.models))

    def record(self) -> dict:
        """For the manifest: each server's checks, and how the run asks each model."""
        return {"servers": [{"host": s.host, "server": s.server, "version": s.version, "note": s.note,
                             "models": [_record(check) for check in s.models]} for s in self.servers],
                "models": [_record(self.check_of(tag)) for tag in self.tags],
                "allow_raw": self.allow_raw, "raw_template": self.raw}

    def table(self) -> str:
        header = ["model", "chat structure", "open turn", "stage 1 decided by", "logprobs", "json schema", "longest prompt",
                  "num_ctx", "fits", "cached by other servers", "note"]
        lines = []
        for server in self.servers:
            rows = [[
                check.tag, *({True: "yes", False: "no", None: "not shown"}[value]
                             for value in (check.chat_structure, check.open_turn)), check.decision,
                *({True: "yes", False: "no", None: "not known"}[value] for value in (check.logprobs, check.json_schema)),
                _longest(check), str(check.num_ctx), {True: "yes", False: "may not", None: "not known"}[check.fits],
                ", ".join(f"{count} by {name}" for name, count in check.other_servers.items()) or "none",
                check.note,
            ] for check in server.models]
            widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
            lines.append(f"Server {server.host}: {server.server} (version {server.version})"
                         + (f": {server.note}" if server.note else ""))
            lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header, *rows]]
        if len(self.servers) > 1:
            decided = ", ".join(f"{tag}: {self.check_of(tag).decision}" for tag in self.tags)
            lines.append(f"On every server of a model, so that no label depends on which server answers: {decided}")
        return "\n".join(lines)


def preflight(servers: list[Backend], run, task, described: dict[str, dict], texts,
              cache: ResponseCache | None, allow_raw: bool = False) -> Preflight:
    """Every model of ``described`` (tag → its digest and details) checked on every server that serves it, with the
    longest of ``texts``. A model whose template puts no chat structure around the messages is refused, unless
    ``allow_raw``."""
    longest = max(texts, key=lambda text: len(text.encode("utf-8")), default="")
    checks = []
    for server in servers:
        server.require()
        models = [server.check_model(run, task, tag, longest) for tag in described if server.serves(tag)]
        if cache is not None:
            for check in models:
                check.other_servers = {name: count for name, count in
                                       cache.servers(check.tag, described[check.tag]["digest"], task.name).items()
                                       if name != server.version}
        checks.append(ServerCheck(server.host, server.version, server.number, models, server.version_note))
    checked = Preflight(checks, allow_raw)
    if checked.raw and not allow_raw:
        raise RawTemplate(refusal_of_raw(checked))
    return checked


def refusal_of_raw(checked: Preflight) -> str:
    """The lines that stop a run over models without chat structure: which, why, and the Modelfile line that fixes
    each."""
    lines = [checked.table(), ""]
    for tag in checked.raw:
        lines += [
            f"{tag}: the server renders its requests as the messages' text with no chat structure around them "
            f"(rendered end: {checked.check_of(tag).rendered_end!r}). A model created from a GGUF file whose "
            f"Modelfile has no TEMPLATE gets Ollama's bare template {{{{ .Prompt }}}} when Ollama does not recognise "
            f"the file's own chat template (Qwen2.5's, for one), so the model is never told it is in a conversation.",
            f"Fix: put this line in {tag}'s Modelfile and create it again (ollama create {tag} -f Modelfile); "
            f"`python -m analysis ollama-import` does so for the embedded models:",
            fixing_template_line(tag),
        ]
    lines.append("To ask them as they are: --allow-raw (the manifest records it).")
    return "\n".join(lines)
