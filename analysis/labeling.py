"""A labeling run: stage 1 for every model, the ensemble, stage 2 on the gated reports, the manifest.

Stage 1 asks each model of the run whether each report's impression describes
active extravasation. Stage 2, as in the study, asks every model where the
bleeding is, for the reports that the run's gate model called ``Yes``. The
ensemble votes on both. Every report appears once per model in the labels,
with a reason wherever its label is not a clean model answer.

The notebooks run the stages one at a time (``Labeler.stage1``,
``add_ensemble``, ``Labeler.stage2``) and keep each stage's output in a file;
``label_reports`` runs them all at once for the command line.
"""

import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from analysis.asking import Asker, AskSummary
from analysis.cache import ResponseCache
from analysis.client import connect, describe_models
from analysis.config import RESPONSE_CACHE_FILE
from analysis.data import BASELINE, UNDEFINED, write_table
from analysis.ensemble import ENSEMBLE, majority_vote, voters
from analysis.impression import extract_impression
from analysis.manifest import build_manifest, record_stage, write_manifest
from analysis.screening import remove_instructions
from analysis.specs import Run, SpecError, Task, load_run, load_task, stage1_task_name

LABEL_COLUMNS = ["report_id", "model", "extravasation", "locations", "p_yes", "reason"]
INPUT_COLUMNS = ["report_id", "prompt_text", "reason", "impression_method", "note"]


def prompt_inputs(reports: pd.DataFrame, run: Run) -> pd.DataFrame:
    """What each report sends to the models: its impression, or nothing (``None``) and why.

    Instruction-like sentences are cut from the text first (``analysis.screening``);
    ``note`` says what was cut, and every label of that report carries it.
    """
    rows = []
    for report_id, text in zip(reports.report_id, reports.report_text):
        impression = extract_impression(text)
        prompt_text, reason, note = impression.text, impression.reason, ""
        if prompt_text is None and run.no_impression == "full_report" and text.strip():
            prompt_text, reason = text, ""
        if prompt_text is not None:
            prompt_text, removed = remove_instructions(prompt_text)
            if removed:
                note = "instruction-like text removed before labeling: " + " | ".join(removed)
            if not prompt_text.strip():
                prompt_text, reason = None, "impression holds only instruction-like text"
        rows.append({"report_id": report_id, "prompt_text": prompt_text, "reason": reason,
                     "impression_method": impression.method, "note": note})
    inputs = pd.DataFrame(rows, columns=INPUT_COLUMNS)
    # Object dtype keeps None (not sent) apart from text; a string column would turn it into NaN.
    inputs["prompt_text"] = pd.Series([row["prompt_text"] for row in rows], index=inputs.index, dtype=object)
    return inputs


def read_inputs(path: Path) -> pd.DataFrame:
    """``prompt_inputs`` as written to CSV, where a report not sent has an empty ``prompt_text``."""
    inputs = pd.read_csv(path, dtype=str, keep_default_na=False)
    inputs["prompt_text"] = pd.Series([text or None for text in inputs.prompt_text], index=inputs.index, dtype=object)
    return inputs


def read_labels(path: Path) -> pd.DataFrame:
    labels = pd.read_csv(path, dtype=str, keep_default_na=False)
    labels["p_yes"] = pd.to_numeric(labels.p_yes, errors="coerce")
    return labels


