"""Asking one model one task about many texts: requests, retries, the cache, the run's servers.

Each request asks for the answer token's log-probabilities, and either one
token after the answer prefix (``decision: first_token``) or a structured
answer (the task's JSON schema); the server's backend
(``analysis.llm.backend``) builds the request and reads the response into one
shape, and ``analysis.llm.answers`` reads the answer out of it. Only what the
response cache lacks goes to a server, spread over the run's servers with
the requests in flight each takes (``analysis.llm.spreading``).
"""

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from tqdm.auto import tqdm

from analysis.data.vocabulary import POSITIVE, UNDEFINED, Status
from analysis.llm.answers import TOP_LOGPROBS, decision_probabilities, parse_answer
from analysis.llm.cache import ResponseCache, cache_key
from analysis.llm.backend import Refused, RequestRefused, Backend, ServerLost, Transient
from analysis.llm.spreading import spread
from analysis.specs import Requests, Task

# Room the chat template adds around the messages (role markers, a default system prompt), where the
# server has not shown it (analysis.llm.preflight measures it per model).
TEMPLATE_ALLOWANCE_TOKENS = 64


@dataclass
class Answer:
    """One model's answer to one task about one text."""

    value: str | list[str] | None  # None when there is no valid answer
    status: Status = Status.ANSWERED
    reasons: list[str] = field(default_factory=list)  # why the answer is not a clean model answer
    p_yes: float | None = None
    # first_token: every allowed answer's probability at the answer token (None without log-probabilities)
    probabilities: dict[str, float] | None = None
    key: str = ""  # the response cache's key of the response behind the answer; empty if none
    cached: bool = False
    seconds: float = 0.0


@dataclass
class AskSummary:
    model: str
    task: str
    asked: int
    from_cache: int
    seconds: float
    answered_by: dict[str, int] = field(default_factory=dict)  # responses each server gave, by its address

    @property
    def per_second(self) -> float | None:
        return self.asked / self.seconds if self.seconds > 0 else None

    def line(self) -> str:
        rate = f"{self.per_second:.2f} reports per second" if self.per_second else "nothing asked"
        servers = (f"; answered by {', '.join(f'{host}: {count}' for host, count in self.answered_by.items())}"
                   if len(self.answered_by) > 1 else "")
        return (f"{self.model} / {self.task}: {self.asked} reports, {self.from_cache} from the cache, "
                f"{self.seconds:.1f} s ({rate}){servers}")


def build_request(tag: str, task: Task, text: str, options: dict, keep_alive: str | None = None,
                  probe: str | None = None) -> dict:
    """A chat request in Ollama's API, the pipeline's own shape (other backends translate it, ``Backend.outgoing``):
    the structured answer (``format`` = the task's schema), or one token after the answer prefix; ``probe`` is
    the item asked, for a task with probes.

    ``truncate: false`` makes Ollama (0.12.6 and later) refuse a prompt that
    does not fit, where it would otherwise drop the earlier messages, question
    and report included, and answer the rest.
    """
    request = {"model": tag, "messages": task.messages(text, probe)}
    if task.decision == "first_token":
        request["options"] = {**options, "num_predict": 1}
    else:
        request |= {"format": task.answer_schema, "options": options}
    request |= {"logprobs": True, "top_logprobs": TOP_LOGPROBS, "truncate": False}
    if keep_alive is not None:
        request["keep_alive"] = keep_alive
    return refuse_format_with_prefill(request)


def refuse_format_with_prefill(request: dict) -> dict:
    """``request``, unless it holds both a ``format`` and an assistant message to continue.

    Ollama feeds the prompt's tokens to the sampler without advancing the
    grammar over them (runner/llamarunner/runner.go; "TODO: Ingest cached
    history for grammar" in runner/ollamarunner/runner.go), so a JSON-schema
    grammar would start again at ``{`` after a reply prefilled with
    ``{"answer": "`` and mask the answer token.
    """
    if request.get("format") and request["messages"] and request["messages"][-1]["role"] == "assistant":
        raise ValueError(f"a request for {request['model']} holds both a format and a reply prefix to continue: "
                         f"Ollama would restart the format's grammar after the prefix")
    return request


