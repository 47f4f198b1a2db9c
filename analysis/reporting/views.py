"""What the notebooks show of a step's files: reports beside their impressions, the answers counted, one
exchange with a model as it was sent and answered, and the reports on which the models disagree.
"""

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.labeling.labels import voters
from analysis.llm.answers import answer_probabilities
from analysis.llm.cache import ResponseCache


def impression_examples(reports: pd.DataFrame, inputs: pd.DataFrame) -> pd.DataFrame:
    """One report for each way its impression was found (each header) or not found (each reason), with the
    report's text beside what is sent to the models."""
    joined = inputs.merge(reports, on="report_id")
    joined["way"] = [f"not sent: {reason}" if reason else f"found by {method}"
                     for method, reason in zip(joined.impression_method, joined.reason)]
    first = joined.drop_duplicates("way").sort_values("way")
    return pd.DataFrame({
        "way": first.way, "report_id": first.report_id, "report": first.report_text,
        "sent to the models": first.prompt_text.fillna("(nothing)"),
    }).reset_index(drop=True)


@dataclass
class Exchange:
    """One request as the cache holds it, and the response behind a label."""

    messages: list[dict]  # the chat messages sent, verbatim
    options: dict
    content: str  # the raw text of the reply
    answer_token: pd.DataFrame  # the alternatives at the first answer token: token, logprob, probability


def exchange(cache_path: Path, key: str, answers: list[str]) -> Exchange:
    """The exchange stored under ``key``; ``answers`` are the task's allowed answers, whose probabilities
    at the answer token (renormalised over them) give ``p_yes``."""
    cache = ResponseCache(cache_path, read_only=True)
    try:
        request, response = cache.request_of(key), cache.get(key)
    finally:
        cache.close()
    if response is None:
        raise KeyError(f"{cache_path}: no response under {key}")
    entries = response.get("logprobs") or [{}]
    alternatives = entries[0].get("top_logprobs", [])
    shares = answer_probabilities(entries[0], answers) if alternatives else None
    table = pd.DataFrame({
        "token": [candidate["token"] for candidate in alternatives],
        "logprob": [round(candidate["logprob"], 3) for candidate in alternatives],
        "probability": [round(math.exp(candidate["logprob"]), 4) for candidate in alternatives],
        "begins answer": [next((a for a in answers if candidate["token"].lstrip(' "') and
                                a.startswith(candidate["token"].lstrip(' "'))), "") for candidate in alternatives],
    })
    table.attrs["renormalised"] = shares or {}
    return Exchange(request["messages"], request.get("options", {}), response.get("message", {}).get("content", ""),
                    table)


def answer_counts(labels: pd.DataFrame) -> pd.DataFrame:
    """How many reports each label set called Yes, No and Undefined."""
    return labels.groupby("model", sort=False).extravasation.value_counts().unstack(fill_value=0)


def disagreements(labels: pd.DataFrame, limit: int = 10) -> pd.DataFrame:
    """Reports on which the models that vote give different answers: each model's answer and ``p_yes``, the
    ensemble's and the rules' answers, first ``limit`` of them."""
    models = voters(labels)
    answers = labels.pivot(index="report_id", columns="model", values="extravasation")
    split = answers[answers[models].nunique(axis=1) > 1]
    scores = labels.pivot(index="report_id", columns="model", values="p_yes")[models].round(3).add_prefix("p_yes ")
    others = [column for column in answers.columns if column not in models]
    return split[models + others].join(scores).head(limit)
