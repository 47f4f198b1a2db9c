"""The run manifest: what a reader needs to know to trust, report and repeat a labeling run.

It records what TRIPOD-LLM and MI-CLEAR-LLM ask a paper to state: the exact
models (tag, digest, quantization), their options, the prompts verbatim with
their versions, the servers, their backend and versions, the machine, when
the run ran and how long each model took (and which server answered how
many), and the counts it produced.
"""

import json
import os
import platform
import sys
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

from analysis import __version__
from analysis.data.split import evaluated
from analysis.labeling.numerics import system_info
from analysis.llm.asking import AskSummary
from analysis.llm.server import Server
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


def _server_record(server: Server) -> dict:
    return {"host": server.host, "backend": server.backend, "version": server.version, "number": server.number,
            "workers": server.workers, "models": server.models}


def build_manifest(*, run: Run, tasks: list[Task], tags: list[str], described: dict[str, dict], servers: list[Server],
                   inputs: pd.DataFrame, started: datetime, rules=None, preflight: dict | None = None) -> dict:
    """What is known before any model answers; ``record_stage`` adds each stage's results.

    ``servers`` is empty when no LLM answers (the rule-based baseline alone);
    ``server`` records the first, ``servers`` every one with its workers.
    ``rules`` are the baseline's rules, if it runs; ``preflight`` what the
    servers showed of each model before the run (per task), and so how each was asked.
    """
    server = servers[0] if servers else None
    return {
        "package": {"name": "extravasation-llm", "version": __version__},
        "run": run.model_dump(mode="json", by_alias=True),
        "server": server and _server_record(server),
        "servers": [_server_record(each) for each in servers],
        "preflight": preflight or {},
        "baseline": rules and {"rule_file": rules.path.name, "version": rules.version},
        "models": [
            {"tag": tag, **described[tag], "options": {t.name: run.options_for(tag, t) for t in tasks}}
            for tag in tags
        ],
        "tasks": [
            {"name": t.name, "version": t.version, "template": t.template, "answers": t.answers,
             "schema": t.answer_schema, "options": t.options, "decision": t.decision,
             **({"answer_prefix": t.answer_prefix} if t.decision == "first_token" else {})}
            for t in tasks
        ],
        "determinism": {
            "server": server and server.version, "servers": sorted({each.version for each in servers}),
            "digests": {tag: described[tag]["digest"] for tag in tags},
            "temperature": run.options.get("temperature"), "seed": run.options.get("seed"),
            "num_ctx": run.options.get("num_ctx"), "workers": sum(each.workers for each in servers),
            "note": "answers are cached; a rerun returns the cached answers, not new ones; workers: requests in "
                    "flight at once, over every server",
        },
        "machine": {
            "platform": platform.platform(), "processor": platform.machine(), "cpus": os.cpu_count(),
            "python": sys.version.split()[0], "packages": _package_versions(),
            "numerics": system_info(),  # which llama.cpp kernels ran: analysis.labeling.numerics
        },
        "started_at": started.isoformat(),
        "reports": {
            "total": int(len(inputs)),
            "sent_to_models": int(inputs.prompt_text.notna().sum()),
            "not_sent": {k: int(v) for k, v in inputs[inputs.prompt_text.isna()].reason.value_counts().items()},
            "impression_found_by": {k: int(v) for k, v in inputs.impression_method.value_counts().items()},
            "instruction_like_text_removed": int((inputs.note != "").sum()),
            **_split_record(inputs),
        },
        "timing": [],
    }


def _split_record(inputs: pd.DataFrame) -> dict:
    """Which reports the tables are computed on: the test part of a split, or all (no split given)."""
    if "split" not in inputs:
        return {}
    return {"split": {k: int(v) for k, v in inputs.split.value_counts().items()}, "evaluated_on": evaluated(inputs.split)}


def record_stage(manifest: dict, summaries: list[AskSummary], labels: pd.DataFrame, gated: list[str] | None = None,
                 stage2_skipped: str = "") -> dict:
    """The manifest with a stage's timing and the counts of the labels so far; after stage 2, the reports it
    asked about, or why it asked about none."""
    counts = labels.groupby("model", sort=False).extravasation.value_counts().unstack(fill_value=0)
    manifest = {**manifest, "finished_at": datetime.now(timezone.utc).isoformat()}
    manifest["timing"] = manifest["timing"] + [
        {"model": s.model, "task": s.task, "asked": s.asked, "from_cache": s.from_cache,
         "seconds": round(s.seconds, 3), "reports_per_second": s.per_second and round(s.per_second, 3),
         "answered_by": s.answered_by}
        for s in summaries
    ]
    manifest["counts"] = {model: {k: int(v) for k, v in row.items()} for model, row in counts.iterrows()}
    if gated is not None:
        manifest["reports"] = {**manifest["reports"], "sent_to_stage_2": len(gated),
                               **({"stage_2_skipped": stage2_skipped} if stage2_skipped else {})}
    return manifest


def read_manifest(directory: Path) -> dict:
    return json.loads((Path(directory) / "manifest.json").read_text())


def write_manifest(manifest: dict, out_dir: Path) -> Path:
    path = Path(out_dir) / "manifest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return path
