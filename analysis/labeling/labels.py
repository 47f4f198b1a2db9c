"""The labels table: one row per report and label set (each model, the ensemble, the rules).

``status`` says how each label came about (``analysis.data.vocabulary.Status``)
and ``response_key`` names the cached response behind a model's stage-1 label
(``locations_status`` and ``locations_key`` the same for its stage-2 sites:
the keys of its site questions, ``;``-separated, when the sites are asked one
at a time), so that a reviewer can open exactly the response a label was read
from. ``p_<site>`` is the probability of each site when the sites are asked
one at a time (the ensemble's: the mean of its members').
"""

from pathlib import Path

import pandas as pd

from analysis.data.vocabulary import SITE_SCORE_COLUMNS

LABEL_COLUMNS = [
    "report_id", "model", "extravasation", "status", "p_yes", "reason", "response_key",
    "locations", "locations_status", "locations_key", *SITE_SCORE_COLUMNS,
]


def read_labels(path: Path) -> pd.DataFrame:
    labels = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column in ["p_yes", *SITE_SCORE_COLUMNS]:
        if column in labels:  # a run whose stage 2 lists its sites has no site probabilities
            labels[column] = pd.to_numeric(labels[column], errors="coerce")
    return labels
