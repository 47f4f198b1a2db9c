"""Asking one model one task about many texts: requests, retries, the cache.

Each request asks for the answer token's log-probabilities, and either one
token after the answer prefix (``decision: first_token``) or a structured
answer (``format`` = the task's JSON schema); ``analysis.llm.answers`` reads
the answer out of the response. Only what the response cache lacks goes to
the server, from ``workers`` threads at once (match it to
``OLLAMA_NUM_PARALLEL`` on a real Ollama server).
"""

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import ollama
from tqdm.auto import tqdm

from analysis.data.vocabulary import UNDEFINED, Status
from analysis.llm.answers import TOP_LOGPROBS, p_yes, parse_answer
from analysis.llm.cache import ResponseCache, cache_key
from analysis.llm.client import ModelNotLoaded, RequestRefused, Server, ServerLost
from analysis.specs import Requests, Task

# Room the chat template adds around the messages (role markers, a default system prompt), where the
# server has not shown it (analysis.llm.preflight measures it per model).
TEMPLATE_ALLOWANCE_TOKENS = 64
# What Ollama says when it cannot load a model where its options put it: the out-of-memory lines of
# llm/status.go, llm/server.go's ErrLoadRequiredFull, and the scheduler's load errors (server/sched.go).
LOAD_FAILURE_SIGNS = (
    "unable to load", "out of memory", "out of device memory", "failed to allocate", "allocation failed",
    "not enough memory", "insufficient memory", "error loading model", "failed to load model",
    "cudamalloc failed", "hipmalloc failed", "requires more system memory",
)
# What a server says when a prompt does not fit its context: the embedded server, and Ollama's runner when
# the request says truncate: false (runner/llamarunner/runner.go) or context shift is off (llm/llama_server.go).
TOO_LONG_SIGNS = ("num_ctx", "exceeds the context length", "longer than the context length")


@dataclass
class Answer:
    """One model's answer to one task about one text."""

    value: str | list[str] | None  # None when there is no valid answer
    status: Status = Status.ANSWERED
    reason: str = ""  # why the answer is not a clean model answer
    p_yes: float | None = None
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

    @property
    def per_second(self) -> float | None:
        return self.asked / self.seconds if self.seconds > 0 else None

    def line(self) -> str:
        rate = f"{self.per_second:.2f} reports per second" if self.per_second else "nothing asked"
        return (f"{self.model} / {self.task}: {self.asked} reports, {self.from_cache} from the cache, "
                f"{self.seconds:.1f} s ({rate})")


def build_request(tag: str, task: Task, text: str, options: dict, keep_alive: str | None = None) -> dict:
    """A chat request: the structured answer (``format`` = the task's schema), or one token after the answer prefix.

    ``truncate: false`` makes Ollama (0.12.6 and later) refuse a prompt that
    does not fit, where it would otherwise drop the earlier messages, question
    and report included, and answer the rest.
    """
    request = {"model": tag, "messages": task.messages(text)}
    if task.decision == "first_token":
        request["options"] = {**options, "num_predict": 1}
    else:
        request |= {"format": task.answer_schema, "options": options}
    request |= {"logprobs": True, "top_logprobs": TOP_LOGPROBS, "truncate": False}
    if keep_alive is not None:
        request["keep_alive"] = keep_alive
    return request


def spare_tokens(request: dict, template_bytes: int = TEMPLATE_ALLOWANCE_TOKENS) -> int:
    """A lower bound on the room left in ``num_ctx`` after the prompt, the template's text and the answer.

    Ollama has no tokenizer endpoint, and an over-long prompt may be cut
    silently. Every token covers at least one byte, so the prompt's UTF-8
    length bounds its token count from above: a non-negative result means the
    request surely fits, whatever the tokenizer.
    """
    options = request["options"]
    prompt_bytes = sum(len(m["content"].encode("utf-8")) for m in request["messages"])
    answer_room = max(options.get("num_predict", 0), 0)
    return options["num_ctx"] - prompt_bytes - template_bytes - answer_room


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


