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
from analysis.llm.client import Server, ServerLost
from analysis.specs import Requests, Task

# Room the chat template adds around the messages (role markers, a default system prompt).
TEMPLATE_ALLOWANCE_TOKENS = 64


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
    """A chat request: the structured answer (``format`` = the task's schema), or one token after the answer prefix."""
    request = {"model": tag, "messages": task.messages(text)}
    if task.decision == "first_token":
        request["options"] = {**options, "num_predict": 1}
    else:
        request |= {"format": task.answer_schema, "options": options}
    request |= {"logprobs": True, "top_logprobs": TOP_LOGPROBS}
    if keep_alive is not None:
        request["keep_alive"] = keep_alive
    return request


def spare_tokens(request: dict) -> int:
    """A lower bound on the room left in ``num_ctx`` after the prompt and the answer.

    Ollama has no tokenizer endpoint, and an over-long prompt may be cut
    silently. Every token of a byte-level vocabulary covers at least one byte,
    so the prompt's UTF-8 length bounds its token count from above: a
    non-negative result means the request surely fits, whatever the tokenizer.
    """
    options = request["options"]
    prompt_bytes = sum(len(m["content"].encode("utf-8")) for m in request["messages"])
    answer_room = max(options.get("num_predict", 0), 0)
    return options["num_ctx"] - prompt_bytes - TEMPLATE_ALLOWANCE_TOKENS - answer_room


def cut_to_fit(text: str, excess_bytes: int) -> str:
    """``text`` shortened by ``excess_bytes`` UTF-8 bytes from its end, never splitting a character."""
    encoded = text.encode("utf-8")
    return encoded[: max(len(encoded) - excess_bytes, 0)].decode("utf-8", errors="ignore")


class TimedOut(Exception):
    pass


def _is_transient(error: Exception) -> bool:
    """A failure that another try may not meet: the server restarting, overloaded or briefly unreachable."""
    if isinstance(error, ollama.ResponseError):
        return error.status_code >= 500
    return isinstance(error, (ConnectionError, httpx.TransportError))


class Asker:
    """One model, one task: answers from the cache or the server."""

    def __init__(self, server: Server, cache: ResponseCache, tag: str, digest: str, task: Task,
                 options: dict, keep_alive: str | None = None, refresh: bool = False, over_long: str = "undefined",
                 requests: Requests = Requests()):
        self.server, self.cache, self.tag, self.digest, self.task = server, cache, tag, digest, task
        self.options, self.keep_alive, self.refresh, self.over_long = options, keep_alive, refresh, over_long
        self.requests = requests
        # Its own client: the timeout is for answers, not for listing models.
        self.client = ollama.Client(host=server.host, timeout=requests.timeout_s)

    def _chat(self, request: dict) -> dict:
        """The server's response, with ``requests.retries`` more tries after a transient failure.

        A timeout on every try raises ``TimedOut`` (that report becomes
        Undefined); any other failure on every try raises ``ServerLost``,
        which stops the run: what was answered is in the cache already.
        """
        tries = self.requests.retries + 1
        for attempt in range(tries):
            try:
                return self.client.chat(**request, stream=False).model_dump(exclude_none=True)
            except Exception as error:
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
        if (spare := spare_tokens(request)) < 0:
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
                if error.status_code == 400 and "num_ctx" in str(error.error):
                    return Answer(None, Status.REFUSED,
                                  f"prompt does not fit num_ctx {self.options['num_ctx']}: refused by the server")
                raise
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
