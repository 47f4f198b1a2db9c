"""One GGUF model in llama.cpp: chat templating, generation, log-probabilities.

The embedded server keeps one ``LoadedModel`` per tag. Requests to a model run
one at a time (``lock``), and each request reuses the prompt prefix already in
the KV cache, so a fixed instruction placed before the report is evaluated
once, not once per report.

Reuse must not change answers. llama.cpp's arithmetic depends on how tokens
are grouped into batches, so a prompt evaluated cold and the same prompt
evaluated after a shared prefix can give log-probabilities that differ in the
second decimal. So the batches are fixed by the prompt alone: a batch starts
after a blank line or after a line that ends in a colon, and holds at most
``CHUNK_TOKENS`` tokens from there; the cache is reused only up to a batch
start. Every position is then computed in the same batch whatever the model
answered before, and an answer depends on its request alone. An instruction
that ends with a header line before the report ("IMPRESSION:\n") is reused
whole, and the report itself is evaluated in full-size batches (measured on
demo prompts, qwen2.5-coder:1.5b: 1.66 s per report, against 1.97 s with one
batch per line and 3.18 s with 64-token batches from the prompt's start).

Log-probabilities are read from the logits of the last evaluated position
only (``logits_all=False``): computing logits for every prompt position would
cost a vocabulary-sized matrix product per prompt token.
"""

import codecs
import ctypes
import json
import os
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import llama_cpp
import numpy as np
from llama_cpp import Llama, LlamaGrammar
from llama_cpp.llama_chat_format import Jinja2ChatFormatter
from llama_cpp.llama_grammar import JSON_GBNF

# Ollama's defaults for options a request leaves out.
OLLAMA_DEFAULT_OPTIONS = {
    "temperature": 0.8,
    "top_k": 40,
    "top_p": 0.9,
    "min_p": 0.0,
    "repeat_penalty": 1.1,
    "num_predict": -1,
}
DEFAULT_NUM_CTX = 4096
MAX_TOP_LOGPROBS = 20
# Measured on 2 cores: 64-token batches evaluate a prompt about as fast as 512-token ones (53 vs 54 tokens/s, 1.5B).
CHUNK_TOKENS = 64


class PromptTooLong(ValueError):
    """The prompt does not fit the context window; nothing is truncated silently."""

    def __init__(self, prompt_tokens: int, num_ctx: int):
        super().__init__(f"prompt is {prompt_tokens} tokens, which does not fit num_ctx {num_ctx}")
        self.prompt_tokens, self.num_ctx = prompt_tokens, num_ctx


@dataclass
class GenerationOptions:
    temperature: float = OLLAMA_DEFAULT_OPTIONS["temperature"]
    top_k: int = OLLAMA_DEFAULT_OPTIONS["top_k"]
    top_p: float = OLLAMA_DEFAULT_OPTIONS["top_p"]
    min_p: float = OLLAMA_DEFAULT_OPTIONS["min_p"]
    repeat_penalty: float = OLLAMA_DEFAULT_OPTIONS["repeat_penalty"]
    num_predict: int = OLLAMA_DEFAULT_OPTIONS["num_predict"]
    seed: int | None = None
    stop: list[str] = field(default_factory=list)

    @classmethod
    def from_ollama(cls, options: dict | None) -> "GenerationOptions":
        """Read the generation fields of an Ollama ``options`` object; other fields are ignored."""
        options = options or {}
        known = {name: options[name] for name in cls.__dataclass_fields__ if options.get(name) is not None}
        stop = known.get("stop", [])
        known["stop"] = [stop] if isinstance(stop, str) else list(stop)
        if known.get("seed", -1) < 0:
            known["seed"] = None
        return cls(**known)


@dataclass
class TokenStep:
    """One generated token, with its text and, if asked for, log-probabilities."""

    text: str
    token_text: str
    token_bytes: bytes
    logprob: float | None = None
    top_logprobs: list[tuple[str, bytes, float]] = field(default_factory=list)


@dataclass
class GenerationStats:
    prompt_tokens: int = 0
    prompt_tokens_evaluated: int = 0
    prompt_eval_ns: int = 0
    generated_tokens: int = 0
    eval_ns: int = 0
    done_reason: str = "stop"


