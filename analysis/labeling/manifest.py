"""The run manifest: what a reader needs to know to trust, report and repeat a labeling run.

It records what TRIPOD-LLM and MI-CLEAR-LLM ask a paper to state: the exact
models (tag, digest, quantization), their options, the prompts verbatim with
their versions, the servers, their backend and versions, the machine, when
the run ran and how long each model took (and which server answered how
many), and the counts it produced. ``Manifest`` is its typed form, which the
run's steps write (``analysis.labeling.pipeline``) and the figures, the benchmark and the
reproduction report read.
"""

import os
import platform
import sys
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd
from pydantic import BaseModel

from analysis import __version__
from analysis.config import RunFiles
from analysis.data.split import evaluated
from analysis.labeling.fingerprint import system_info
from analysis.llm.asking import AskSummary
from analysis.llm.backend import Backend
from analysis.llm.cache import ResponseCache
from analysis.specs import Run, Task

PACKAGES = ("ollama", "openai", "llama-cpp-python", "pandas", "scikit-learn", "jsonschema", "spacy", "medspacy")


def _package_versions() -> dict[str, str]:
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def _server_record(server: Backend) -> dict:
    return {"host": server.host, "backend": server.backend, "version": server.version, "number": server.number,
            "workers": server.workers, "models": server.models}


class Timing(BaseModel):
    """How long one label set took for one task, and how much of it came from the response cache."""

    model: str
    task: str
    asked: int
    from_cache: int
    seconds: float
    reports_per_second: float | None = None
    answered_by: dict[str, int] = {}  # responses each server gave, by its address


class Reports(BaseModel):
    """The reports of the run, and what became of them before any model answered."""

    total: int
    sent_to_models: int
    not_sent: dict[str, int]  # by reason
    impression_found_by: dict[str, int]
    instruction_like_text_removed: int
    split: dict[str, int] | None = None  # reports per part of the split, where there is one
    evaluated_on: str | None = None  # the part the tables are computed on: test, or all


class Stage2(BaseModel):
    """Whether stage 2 ran, through which gate, on how many reports, or why not."""

    ran: bool
    gate: str | None = None
    sent: int = 0  # reports the gate model called Yes
    skipped_because: str = ""
    site_cuts: dict | None = None  # the per-site cuts applied (analysis.specs.SiteCuts), as the file held them
    review_priority: dict | None = None  # the priority model applied (analysis.labeling.priority.PriorityModel)


class Manifest(BaseModel):
    package: dict
    run: dict  # the run file as it was used (its base included), the task asked named
    server: dict | None  # the first server; None when no LLM answered (the rules alone)
    servers: list[dict]
    preflight: dict  # per task: what the servers showed of each model before the run, and so how each was asked
    baseline: dict | None
    models: list[dict]
    tasks: list[dict]
    determinism: dict
    machine: dict
    started_at: str
    finished_at: str | None = None
    reports: Reports
    stage2: Stage2 | None = None  # None until stage 2 has run or been skipped
    timing: list[Timing] = []
    counts: dict[str, dict[str, int]] = {}  # answers per label set

    @property
    def gate(self) -> str | None:
        return (self.run.get("localization") or {}).get("gate")

    def seconds(self) -> dict[tuple[str, str], float]:
        """Seconds per label set and task; a stage run in parts (a resumed run) adds up."""
        totals: dict[tuple[str, str], float] = {}
        for entry in self.timing:
            totals[entry.model, entry.task] = totals.get((entry.model, entry.task), 0.0) + entry.seconds
        return totals

    def recorded(self, summaries: list[AskSummary], labels: pd.DataFrame, stage2: Stage2 | None = None) -> "Manifest":
        """This manifest with a stage's timing and the counts of the labels so far; after stage 2, its record."""
        counts = labels.groupby("model", sort=False).extravasation.value_counts().unstack(fill_value=0)
        timing = [Timing(model=s.model, task=s.task, asked=s.asked, from_cache=s.from_cache, seconds=round(s.seconds, 3),
                         reports_per_second=s.per_second and round(s.per_second, 3), answered_by=s.answered_by)
                  for s in summaries]
        return self.model_copy(update={
            "finished_at": datetime.now(timezone.utc).isoformat(), "timing": self.timing + timing,
            "counts": {model: {k: int(v) for k, v in row.items()} for model, row in counts.iterrows()},
            **({"stage2": stage2} if stage2 else {})})

    def write(self, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=2) + "\n")
        return path

    @classmethod
    def read(cls, path: Path) -> "Manifest":
        return cls.model_validate_json(Path(path).read_text())


def start_manifest(*, run: Run, tasks: list[Task], tags: list[str], described: dict[str, dict], servers: list[Backend],
                   inputs: pd.DataFrame, started: datetime, rules=None, preflight: dict | None = None) -> Manifest:
    """What is known before any model answers; ``Manifest.recorded`` adds each stage's results.

    ``servers`` is empty when no LLM answers (the rule-based baseline alone);
    ``server`` records the first, ``servers`` every one with its workers.
    ``rules`` are the baseline's rules, if it runs; ``preflight`` what the
    servers showed of each model before the run (per task), and so how each was asked.
    """
    server = servers[0] if servers else None
    return Manifest(
        package={"name": "extravasation-llm", "version": __version__},
        run=run.model_dump(mode="json", by_alias=True),
        server=server and _server_record(server),
        servers=[_server_record(each) for each in servers],
        preflight=preflight or {},
        baseline=rules and {"rule_file": rules.path.name, "version": rules.version},
        models=[{"tag": tag, **described[tag], "options": {t.name: run.options_for(tag, t) for t in tasks}} for tag in tags],
        tasks=[{"name": t.name, "version": t.version, "template": t.template, "answers": t.answers,
                "schema": t.answer_schema, "options": t.options, "decision": t.decision,
                **({"answer_prefix": t.answer_prefix} if t.decision == "first_token" else {})} for t in tasks],
        determinism={
            "server": server and server.version, "servers": sorted({each.version for each in servers}),
            "digests": {tag: described[tag]["digest"] for tag in tags},
            "temperature": run.options.get("temperature"), "seed": run.options.get("seed"),
            "num_ctx": run.options.get("num_ctx"), "workers": sum(each.workers for each in servers),
            "note": "answers are cached; a rerun returns the cached answers, not new ones; workers: requests in "
                    "flight at once, over every server",
        },
        machine={
            "platform": platform.platform(), "processor": platform.machine(), "cpus": os.cpu_count(),
            "python": sys.version.split()[0], "packages": _package_versions(),
            "numerics": system_info(),  # which llama.cpp kernels ran: analysis.labeling.fingerprint
        },
        started_at=started.isoformat(),
        reports=Reports(
            total=int(len(inputs)), sent_to_models=int(inputs.prompt_text.notna().sum()),
            not_sent={k: int(v) for k, v in inputs[inputs.prompt_text.isna()].reason.value_counts().items()},
            impression_found_by={k: int(v) for k, v in inputs.impression_method.value_counts().items()},
            instruction_like_text_removed=int((inputs.note != "").sum()),
            **({"split": {k: int(v) for k, v in inputs.split.value_counts().items()},
                "evaluated_on": evaluated(inputs.split)} if "split" in inputs else {})),
    )


def save_manifest(manifest: Manifest, files: RunFiles, cache_path: Path) -> None:
    """The run's manifest, and every raw response of the cache as CSV beside the cache: what each step that
    labels leaves for a reviewer."""
    manifest.write(files.manifest)
    with ResponseCache(cache_path) as cache:
        cache.export(Path(cache_path).with_suffix(".csv"))
