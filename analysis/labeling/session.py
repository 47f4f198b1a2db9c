"""A run's session: its models on the servers that answer, its tasks, its rules and the response cache.

A ``Session`` is made once per run (or per notebook) and handed to the stage
functions (``analysis.labeling.stage1``, ``analysis.labeling.stage2``) by the
run's steps (``analysis.labeling.pipeline``). It connects to the servers when a stage
first asks, so that a step that asks no model (the ensemble) needs none.
Before a stage asks anything, ``check`` runs the preflight
(``analysis.llm.preflight``): how each model must be asked on these servers,
and what room its template takes.
"""

from datetime import datetime
from functools import cached_property
from pathlib import Path

import pandas as pd

from analysis.config import RESPONSE_CACHE_FILE
from analysis.data.vocabulary import BASELINE
from analysis.labeling.manifest import Manifest, start_manifest
from analysis.labeling.priority import load_priority
from analysis.llm.asking import TEMPLATE_ALLOWANCE_TOKENS, Answer, Asker, AskSummary
from analysis.llm.backend import Backend
from analysis.llm.cache import ResponseCache
from analysis.llm.client import connect_all, describe_models
from analysis.llm.preflight import Preflight, preflight
from analysis.specs import Run, SpecError, Task, load_run, load_site_cuts, load_task, stage1_task_name


class Session:
    """The models of a run, on the servers that answer, with the response cache.

    ``models`` limits the run to some of its labelers (model tags, or ``rules``
    for the rule-based baseline, which needs no server). ``host`` is one server
    in place of the run file's ``hosts``; ``workers`` the requests in flight to
    each server in place of the run file's. ``task`` replaces the run's
    stage-1 task: a ``Task`` (e.g. a prompt being edited) or a variant name
    (``guideline`` for ``extravasation_guideline``). ``allow_raw`` asks models
    whose template puts no chat structure around the messages, which the
    preflight otherwise refuses.
    """

    def __init__(self, run: Run | str = "embedded", models: list[str] | None = None, host: str | None = None,
                 cache_path: Path = RESPONSE_CACHE_FILE, refresh: bool = False, workers: int | None = None,
                 task: Task | str | None = None, allow_raw: bool = False):
        self.run = load_run(run) if isinstance(run, str) else run
        if isinstance(task, str):
            task = load_task(stage1_task_name(task))
        self.task = task or load_task(self.run.task)
        self.run = self.run.model_copy(update={"task": self.task.name})  # the manifest names the task asked
        self.locator = load_task(self.run.localization.task) if self.run.localization else None
        evidence = self.run.localization and self.run.localization.evidence
        self.evidence_task = load_task(evidence) if evidence else None
        localization = self.run.localization
        self.site_task = load_task(localization.site_probes) if localization and localization.site_probes else None
        self.site_cuts = load_site_cuts(localization.site_cuts) if localization and localization.site_cuts else None
        if self.site_cuts and (self.site_cuts.task, self.site_cuts.task_version) != (self.site_task.name, self.site_task.version):
            raise SpecError(f"site cuts {localization.site_cuts} were chosen for {self.site_cuts.task} "
                            f"v{self.site_cuts.task_version}, not for {self.site_task.name} v{self.site_task.version}: "
                            "choose them again (python -m analysis site-cuts)")
        # Read now, so that a missing or broken file stops the run before any model is asked, not after.
        self.priority = load_priority(self.run)
        chosen = models or self.run.labelers
        unknown = [t for t in chosen if t not in self.run.labelers]
        if unknown:
            raise SpecError(f"run '{self.run.name}' has no model(s) {unknown}; its models: {self.run.labelers}")
        self.tags = [t for t in chosen if t != BASELINE]
        self.rules = None
        if BASELINE in chosen:
            # Imported here: medspaCy and spaCy load only when the baseline runs.
            from analysis.labeling.baseline import load_rules

            self.rules = load_rules(self.run.baseline)
        self.host, self.workers = host, workers
        self.cache_path, self.refresh, self.allow_raw = cache_path, refresh, allow_raw
        self.checks: dict[str, Preflight] = {}  # task name -> the preflight of its requests

    @cached_property
    def servers(self) -> list[Backend]:
        """The servers that answer for the session's models; none for the rule-based baseline alone."""
        return connect_all(self.run, self.tags, self.host, self.workers) if self.tags else []

    @cached_property
    def described(self) -> dict[str, dict]:
        """Each model's identity and details, as its servers report them."""
        return describe_models(self.servers, self.tags) if self.tags else {}

    @property
    def tasks(self) -> list[Task]:
        return [t for t in (self.task, self.locator, self.evidence_task, self.site_task) if t]

    def manifest(self, inputs: pd.DataFrame, started: datetime) -> Manifest:
        return start_manifest(run=self.run, tasks=self.tasks, tags=self.tags, described=self.described,
                              servers=self.servers, inputs=inputs, started=started, rules=self.rules,
                              preflight={name: check.record() for name, check in self.checks.items()})

    def check(self, task: Task, texts) -> Preflight | None:
        """The preflight of ``task`` on these servers, with the longest of ``texts``; printed, and kept for the
        manifest and for asking. None when the session asks no model."""
        if not self.tags:
            return None
        cache = ResponseCache(self.cache_path)
        try:
            self.checks[task.name] = preflight(self.servers, self.run, task, self.described, texts, cache,
                                               self.allow_raw)
        finally:
            cache.close()
        print(self.checks[task.name].table())
        return self.checks[task.name]

    def _asked_as(self, tag: str, task: Task) -> tuple[Task, int, int]:
        """The task as ``tag`` is asked it on these servers (its decision, by the preflight), and the room its
        template takes, in bytes and in words."""
        check = self.checks.get(task.name)
        if check is None:
            return task, TEMPLATE_ALLOWANCE_TOKENS, 0
        model = check.check_of(tag)
        room = TEMPLATE_ALLOWANCE_TOKENS if model.template_bytes is None else model.template_bytes
        return task.model_copy(update={"decision": model.decision}), room, model.template_words

    def ask(self, task: Task, texts: dict[str, str]) -> tuple[dict[str, dict[str, Answer]], list[AskSummary]]:
        """``{tag: {report_id: Answer}}`` for every model of the session, one model after another."""
        cache = ResponseCache(self.cache_path)
        try:
            results, summaries = {}, []
            for tag in self.tags:
                asked, template_bytes, template_words = self._asked_as(tag, task)
                serving = [server for server in self.servers if server.serves(tag)]
                asker = Asker(serving, cache, tag, self.described[tag]["digest"], asked,
                              self.run.options_for(tag, task), self.run.keep_alive, self.refresh, self.run.over_long,
                              self.run.requests, template_bytes, template_words)
                results[tag], summary = asker.ask_all(texts)
                summaries.append(summary)
            return results, summaries
        finally:
            cache.close()
