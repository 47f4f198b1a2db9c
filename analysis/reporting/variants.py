"""The prompt variants of stage 1 compared, as a step of its own: ``make variants``.

Each variant (``analysis/tasks/extravasation_<variant>.yaml``) runs the run's
stage-1 and ensemble steps in a folder of its own beside the run's files
(``RunFiles.variant``), on the run's inputs; the comparison on the scored part
(``analysis.evaluation.variants``) goes to ``figures/variants.*``, and every
variant's labels to one table, ``variants.csv``.
"""

from pathlib import Path

import pandas as pd

from analysis.config import RESPONSE_CACHE_FILE, RunFiles
from analysis.data.io import read_truth, write_table
from analysis.evaluation.variants import compare_variants
from analysis.labeling.ensemble import ensemble_step
from analysis.labeling.session import Session
from analysis.labeling.stage1 import stage1_step
from analysis.reporting.tables import write_variants
from analysis.specs import Run


def variants_step(run: Run, files: RunFiles, figures_dir: Path, names: list[str], models: list[str] | None = None,
                  cache_path: Path = RESPONSE_CACHE_FILE) -> pd.DataFrame:
    """Stage 1 and the ensemble once per variant of ``names`` (the first is the one the others are compared
    with), and the comparison; returns the comparison's table."""
    labels_by_variant = {}
    for name in names:
        session = Session(run, models=models or run.tags, task=name, cache_path=cache_path)
        stage1_step(session, files.variant(name))
        labels_by_variant[name] = ensemble_step(session, files.variant(name))
    every = pd.concat([labels.assign(variant=name) for name, labels in labels_by_variant.items()], ignore_index=True)
    write_table(every, files.variants)
    table = compare_variants(labels_by_variant, read_truth(files.truth), run.bootstrap, reference=names[0])
    write_variants(table, figures_dir)
    return table
