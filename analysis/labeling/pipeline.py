"""A whole labeling run at once, for the command line: inputs, stage 1, the ensemble, stage 2, the manifest.

The notebooks run the same stage functions one at a time and keep each
stage's output in a file; ``label_reports`` runs them in the same order.
Every report appears once per model in the labels, with a status, and a
reason wherever its label is not a clean model answer.
"""

from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from analysis.config import RESPONSE_CACHE_FILE
from analysis.data.io import write_table
from analysis.labeling.combination import add_combination
from analysis.labeling.ensemble import add_ensemble
from analysis.labeling.inputs import prompt_inputs
from analysis.labeling.labeler import Labeler
from analysis.labeling.labels import LABEL_COLUMNS
from analysis.labeling.manifest import record_stage, write_manifest
from analysis.labeling.stage1 import label_stage1
from analysis.labeling.stage2 import label_stage2, skipped_because
from analysis.llm.cache import ResponseCache
from analysis.specs import Run, Task


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
    ``models`` and ``task`` as for ``Labeler``.
    """
    started = datetime.now(timezone.utc)
    labeler = Labeler(run, models, host, cache_path, refresh, workers, task)
    inputs = prompt_inputs(reports.head(limit) if limit else reports, labeler.run)
    stage1, first = label_stage1(labeler, inputs)
    labels, gated, second = label_stage2(labeler, inputs, add_combination(add_ensemble(stage1), inputs, labeler.run))
    manifest = record_stage(labeler.manifest(inputs, started), first + second, labels, gated, skipped_because(labeler))
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