def spare_tokens(request: dict, template_bytes: int = TEMPLATE_ALLOWANCE_TOKENS) -> int:
    """A lower bound on the room left in ``num_ctx`` after the prompt, the template's text and the answer.

    Not every server counts tokens for a client, and an over-long prompt may
    be cut silently. Every token covers at least one byte, so the prompt's
    UTF-8 length bounds its token count from above: a non-negative result
    means the request surely fits, whatever the tokenizer.
    """
    options = request["options"]
    prompt_bytes = sum(len(m["content"].encode("utf-8")) for m in request["messages"])
    return options["num_ctx"] - prompt_bytes - template_bytes - answer_room(request)


def answer_room(request: dict) -> int:
    """Tokens the reply to ``request`` may take (``num_predict``; none set: no room counted)."""
    return max(request["options"].get("num_predict", 0), 0)


def words(text: str) -> int:
    return len(text.split())


def fewest_tokens(request: dict, template_words: int = 0) -> int:
    """A lower bound on the prompt tokens of ``request``: the whitespace-separated words of its messages, and
    ``template_words`` the server's template adds around them (``analysis.llm.preflight`` counts them).

    Tokenizers split text at whitespace before merging (byte-level BPE
    pre-tokenizers, SentencePiece's whitespace split), so no token holds parts
    of two words: a server that read fewer prompt tokens than this did not
    read the whole prompt.
    """
    return sum(words(message["content"]) for message in request["messages"]) + template_words


def cut_to_fit(text: str, excess_bytes: int) -> str:
    """``text`` shortened by ``excess_bytes`` UTF-8 bytes from its end, never splitting a character."""
    encoded = text.encode("utf-8")
    return encoded[: max(len(encoded) - excess_bytes, 0)].decode("utf-8", errors="ignore")


class TimedOut(Exception):
    pass


