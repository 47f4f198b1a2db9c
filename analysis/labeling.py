"""A labeling run: stage 1 for every model, stage 2 on the gated reports, the ensemble, the manifest.

Stage 1 asks each model of the run whether each report's impression describes
active extravasation. Stage 2, as in the study, asks every model where the
bleeding is, for the reports that the run's gate model called ``Yes``. The
ensemble votes on both. Every report appears once per model in the labels,
with a reason wherever its label is not a clean model answer.
"""

import os
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from analysis.asking import UNDEFINED, Asker, AskSummary
from analysis.cache import ResponseCache
from analysis.client import connect, describe_models
from analysis.config import RESPONSE_CACHE_FILE
from analysis.ensemble import majority_vote
from analysis.impression import extract_impression
from analysis.manifest import build_manifest, write_manifest
from analysis.specs import Run, SpecError, load_run, load_task

LABEL_COLUMNS = ["report_id", "model", "extravasation", "locations", "p_yes", "reason"]


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


def _stage1_rows(tag: str, inputs: pd.DataFrame, answers: dict) -> list[dict]:
    rows = []
    for report in inputs.itertuples():
        row = {"report_id": report.report_id, "model": tag, "locations": "", "p_yes": None}
        answer = answers.get(report.report_id)
        if answer is None:
            rows.append(row | {"extravasation": UNDEFINED, "reason": report.reason})
        else:
            rows.append(row | {"extravasation": answer.value or UNDEFINED, "reason": answer.reason, "p_yes": answer.p_yes})
    return rows


def _locations_cell(answer) -> str:
    if answer.value is None:
        return ""
    return ";".join(answer.value)


def label_reports(
    reports: pd.DataFrame,
    run: Run | str = "embedded",
    models: list[str] | None = None,
    limit: int | None = None,
    host: str | None = None,
    cache_path: Path = RESPONSE_CACHE_FILE,
    refresh: bool = False,
    workers: int | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Labels of every report by every model of the run and by their ensemble, and the run's manifest.

    ``run`` is a run file's name or a ``Run``, so that a notebook or a test may change one before using it.
    """
    started = datetime.now(timezone.utc)
    run = load_run(run) if isinstance(run, str) else run
    task = load_task(run.task)
    locator = load_task(run.localization.task) if run.localization else None
    tags = models or run.tags
    unknown = [t for t in tags if t not in run.tags]
    if unknown:
        raise SpecError(f"run '{run.name}' has no model(s) {unknown}; its models: {run.tags}")
    reports = reports.head(limit) if limit else reports
    inputs = prompt_inputs(reports, run)
    sendable = {r.report_id: r.prompt_text for r in inputs.itertuples() if r.prompt_text is not None}
    server = connect(host)
    described = describe_models(server, tags)
    digests = {tag: about["digest"] for tag, about in described.items()}
    cache = ResponseCache(cache_path)
    workers = workers or run.workers

    def asker(tag, which):
        return Asker(server, cache, tag, digests[tag], which, run.options_for(tag, which), run.keep_alive,
                     refresh, run.over_long)

    summaries: list[AskSummary] = []
    try:
        rows = []
        for tag in tags:
            answers, summary = asker(tag, task).ask_all(sendable, workers)
            summaries.append(summary)
            rows += _stage1_rows(tag, inputs, answers)
        labels = pd.DataFrame(rows, columns=LABEL_COLUMNS)

        gated: list[str] = []
        if locator and run.localization.gate in tags:
            gate_says_yes = labels[(labels.model == run.localization.gate) & (labels.extravasation == "Yes")]
            gated = gate_says_yes.report_id.tolist()
            for tag in tags:
                located, summary = asker(tag, locator).ask_all({i: sendable[i] for i in gated}, workers)
                summaries.append(summary)
                cells = {report_id: _locations_cell(answer) for report_id, answer in located.items()}
                mine = labels.model == tag
                labels.loc[mine, "locations"] = labels.loc[mine, "report_id"].map(cells).fillna("")
    finally:
        cache.close()

    if len(tags) > 1:
        labels = pd.concat([labels, majority_vote(labels, tags, gated)], ignore_index=True)
    manifest = build_manifest(
        run=run, tasks=[t for t in (task, locator) if t], tags=tags, described=described, server=server,
        summaries=summaries, labels=labels, inputs=inputs, gated=gated, started=started, workers=workers,
    )
    return labels, manifest


def write_outputs(labels: pd.DataFrame, manifest: dict, out_dir: Path, cache_path: Path = RESPONSE_CACHE_FILE) -> list[Path]:
    """``labels.csv`` and ``manifest.json`` in ``out_dir``; every raw response as CSV beside the cache."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    labels_path = out_dir / "labels.csv"
    labels[LABEL_COLUMNS].to_csv(labels_path, index=False)
    os.chmod(labels_path, 0o600)  # labels sit beside report ids of private data
    cache = ResponseCache(cache_path)
    try:
        responses_path = cache.export(Path(cache_path).with_suffix(".csv"))
    finally:
        cache.close()
    return [labels_path, write_manifest(manifest, out_dir), responses_path]