def is_load_failure(error: ollama.ResponseError) -> bool:
    """The server could not load the model: another try would fail the same way."""
    return error.status_code >= 500 and any(sign in str(error.error).lower() for sign in LOAD_FAILURE_SIGNS)


def not_loaded(server: Server, tag: str, error: ollama.ResponseError) -> ModelNotLoaded:
    """The one line that stops a run whose model the server cannot load, with what to change."""
    return ModelNotLoaded(
        f"The LLM server at {server.host} could not load {tag} (HTTP {error.status_code}: {error.error}). "
        f"A model whose layers do not fit where its options put them is refused, not offloaded: remove or lower "
        f"num_gpu in this model's options in the run file (Ollama then offloads what fits), or free GPU memory. "
        f"Everything answered so far is in the response cache."
    )


def _is_transient(error: Exception) -> bool:
    """A failure that another try may not meet: the server restarting, overloaded or briefly unreachable."""
    if isinstance(error, ollama.ResponseError):
        return (error.status_code >= 500 or error.status_code == 429) and not is_load_failure(error)
    return isinstance(error, (ConnectionError, httpx.TransportError))


class Asker:
    """One model, one task: answers from the cache or the server."""

    def __init__(self, server: Server, cache: ResponseCache, tag: str, digest: str, task: Task,
                 options: dict, keep_alive: str | None = None, refresh: bool = False, over_long: str = "undefined",
                 requests: Requests = Requests(), template_bytes: int = TEMPLATE_ALLOWANCE_TOKENS,
                 template_words: int = 0):
        self.server, self.cache, self.tag, self.digest, self.task = server, cache, tag, digest, task
        self.options, self.keep_alive, self.refresh, self.over_long = options, keep_alive, refresh, over_long
        self.requests = requests
        # What the server's template adds around the messages (analysis.llm.preflight), where it showed it.
        self.template_bytes, self.template_words = template_bytes, template_words
        # Its own client: the timeout is for answers, not for listing models.
        self.client = ollama.Client(host=server.host, timeout=requests.timeout_s)

    def _chat(self, request: dict) -> dict:
        """The server's response, with ``requests.retries`` more tries after a transient failure.

        A timeout on every try raises ``TimedOut`` (that report becomes
        Undefined); any other failure on every try raises ``ServerLost``,
        which stops the run: what was answered is in the cache already. A
        model the server cannot load stops the run at once (``ModelNotLoaded``).
        """
        tries = self.requests.retries + 1
        for attempt in range(tries):
            try:
                # The official client's request path, with its errors; its chat() cannot send `truncate`,
                # and its response model would drop fields the cache keeps for reviewers.
                return self.client._request_raw("POST", "/api/chat", json={**request, "stream": False}).json()
            except Exception as error:
                if isinstance(error, ollama.ResponseError) and is_load_failure(error):
                    raise not_loaded(self.server, self.tag, error) from None
                if not _is_transient(error):
                    raise
                if attempt + 1 == tries:
                    if isinstance(error, httpx.TimeoutException):
                        raise TimedOut(f"no answer within {self.requests.timeout_s:g} s, {tries} tries") from None
                    raise ServerLost(
                        f"The LLM server at {self.server.host} failed {tries} times in a row "
                        f"({type(error).__name__}: {error}). Everything answered so far is in the response cache: "
                        f"run the same command again to resume."
                    ) from None
                time.sleep(self.requests.backoff_s * 2**attempt)

    def ask(self, report_id: str, text: str) -> Answer:
        started = time.perf_counter()
        request = build_request(self.tag, self.task, text, self.options, self.keep_alive)
        note = ""
        if (spare := spare_tokens(request, self.template_bytes)) < 0:
            if self.over_long == "undefined":
                return Answer(None, Status.TOO_LONG, f"prompt may not fit num_ctx {self.options['num_ctx']}: not sent")
            text = cut_to_fit(text, -spare)
            request = build_request(self.tag, self.task, text, self.options, self.keep_alive)
            note = f"text cut by {-spare} bytes to fit num_ctx {self.options['num_ctx']}"
        key = cache_key(self.digest, self.task.version, request)
        response = None if self.refresh else self.cache.get(key)
        cached = response is not None
        if not cached:
            try:
                response = self._chat(request)
            except TimedOut as error:
                return Answer(None, Status.TIMEOUT, str(error), seconds=time.perf_counter() - started)
            except ollama.ResponseError as error:
                if error.status_code == 400 and any(sign in str(error.error) for sign in TOO_LONG_SIGNS):
                    return Answer(None, Status.REFUSED,
                                  f"prompt does not fit num_ctx {self.options['num_ctx']}: refused by the server")
                pull = f" (`ollama pull {self.tag}`)" if error.status_code == 404 else ""
                raise RequestRefused(
                    f"The LLM server at {self.server.host} refused a request for {self.tag} ({self.task.name}) with "
                    f"HTTP {error.status_code}: {error.error}{pull}. Everything answered so far is in the response "
                    f"cache: fix the cause and run the same command again."
                ) from None
            if unusable := self._unusable(request, response):
                return Answer(None, *unusable, seconds=time.perf_counter() - started)
            response = self.cache.put(key, model=self.tag, digest=self.digest, task=self.task.name,
                           task_version=self.task.version, report_id=report_id, server=self.server.version,
                           request=request, response=response, replace=self.refresh)
        value, reason = parse_answer(response, self.task)
        if value == UNDEFINED:
            reason = "the model answered Undefined"
        score = None if self.task.multiple else p_yes(response.get("logprobs"), self.task.answers)
        reason = "; ".join(r for r in (reason, note) if r)
        status = Status.ANSWERED if value is not None else Status.INVALID
        return Answer(value, status, reason, score, key, cached, time.perf_counter() - started)

    def _unusable(self, request: dict, response: dict) -> tuple[Status, str] | None:
        """Why a response is no answer (it is then not cached, so that a later run asks again), or None."""
        if self.task.decision == "first_token" and not response.get("logprobs"):
            # With one token to generate, a reply that stopped with no text chose end-of-sequence.
            if not response.get("message", {}).get("content") and response.get("done_reason") == "stop":
                return Status.ENDED, ("the model ended its reply at once (end-of-sequence): no answer token was "
                                      "chosen; `python -m analysis check` shows whether its template closes the reply")
            return Status.NO_LOGPROBS, (f"the server returned no log-probabilities ({self.server.version}; Ollama "
                                        f"returns them from 0.12.11 on)")
        read, least = response.get("prompt_eval_count"), fewest_tokens(request, self.template_words)
        answer_room = max(request["options"].get("num_predict", 0), 0)
        if read is not None and read < least:
            return Status.CUT, (f"the server cut the prompt: it read {read} tokens of a prompt of at least {least}; "
                                f"raise num_ctx or shorten the prompt")
        # Every prompt sent leaves room for the answer; one that filled the context was cut to fill it.
        if read is not None and read + answer_room >= request["options"]["num_ctx"]:
            return Status.CUT, (f"the server cut the prompt: it read {read} tokens, the whole context of "
                                f"num_ctx {request['options']['num_ctx']} but the answer's room; raise num_ctx")
        return None

    def ask_all(self, texts: dict[str, str], workers: int = 1) -> tuple[dict[str, Answer], AskSummary]:
        """Answers for ``{report_id: text}``, in the order given, with a progress bar."""
        started = time.perf_counter()
        answers: dict[str, Answer] = {}
        bar = tqdm(total=len(texts), desc=f"{self.tag} {self.task.name}", unit="report")
        pool = ThreadPoolExecutor(max_workers=workers)
        try:
            futures = {report_id: pool.submit(self.ask, report_id, text) for report_id, text in texts.items()}
            for report_id, future in futures.items():
                answers[report_id] = future.result()
                bar.update()
        finally:
            # On a failure, requests not yet sent are dropped: the run stops now, not after each has failed too.
            pool.shutdown(wait=True, cancel_futures=True)
            bar.close()
        hits = sum(a.cached for a in answers.values())
        summary = AskSummary(self.tag, self.task.name, len(texts), hits, time.perf_counter() - started)
        print(summary.line())
        return answers, summary