def grammar_for(format_: str | dict | None) -> LlamaGrammar | None:
    """Ollama's ``format``: ``"json"`` for any JSON object, a JSON schema dict, or nothing."""
    if not format_:
        return None
    if format_ == "json":
        return LlamaGrammar.from_string(JSON_GBNF, verbose=False)
    if isinstance(format_, dict):
        return LlamaGrammar.from_json_schema(json.dumps(format_), verbose=False)
    raise ValueError(f'invalid format: {format_!r}; use "json" or a JSON schema object')


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max()
    return shifted - np.log(np.exp(shifted).sum())


class LoadedModel:
    def __init__(self, tag: str, path: Path, num_ctx: int = DEFAULT_NUM_CTX, threads: int | None = None):
        started = time.perf_counter_ns()
        threads = threads or os.cpu_count() or 1
        self.tag = tag
        self.path = Path(path)
        self.num_ctx = num_ctx
        self.llm = Llama(
            model_path=str(path),
            n_ctx=num_ctx,
            n_batch=CHUNK_TOKENS,
            n_threads=threads,
            n_threads_batch=threads,
            logits_all=False,
            verbose=False,
        )
        self.lock = threading.Lock()
        self._texts: dict[int, str] = {}  # token -> its text, for batch boundaries
        self.metadata = dict(self.llm.metadata)
        self.template = self.metadata.get("tokenizer.chat_template", "")
        self._vocab = self.llm._model.vocab
        self._n_vocab = self.llm.n_vocab()
        self._chat_formatter = Jinja2ChatFormatter(
            template=self.template or "{% for m in messages %}{{ m['content'] }}\n{% endfor %}",
            eos_token=self._token_text(self.llm.token_eos()),
            bos_token=self._token_text(self.llm.token_bos()),
            add_generation_prompt=True,
        )
        self.load_ns = time.perf_counter_ns() - started

    def _token_text(self, token: int) -> str:
        return self.llm._model.token_get_text(token) if token >= 0 else ""

    def render_chat(self, messages: list[dict], continue_last: bool = True) -> str:
        """The prompt text for a list of ``{"role", "content"}`` messages, by the GGUF's chat template.

        A last message from the assistant is continued, not closed: the reply
        starts where its text stops (e.g. after ``{"answer": "``), as Ollama's
        templates do when they leave the last turn open. ``continue_last=False``
        renders it as a template that closes every turn does: closed, with a new
        assistant turn after it.
        """
        plain = [{"role": m["role"], "content": m.get("content") or ""} for m in messages]
        if continue_last and len(plain) > 1 and plain[-1]["role"] == "assistant":
            return self._chat_formatter(messages=plain[:-1]).prompt + plain[-1]["content"]
        return self._chat_formatter(messages=plain).prompt

    def tokenize(self, text: str) -> list[int]:
        # special=True: template markers such as <|im_start|> are control tokens, not text.
        return self.llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)

    def _is_end_of_generation(self, token: int) -> bool:
        return bool(llama_cpp.llama_vocab_is_eog(self._vocab, token))

    def _batch_starts(self, tokens: list[int]) -> list[int]:
        """Where each evaluation batch of ``tokens`` starts: after a blank line or a line ending in a colon
        (a header such as "IMPRESSION:"), and every ``CHUNK_TOKENS`` between those."""
        starts, tail = [0], ""
        for i, token in enumerate(tokens[:-1]):
            tail = (tail + self._text_of(token))[-2:]
            if tail in ("\n\n", ":\n"):
                starts.append(i + 1)
        ends = starts[1:] + [len(tokens)]
        return [chunk for start, end in zip(starts, ends) for chunk in range(start, end, CHUNK_TOKENS)]

    def _text_of(self, token: int) -> str:
        if token not in self._texts:
            self._texts[token] = self.llm.detokenize([token], special=True).decode("utf-8", errors="replace")
        return self._texts[token]

    def _last_logits(self) -> np.ndarray:
        pointer = self.llm._ctx.get_logits()
        return np.ctypeslib.as_array(ctypes.cast(pointer, ctypes.POINTER(ctypes.c_float)), shape=(self._n_vocab,))

    def generate(
        self,
        prompt: str,
        options: GenerationOptions,
        grammar: LlamaGrammar | None = None,
        logprobs: bool = False,
        top_logprobs: int = 0,
        stats: GenerationStats | None = None,
        keep_when_cut: int | None = None,
    ) -> Iterator[TokenStep]:
        """Yield generated tokens; the caller must hold ``lock``.

        ``stats`` is filled in as generation proceeds, so a caller that stops
        early still has correct counts. A prompt that does not fit ``num_ctx``
        is refused (``PromptTooLong``), or, with ``keep_when_cut``, cut as
        Ollama's runner cuts it: that many tokens from its start and as many
        from its end as fit, leaving room for one generated token.
        """
        stats = stats if stats is not None else GenerationStats()
        tokens = self.tokenize(prompt)
        if len(tokens) >= self.num_ctx and keep_when_cut is not None:
            keep = min(keep_when_cut, self.num_ctx - 2)
            tokens = tokens[:keep] + tokens[len(tokens) - (self.num_ctx - 1 - keep):]
        stats.prompt_tokens = len(tokens)
        room = self.num_ctx - len(tokens)
        if room <= 0:
            raise PromptTooLong(len(tokens), self.num_ctx)
        limit = room if options.num_predict < 0 else min(options.num_predict, room)
        cached = common_prefix(self.llm.input_ids[: self.llm.n_tokens], tokens)
        starts = self._batch_starts(tokens)
        # At least the last prompt token is evaluated: its logits give the first answer token.
        reused = max(start for start in starts if start <= min(cached, len(tokens) - 1))
        stats.prompt_tokens_evaluated = len(tokens) - reused
        self.llm.set_seed(options.seed if options.seed is not None else random.randrange(2**31))
        top_logprobs = min(max(top_logprobs, 0), MAX_TOP_LOGPROBS)

        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        held_back = ""  # text that may be the start of a stop sequence
        longest_stop = max((len(s) for s in options.stop), default=0)
        clock = time.perf_counter_ns()
        first = True
        self.llm.n_tokens = reused  # the KV cache past this point is dropped by the next evaluation
        pending = [start for start in starts if start > reused]
        for start, end in zip([reused, *pending[:-1]], pending):
            self.llm.eval(tokens[start:end])
        stream = self.llm.generate(
            tokens[pending[-1] if pending else reused:],
            temp=options.temperature,
            top_k=options.top_k,
            top_p=options.top_p,
            min_p=options.min_p,
            repeat_penalty=options.repeat_penalty,
            grammar=grammar,
            reset=False,
        )
        try:
            for token in stream:
                now = time.perf_counter_ns()
                if first:
                    stats.prompt_eval_ns, first = now - clock, False
                else:
                    stats.eval_ns += now - clock
                clock = now
                if self._is_end_of_generation(token):
                    stats.done_reason = "stop"
                    break
                stats.generated_tokens += 1
                piece = self.llm.detokenize([token], special=False)
                step = TokenStep(text="", token_text=piece.decode("utf-8", errors="replace"), token_bytes=piece)
                if logprobs:
                    # The logits that produced this token are still in the context.
                    distribution = _log_softmax(self._last_logits())
                    step.logprob = float(distribution[token])
                    if top_logprobs:
                        best = np.argpartition(-distribution, top_logprobs)[:top_logprobs]
                        best = best[np.argsort(-distribution[best])]
                        step.top_logprobs = [
                            (self.llm.detokenize([int(t)]).decode("utf-8", errors="replace"),
                             self.llm.detokenize([int(t)]), float(distribution[t]))
                            for t in best
                        ]
                text = held_back + decoder.decode(piece)
                hits = [text.index(stop) for stop in options.stop if stop and stop in text]
                if hits:
                    hit = min(hits)
                    step.text = text[:hit]
                    yield step
                    stats.done_reason = "stop"
                    return
                keep = _stop_prefix_length(text, options.stop, longest_stop)
                step.text, held_back = text[: len(text) - keep], text[len(text) - keep:]
                yield step
                if stats.generated_tokens >= limit:
                    stats.done_reason = "length"
                    break
            if held_back or decoder.getstate()[0]:
                yield TokenStep(text=held_back + decoder.decode(b"", final=True), token_text="", token_bytes=b"")
        finally:
            stream.close()


def common_prefix(cached, tokens: list[int]) -> int:
    """How many leading tokens two token sequences share."""
    length = 0
    for old, new in zip(cached, tokens):
        if old != new:
            break
        length += 1
    return length


def _stop_prefix_length(text: str, stops: list[str], longest: int) -> int:
    """How many trailing characters of ``text`` could begin a stop sequence."""
    for keep in range(min(longest - 1, len(text)), 0, -1):
        tail = text[-keep:]
        if any(stop.startswith(tail) for stop in stops):
            return keep
    return 0
