"""The labels table: one row per report and label set (each model, the ensemble, the rules).

``status`` says how each label came about (``analysis.data.vocabulary.Status``)
and ``response_key`` names the cached response behind a model's stage-1 label
(``locations_status`` and ``locations_key`` the same for its stage-2 sites),
so that a reviewer can open exactly the response a label was read from.
"""

from pathlib import Path

import pandas as pd

LABEL_COLUMNS = [
    "report_id", "model", "extravasation", "status", "p_yes", "reason", "response_key",
    "locations", "locations_status", "locations_key",
]


def read_labels(path: Path) -> pd.DataFrame:
    labels = pd.read_csv(path, dtype=str, keep_default_na=False)
    labels["p_yes"] = pd.to_numeric(labels.p_yes, errors="coerce")
    return labels
