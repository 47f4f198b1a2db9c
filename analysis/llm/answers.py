"""Reading a model's answer out of a server response: the JSON it wrote, or the log-probabilities at the answer token.

A structured answer is validated against the task's JSON schema again on
arrival, because some Ollama runners ignore ``format``. A first-token answer
is the likeliest allowed answer at the token after the answer prefix.
Its ``p_yes`` is the probability of ``Yes`` among the allowed answers where
the answer is decided (``decision_probabilities``).
"""

import json
import math

import jsonschema

from analysis.specs import Task

# Enough alternatives that every allowed answer's first token is among them.
TOP_LOGPROBS = 20


def parse_answer(response: dict, task: Task) -> tuple[str | list[str] | None, str]:
    """The answer and, when it is not a clean answer, the reason."""
    if task.decision == "first_token":
        return _first_token_answer(response, task)
    content = response.get("message", {}).get("content", "")
    cut_off = " (cut off by num_predict)" if response.get("done_reason") == "length" else ""
    try:
        value = json.loads(content)
    except json.JSONDecodeError:
        return None, f"invalid answer: not JSON{cut_off}"
    try:
        jsonschema.validate(value, task.answer_schema)
    except jsonschema.ValidationError as error:
        return None, f"invalid answer: {error.message}"
    answer = value[task.answer_field]
    if task.multiple:  # canonical order, each site once
        answer = [a for a in task.answers if a in answer]
    return answer, ""


def _first_token_answer(response: dict, task: Task) -> tuple[str | None, str]:
    if not response.get("logprobs"):
        return None, "invalid answer: the server returned no log-probabilities (set the task's decision: structured)"
    probabilities = decision_probabilities(response, task)
    if probabilities is None:
        return None, f"invalid answer: no allowed answer among the {TOP_LOGPROBS} likeliest first tokens"
    return max(probabilities, key=probabilities.get), ""


def _token(candidate: dict) -> str:
    """A candidate token without the space or quote a tokenizer may glue before a word."""
    return candidate.get("token", "").lstrip(' "')


def begins_answer(candidate: dict, answers: list[str]) -> bool:
    """Whether a candidate token is the start of an allowed answer."""
    token = _token(candidate)
    return bool(token) and any(answer.startswith(token) for answer in answers)


def answer_probabilities(entry: dict, answers: list[str]) -> dict[str, float] | None:
    """Each allowed answer's probability at one token position, renormalised over the answers.

    An answer's probability is that of its most likely first token among the
    token chosen and the alternatives returned; None when none begins an answer.
    """
    best = {a: -math.inf for a in answers}
    for candidate in [entry, *entry.get("top_logprobs", [])]:
        token = _token(candidate)
        for answer in answers:
            if token and answer.startswith(token):
                best[answer] = max(best[answer], candidate["logprob"])
    total = sum(math.exp(v) for v in best.values())
    return {a: math.exp(v) / total for a, v in best.items()} if total else None


def decision_probabilities(response: dict, task: Task) -> dict[str, float] | None:
    """Each allowed answer's probability where ``task`` is decided: at the reply's first token for ``first_token``
    (whatever token was chosen there, as the answer is), at the written answer's first token for ``structured``;
    None without log-probabilities there."""
    logprobs = response.get("logprobs")
    if task.decision == "first_token":
        return answer_probabilities(logprobs[0], task.answers) if logprobs else None
    return first_token_probabilities(logprobs, task.answers)


def first_token_probabilities(logprobs: list[dict] | None, answers: list[str]) -> dict[str, float] | None:
    """Each allowed answer's probability at the first token chosen that begins an answer; None where none does."""
    for entry in logprobs or []:
        if begins_answer(entry, answers):
            return answer_probabilities(entry, answers)
    return None
