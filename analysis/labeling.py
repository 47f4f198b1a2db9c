"""Stage 1 labeling: ask each model of a run about each report's impression.

Every request is answered from the response cache when it can be; only what
the cache lacks goes to the server. Each answer is validated against the
task's JSON schema (some Ollama runners ignore ``format``), and the
probability of ``Yes`` is read from the log-probabilities of the answer token.
"""

import json
import math
import os
from pathlib import Path

import jsonschema
import pandas as pd
from tqdm.auto import tqdm

from analysis.cache import ResponseCache, cache_key
from analysis.client import Server, connect, model_digests
from analysis.config import RESPONSE_CACHE_FILE
from analysis.ensemble import majority_vote
from analysis.impression import extract_impression
from analysis.specs import Run, SpecError, Task, load_run, load_task

LABEL_COLUMNS = ["report_id", "model", "extravasation", "locations", "p_yes", "reason"]
# Enough alternatives that every allowed answer's first token is among them.
TOP_LOGPROBS = 20
POSITIVE = "Yes"
UNDEFINED = "Undefined"


def build_request(tag: str, task: Task, impression: str, options: dict) -> dict:
    return {
        "model": tag,
        "messages": task.messages(impression),
        "format": task.answer_schema,
        "options": options,
        "logprobs": True,
        "top_logprobs": TOP_LOGPROBS,
    }


def parse_answer(response: dict, task: Task) -> tuple[str, str]:
    """The label and, when it is not a clean answer, the reason."""
    content = response.get("message", {}).get("content", "")
    cut_off = " (cut off by num_predict)" if response.get("done_reason") == "length" else ""
    try:
        value = json.loads(content)
    except json.JSONDecodeError:
        return UNDEFINED, f"invalid answer: not JSON{cut_off}"
    try:
        jsonschema.validate(value, task.answer_schema)
    except jsonschema.ValidationError as error:
        return UNDEFINED, f"invalid answer: {error.message}"
    return value[task.answer_field], ""


def p_yes(logprobs: list[dict], answers: list[str], positive: str = POSITIVE) -> float | None:
    """P(positive) among the allowed answers, at the first token that begins an answer.

    Each answer's probability is that of its most likely first token among the
    alternatives returned; the three are renormalised so they sum to one.
    """
    for entry in logprobs or []:
        chosen = entry.get("token", "").lstrip(' "')
        if not chosen or not any(a.startswith(chosen) for a in answers):
            continue
        best = {a: -math.inf for a in answers}
        for candidate in [entry, *entry.get("top_logprobs", [])]:
            token = candidate.get("token", "").lstrip(' "')
            for answer in answers:
                if token and answer.startswith(token):
                    best[answer] = max(best[answer], candidate["logprob"])
        total = sum(math.exp(v) for v in best.values())
        return math.exp(best[positive]) / total if total else None
    return None


def label_with_model(
    tag: str, digest: str, reports: pd.DataFrame, run: Run, task: Task, server: Server, cache: ResponseCache
) -> list[dict]:
    """One row per report. ``reports`` has ``report_id`` and ``prompt_text`` (None: no model call)."""
    options = run.options_for(tag)
    rows, hits = [], 0
    for report in tqdm(reports.itertuples(), total=len(reports), desc=tag, unit="report"):
        row = {"report_id": report.report_id, "model": tag, "locations": "", "p_yes": None}
        if report.prompt_text is None:
            rows.append(row | {"extravasation": UNDEFINED, "reason": report.reason})
            continue
        request = build_request(tag, task, report.prompt_text, options)
        key = cache_key(digest, task.version, request)
        response = cache.get(key)
        if response is None:
            response = server.client.chat(**request, stream=False).model_dump(exclude_none=True)
            cache.put(key, model=tag, digest=digest, task=task.name, task_version=task.version,
                      report_id=report.report_id, server=server.version, request=request, response=response)
        else:
            hits += 1
        label, reason = parse_answer(response, task)
        rows.append(row | {"extravasation": label, "reason": reason, "p_yes": p_yes(response.get("logprobs"), task.answers)})
    print(f"{tag}: {len(reports)} reports, {hits} answered from the cache")
    return rows


def prompt_inputs(reports: pd.DataFrame, run: Run) -> pd.DataFrame:
    """What each report sends to the models: its impression, or nothing and why."""
    impressions = [extract_impression(text) for text in reports.report_text]
    prompt_text, reason = [], []
    for impression, text in zip(impressions, reports.report_text):
        if impression.text is None and run.no_impression == "full_report" and text.strip():
            prompt_text.append(text)
            reason.append("")
        else:
            prompt_text.append(impression.text)
            reason.append(impression.reason)
    return pd.DataFrame({
        "report_id": reports.report_id,
        "prompt_text": pd.Series(prompt_text, dtype=object),
        "reason": reason,
        "impression_method": [i.method for i in impressions],
    })


def label_reports(
    reports: pd.DataFrame,
    run_name: str = "embedded",
    models: list[str] | None = None,
    limit: int | None = None,
    host: str | None = None,
    cache_path: Path = RESPONSE_CACHE_FILE,
) -> pd.DataFrame:
    """Labels of every report by every model of the run, then by their ensemble."""
    run = load_run(run_name)
    task = load_task(run.task)
    tags = models or run.tags
    unknown = [t for t in tags if t not in run.tags]
    if unknown:
        raise SpecError(f"run '{run.name}' has no model(s) {unknown}; its models: {run.tags}")
    reports = reports.head(limit) if limit else reports
    inputs = prompt_inputs(reports, run)
    server = connect(host)
    digests = model_digests(server, tags)
    cache = ResponseCache(cache_path)
    try:
        rows = [row for tag in tags for row in label_with_model(tag, digests[tag], inputs, run, task, server, cache)]
    finally:
        cache.close()
    labels = pd.DataFrame(rows, columns=LABEL_COLUMNS)
    if len(tags) > 1:
        labels = pd.concat([labels, majority_vote(labels, tags)], ignore_index=True)
    return labels


def write_labels(labels: pd.DataFrame, out_dir: Path) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "labels.csv"
    labels[LABEL_COLUMNS].to_csv(path, index=False)
    os.chmod(path, 0o600)  # labels sit beside report ids of private data
    return path
