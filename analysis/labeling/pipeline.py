"""The labeling steps of a run in order, from reports to ``labels.csv``: what ``python -m analysis label`` runs.

The notebooks run the same steps one at a time (``inputs_step``,
``stage1_step``, ``ensemble_step``, ``stage2_step``), each reading the files
the step before it wrote (``analysis.config.RunFiles``).
"""

import pandas as pd

from analysis.config import RunFiles
from analysis.labeling.ensemble import ensemble_step
from analysis.labeling.inputs import inputs_step
from analysis.labeling.manifest import Manifest
from analysis.labeling.session import Session
from analysis.labeling.stage1 import stage1_step
from analysis.labeling.stage2 import stage2_step


def label_reports(session: Session, files: RunFiles, reports: pd.DataFrame, truth: pd.DataFrame | None = None,
                  split: pd.DataFrame | None = None) -> tuple[pd.DataFrame, Manifest]:
    """Every labeling step in order; the labels (every report once per label set) and the run's manifest."""
    inputs_step(files, session.run, reports, truth, split)
    stage1_step(session, files)
    ensemble_step(session, files)
    return stage2_step(session, files), Manifest.read(files.manifest)
