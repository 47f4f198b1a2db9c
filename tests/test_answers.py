"""Parsing model answers and reading p_yes from log-probabilities.

The responses here are written by hand in the shape the Ollama API returns,
to test the code around the model; no model is called.
"""

import math

import pytest

from analysis.llm.answers import decision_probabilities, first_token_probabilities, parse_answer
from analysis.specs import load_task

# The structured path: the model writes the JSON answer (the first-token path is tested at the end).
TASK = load_task("extravasation_zeroshot").model_copy(update={"decision": "structured"})


def response(content, done_reason="stop"):
    return {"message": {"role": "assistant", "content": content}, "done_reason": done_reason}


@pytest.mark.parametrize("answer", ["Yes", "No", "Undefined"])
def test_valid_answers_are_clean(answer):
    assert parse_answer(response(f'{{"answer": "{answer}"}}'), TASK) == (answer, "")


@pytest.mark.parametrize(
    "content, reason",
    [
        ("Yes", "invalid answer: not JSON"),
        ('{"answer": "yes"}', "invalid answer: 'yes' is not one of ['Yes', 'No', 'Undefined']"),
        ('{"label": "Yes"}', "invalid answer: 'answer' is a required property"),
        ("", "invalid answer: not JSON"),
    ],
)
def test_invalid_answers_have_no_value_and_a_reason(content, reason):
    assert parse_answer(response(content), TASK) == (None, reason)


def test_a_cut_off_answer_says_so():
    assert parse_answer(response('{"answer": "Und', "length"), TASK) == (
        None, "invalid answer: not JSON (cut off by num_predict)")


def test_locations_come_back_once_each_in_canonical_order():
    locator = load_task("extravasation_location")
    content = '{"locations": ["spleen", "bowel", "spleen"]}'
    assert parse_answer(response(content), locator) == (["bowel", "spleen"], "")
    assert parse_answer(response('{"locations": []}'), locator)[1].startswith("invalid answer: [] should be non-empty")


def entry(token, logprob, alternatives):
    return {"token": token, "logprob": logprob, "top_logprobs": [{"token": t, "logprob": lp} for t, lp in alternatives]}


def test_p_yes_renormalises_over_the_allowed_answers_at_the_answer_token():
    logprobs = [
        entry('{"', -0.01, [('{"', -0.01)]),
        entry("answer", -0.01, [("answer", -0.01)]),
        entry('":', -0.01, [('":', -0.01)]),
        entry(' "', -0.01, [(' "', -0.01)]),
        entry("No", math.log(0.6), [("No", math.log(0.6)), ("Yes", math.log(0.3)), ("Und", math.log(0.05)), ("Maybe", math.log(0.05))]),
        entry('"}', -0.01, [('"}', -0.01)]),
    ]
    assert first_token_probabilities(logprobs, TASK.answers) == pytest.approx({"Yes": 0.3 / 0.95, "No": 0.6 / 0.95, "Undefined": 0.05 / 0.95})


def test_answer_probabilities_are_missing_without_logprobs():
    assert first_token_probabilities(None, TASK.answers) is None
    assert first_token_probabilities([entry("Hello", -0.1, [("Hello", -0.1)])], TASK.answers) is None


def test_first_token_decision_without_logprobs_says_to_use_structured():
    task = load_task("extravasation_zeroshot")
    assert task.decision == "first_token"
    value, reason = parse_answer({"message": {"content": "Yes"}}, task)
    assert value is None and "decision: structured" in reason


def test_first_token_decision_takes_the_likeliest_allowed_answer_even_if_another_token_was_sampled():
    task = load_task("extravasation_zeroshot")
    entry = {"token": "The", "logprob": -0.1, "top_logprobs": [
        {"token": "The", "logprob": -0.1}, {"token": "No", "logprob": -2.0}, {"token": "Yes", "logprob": -3.0}]}
    assert parse_answer({"message": {"content": "The"}, "logprobs": [entry]}, task) == ("No", "")
    # Its probabilities are read where it was decided, though the chosen token begins no answer.
    no, yes = math.exp(-2.0), math.exp(-3.0)
    assert decision_probabilities({"logprobs": [entry]}, task) == pytest.approx({"Yes": yes / (yes + no), "No": no / (yes + no), "Undefined": 0})
    nothing = {"token": "The", "logprob": -0.1, "top_logprobs": [{"token": "A", "logprob": -1.0}]}
    value, reason = parse_answer({"message": {"content": "The"}, "logprobs": [nothing]}, task)
    assert value is None and reason.startswith("invalid answer: no allowed answer")