class Labeler:
    """The models of a run, on the server that answers, with the response cache.

    ``task`` replaces the run's stage-1 task: a ``Task`` (e.g. a prompt being
    edited) or a variant name (``guideline`` for ``extravasation_guideline``).
    """

    def __init__(self, run: Run | str = "embedded", models: list[str] | None = None, host: str | None = None,
                 cache_path: Path = RESPONSE_CACHE_FILE, refresh: bool = False, workers: int | None = None,
                 task: Task | str | None = None):
        self.run = load_run(run) if isinstance(run, str) else run
        if isinstance(task, str):
            task = load_task(stage1_task_name(task))
        self.task = task or load_task(self.run.task)
        self.run = self.run.model_copy(update={"task": self.task.name})  # the manifest names the task asked
        self.locator = load_task(self.run.localization.task) if self.run.localization else None
        chosen = models or self.run.labelers
        unknown = [t for t in chosen if t not in self.run.labelers]
        if unknown:
            raise SpecError(f"run '{self.run.name}' has no model(s) {unknown}; its models: {self.run.labelers}")
        self.tags = [t for t in chosen if t != BASELINE]
        self.rules = None
        if BASELINE in chosen:
            # Imported here: medspaCy and spaCy load only when the baseline runs.
            from analysis.baseline import load_rules

            self.rules = load_rules(self.run.baseline)
        # The rule-based baseline alone needs no LLM server.
        self.server = connect(host) if self.tags else None
        self.described = describe_models(self.server, self.tags) if self.tags else {}
        self.cache_path, self.refresh = cache_path, refresh
        self.workers = workers or self.run.workers

    @property
    def tasks(self) -> list:
        return [t for t in (self.task, self.locator) if t]

    def manifest(self, inputs: pd.DataFrame, started: datetime) -> dict:
        return build_manifest(run=self.run, tasks=self.tasks, tags=self.tags, described=self.described,
                              server=self.server, inputs=inputs, started=started, workers=self.workers,
                              rules=self.rules)

    def _ask(self, task, texts: dict[str, str]) -> tuple[dict[str, dict], list[AskSummary]]:
        cache = ResponseCache(self.cache_path)
        try:
            results, summaries = {}, []
            for tag in self.tags:
                asker = Asker(self.server, cache, tag, self.described[tag]["digest"], task,
                              self.run.options_for(tag, task), self.run.keep_alive, self.refresh, self.run.over_long,
                              self.run.requests)
                results[tag], summary = asker.ask_all(texts, self.workers)
                summaries.append(summary)
            return results, summaries
        finally:
            cache.close()

    def stage1(self, inputs: pd.DataFrame) -> tuple[pd.DataFrame, list[AskSummary]]:
        """One row per report and model, then the baseline's; reports not sent are ``Undefined`` with the reason.

        The baseline's rows carry their sites already: its stage 2 is the same pass.
        """
        sendable = {r.report_id: r.prompt_text for r in inputs.itertuples() if isinstance(r.prompt_text, str)}
        answers, summaries = self._ask(self.task, sendable)
        rows = []
        for tag in self.tags:
            for report in inputs.itertuples():
                answer = answers[tag].get(report.report_id)
                row = {"report_id": report.report_id, "model": tag, "locations": ""}
                if answer is None:
                    row |= {"extravasation": UNDEFINED, "p_yes": None, "reason": report.reason}
                else:
                    row |= {"extravasation": answer.value or UNDEFINED, "p_yes": answer.p_yes, "reason": answer.reason}
                rows.append(row)
        labels = pd.DataFrame(rows, columns=LABEL_COLUMNS)
        if self.rules:
            baseline, summary = self._label_with_rules(inputs)
            labels = pd.concat([labels, baseline], ignore_index=True)
            summaries.append(summary)
        notes = labels.report_id.map(inputs.set_index("report_id").note).fillna("")
        labels["reason"] = [
            "; ".join(part for part in (reason, note) if part) for reason, note in zip(labels.reason.fillna(""), notes)
        ]
        return labels, summaries

    def _label_with_rules(self, inputs: pd.DataFrame) -> tuple[pd.DataFrame, AskSummary]:
        from analysis.baseline import label_with_rules

        started = time.perf_counter()
        labels = label_with_rules(inputs, self.rules)
        return labels, AskSummary(BASELINE, f"rules {self.run.baseline} v{self.rules.version}",
                                  asked=len(inputs), from_cache=0, seconds=time.perf_counter() - started)

    def gated(self, labels: pd.DataFrame) -> list[str]:
        """The reports stage 2 asks about: those the gate model called Yes."""
        if not self.locator or self.run.localization.gate not in self.tags:
            return []
        gate = labels[(labels.model == self.run.localization.gate) & (labels.extravasation == "Yes")]
        return gate.report_id.tolist()

    def stage2(self, inputs: pd.DataFrame, labels: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[AskSummary]]:
        """``labels`` with every model's sites filled in for the gated reports, and the ensemble's voted."""
        gated = self.gated(labels)
        texts = inputs.set_index("report_id").prompt_text
        located, summaries = self._ask(self.locator, {i: texts[i] for i in gated}) if gated else ({}, [])
        labels = labels.copy()
        for tag, answers in located.items():
            cells = {report_id: ";".join(answer.value or []) for report_id, answer in answers.items()}
            mine = labels.model == tag
            labels.loc[mine, "locations"] = labels.loc[mine, "report_id"].map(cells).fillna("")
        if ENSEMBLE in set(labels.model):
            voted = majority_vote(labels[labels.model.isin(self.tags)], self.tags, gated)
            labels = labels.copy()
            labels.loc[labels.model == ENSEMBLE, "locations"] = (
                labels.loc[labels.model == ENSEMBLE, "report_id"].map(voted.set_index("report_id").locations).fillna(""))
        return labels, gated, summaries


def add_ensemble(labels: pd.DataFrame) -> pd.DataFrame:
    """The models' labels, the ensemble's when there is more than one model, then the baseline's."""
    models = voters(labels)
    if len(models) < 2:
        return labels
    members = labels[labels.model.isin(models)]
    return pd.concat([members, majority_vote(members, models), labels[~labels.model.isin(models)]], ignore_index=True)


def label_reports(
    reports: pd.DataFrame,
    run: Run | str = "embedded",
    models: list[str] | None = None,
    limit: int | None = None,
    host: str | None = None,
    cache_path: Path = RESPONSE_CACHE_FILE,
    refresh: bool = False,
    workers: int | None = None,
    task: Task | str | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Labels of every report by every model of the run and by their ensemble, and the run's manifest.

    ``run`` is a run file's name or a ``Run``, so that a notebook or a test may change one before using it;
    ``task`` replaces its stage-1 task (see ``Labeler``).
    """
    started = datetime.now(timezone.utc)
    labeler = Labeler(run, models, host, cache_path, refresh, workers, task)
    inputs = prompt_inputs(reports.head(limit) if limit else reports, labeler.run)
    stage1, first = labeler.stage1(inputs)
    labels, gated, second = labeler.stage2(inputs, add_ensemble(stage1))
    manifest = record_stage(labeler.manifest(inputs, started), first + second, labels, gated)
    return labels, manifest


def write_outputs(labels: pd.DataFrame, manifest: dict, out_dir: Path, cache_path: Path = RESPONSE_CACHE_FILE) -> list[Path]:
    """``labels.csv`` and ``manifest.json`` in ``out_dir``; every raw response as CSV beside the cache."""
    labels_path = write_table(labels[LABEL_COLUMNS], Path(out_dir) / "labels.csv")
    return [labels_path, write_manifest(manifest, out_dir), export_responses(cache_path)]


def export_responses(cache_path: Path = RESPONSE_CACHE_FILE) -> Path:
    cache = ResponseCache(cache_path)
    try:
        return cache.export(Path(cache_path).with_suffix(".csv"))
    finally:
        cache.close()
