"""Labels written by hand, in the pipeline's columns, for tests of the code around the models (no model involved)."""

import pandas as pd

from analysis.data.vocabulary import Status
from analysis.labeling.labels import LABEL_COLUMNS

SHORT_COLUMNS = ["report_id", "model", "extravasation", "locations", "p_yes", "reason"]


def labels_frame(rows, columns=SHORT_COLUMNS) -> pd.DataFrame:
    """``rows`` of ``columns``, optionally followed by a status, completed to ``LABEL_COLUMNS``.

    Without a status a label is ``answered``; response keys are empty, the
    sites' status is ``answered`` where a row names sites, and no site has a probability.
    """
    rows = [tuple(row) + (Status.ANSWERED,) * (len(columns) + 1 - len(row)) for row in rows]
    frame = pd.DataFrame(rows, columns=[*columns, "status"])
    defaults = {"response_key": "", "locations_key": "", "locations": "",
                "locations_status": [Status.ANSWERED if sites else Status.NOT_ASKED for sites in frame.get("locations", [""] * len(frame))]}
    for name, value in defaults.items():
        if name not in frame:
            frame[name] = value
    return frame.reindex(columns=LABEL_COLUMNS)  # site probabilities: none