class Asker:
    """One model, one task: answers from the cache or from the run's servers (one ``Backend`` or several, all
    of one backend and serving the same model, whose identity is ``digest``)."""

    def __init__(self, servers: Backend | list[Backend], cache: ResponseCache, tag: str, digest: str, task: Task,
                 options: dict, keep_alive: str | None = None, refresh: bool = False, over_long: str = "undefined",
                 requests: Requests = Requests(), template_bytes: int = TEMPLATE_ALLOWANCE_TOKENS,
                 template_words: int = 0):
        self.servers = [servers] if isinstance(servers, Backend) else list(servers)
        self.cache, self.tag, self.digest, self.task = cache, tag, digest, task
        self.options, self.keep_alive, self.refresh, self.over_long = options, keep_alive, refresh, over_long
        self.requests = requests
        # What the server's template adds around the messages (analysis.llm.preflight), where it showed it.
        self.template_bytes, self.template_words = template_bytes, template_words
        self.answered_by: Counter[str] = Counter()
        self._counting = threading.Lock()

    def _chat(self, request: dict, server: Backend) -> dict:
        """The server's response, with ``requests.retries`` more tries after a transient failure.

        A timeout on every try raises ``TimedOut`` (that report becomes
        Undefined); any other transient failure on every try raises
        ``ServerLost``, which takes the server out of the run (the run stops
        when none is left): what was answered is in the cache already.
        """
        tries = self.requests.retries + 1
        for attempt in range(tries):
            try:
                return server.chat(request, self.requests.timeout_s)
            except Transient as error:
                if attempt + 1 == tries:
                    if error.timed_out:
                        raise TimedOut(f"no answer within {self.requests.timeout_s:g} s, {tries} tries") from None
                    raise ServerLost(
                        f"The LLM server at {server.host} failed {tries} times in a row ({error}). Everything "
                        f"answered so far is in the response cache: run the same command again to resume."
                    ) from None
                time.sleep(self.requests.backoff_s * 2**attempt)

    def ask(self, report_id: str, text: str, server: Backend | None = None, probe: str | None = None) -> Answer:
        """The answer about ``text`` (and ``probe``, for a task with probes), from the cache or from ``server``
        (default: the first of the run's)."""
        server = server or self.servers[0]
        started = time.perf_counter()
        request = build_request(self.tag, self.task, text, self.options, self.keep_alive, probe)
        note = ""
        if (spare := spare_tokens(request, self.template_bytes)) < 0:
            if self.over_long == "undefined":
                return Answer(None, Status.TOO_LONG, [f"prompt may not fit num_ctx {self.options['num_ctx']}: not sent"])
            text = cut_to_fit(text, -spare)
            request = build_request(self.tag, self.task, text, self.options, self.keep_alive, probe)
            note = f"text cut by {-spare} bytes to fit num_ctx {self.options['num_ctx']}"
        sent = server.outgoing(request)
        key = cache_key(self.digest, self.task.version, sent, server.backend)
        response = None if self.refresh else self.cache.get(key)
        cached = response is not None
        if not cached:
            try:
                response = self._chat(sent, server)
            except TimedOut as error:
                return Answer(None, Status.TIMEOUT, [str(error)], seconds=time.perf_counter() - started)
            except Refused as error:
                if error.too_long:
                    return Answer(None, Status.REFUSED,
                                  [f"prompt does not fit num_ctx {self.options['num_ctx']}: refused by the server"])
                raise RequestRefused(
                    f"The LLM server at {server.host} refused a request for {self.tag} ({self.task.name}) with "
                    f"HTTP {error.status}: {error.message}{error.hint}. Everything answered so far is in the "
                    f"response cache: fix the cause and run the same command again."
                ) from None
            with self._counting:
                self.answered_by[server.host] += 1
            if unusable := self._unusable(request, response, server):
                status, reason = unusable
                return Answer(None, status, [reason], seconds=time.perf_counter() - started)
            response = self.cache.put(key, model=self.tag, digest=self.digest, task=self.task.name,
                                      task_version=self.task.version, report_id=report_id, server=server.version,
                                      request=sent, response=response, replace=self.refresh)
        value, reason = parse_answer(response, self.task)
        if value == UNDEFINED:
            reason = "the model answered Undefined"
        probabilities = None if self.task.multiple else decision_probabilities(response, self.task)
        score = probabilities and probabilities.get(POSITIVE)
        status = Status.ANSWERED if value is not None else Status.INVALID
        return Answer(value, status, [r for r in (reason, note) if r], score, probabilities, key, cached,
                      time.perf_counter() - started)

    def _unusable(self, request: dict, response: dict, server: Backend) -> tuple[Status, str] | None:
        """Why a response is no answer (it is then not cached, so that a later run asks again), or None."""
        if self.task.decision == "first_token" and not response.get("logprobs"):
            # With one token to generate, a reply that stopped with no text chose end-of-sequence.
            if not response.get("message", {}).get("content") and response.get("done_reason") == "stop":
                return Status.ENDED, ("the model ended its reply at once (end-of-sequence): no answer token was "
                                      "chosen; `python -m analysis check` shows whether its template closes the reply")
            return Status.NO_LOGPROBS, f"the server returned no log-probabilities ({server.version}; {server.logprobs_hint})"
        read, least = response.get("prompt_eval_count"), fewest_tokens(request, self.template_words)
        num_ctx = request["options"]["num_ctx"]
        if read is not None and read < least:
            return Status.CUT, (f"the server cut the prompt: it read {read} tokens of a prompt of at least {least}; "
                                f"raise num_ctx or shorten the prompt")
        # Every prompt sent leaves room for the answer; one that filled the context was cut to fill it.
        if read is not None and read + answer_room(request) >= num_ctx:
            return Status.CUT, (f"the server cut the prompt: it read {read} tokens, the whole context of "
                                f"num_ctx {num_ctx} but the answer's room; raise num_ctx")
        return None

    def ask_all(self, texts: dict[str, str], workers: int | None = None) -> tuple[dict, AskSummary]:
        """Answers for ``{report_id: text}``, in the order given, with a progress bar; ``workers`` requests in
        flight to each server (default: each server's own).

        For a task with probes the answers are keyed ``(report_id, probe)``, and a report's probes are asked one
        after another, so that a server that keeps the prompt's prefix reads the report once for all of them.
        """
        started = time.perf_counter()
        self.answered_by.clear()
        if self.task.probes:
            items = [(report_id, probe) for report_id in texts for probe in self.task.probes]
            ask = lambda item, server: self.ask(item[0], texts[item[0]], server, item[1])  # noqa: E731
        else:
            items = list(texts)
            ask = lambda report_id, server: self.ask(report_id, texts[report_id], server)  # noqa: E731
        unit = "question" if self.task.probes else "report"
        bar = tqdm(total=len(items), desc=f"{self.tag} {self.task.name}", unit=unit)
        try:
            answers = spread(ask, items, self.servers, workers, done=lambda item, answer: bar.update())
        finally:
            bar.close()
        if self.task.probes:  # a report comes from the cache when every question about it does
            hits = sum(all(answers[report_id, probe].cached for probe in self.task.probes) for report_id in texts)
        else:
            hits = sum(answer.cached for answer in answers.values())
        summary = AskSummary(self.tag, self.task.name, len(texts), hits, time.perf_counter() - started,
                             dict(self.answered_by))
        print(summary.line())
        return answers, summary
