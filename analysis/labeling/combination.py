"""The models and the rules combined: the ensemble's answer, unless ConText finds no asserted bleed.

The rule baseline's ConText pass reads each mention of extravasation and
marks the ones that are negated, historical, hypothetical, hedged or not
blood (urine, bile, enteric or bladder contrast, air), which is where the
models' first-token answer goes wrong: it reads the word. The combination
(run file ``combination: context_veto``) keeps the ensemble's answer, except:

- every deciding mention is hedged: ``Undefined``, as the guideline says;
- every deciding mention is negated, historical, hypothetical or not blood: ``No``.

Where ConText finds an asserted mention, or none at all (a phrasing its
targets do not name), the ensemble decides. It is a stated rule, fitted to
nothing; its rows (model ``ensemble + ConText veto``) stand beside the study's
majority vote and never replace it. It inherits the rules' provenance: rules
written while reading the test split make its test figures training-set
figures too, and the tables say so. Its ``p_yes`` is left empty (no ROC AUC):
a veto is not a probability. Its sites are the ensemble's, on the reports it
calls ``Yes``.
"""

import math

import pandas as pd

from analysis.data.vocabulary import COMBINATION, NEGATIVE, UNDEFINED, Role, Status
from analysis.specs import Run

VETOES = {  # ConText's evidence (baseline.Evidence, a StrEnum: loaded with spaCy) -> the answer it forces, and why
    "hedged": (UNDEFINED, "ConText: every mention of extravasation is hedged"),
    "excluded": (NEGATIVE, "ConText: every mention of extravasation is negated, historical, hypothetical or not blood"),
}


def add_combination(labels: pd.DataFrame, inputs: pd.DataFrame, run: Run) -> pd.DataFrame:
    """``labels`` with the combination's rows after them, where the run file asks for it and there is an ensemble."""
    if run.combination != "context_veto" or not (labels.role == Role.ENSEMBLE).any():
        return labels
    # Imported here: medspaCy and spaCy load only when the rules run.
    from analysis.labeling.baseline import label_impression, load_rules

    rules = load_rules(run.baseline)
    texts = inputs.set_index("report_id").prompt_text
    combined = labels[labels.role == Role.ENSEMBLE].copy()
    combined["model"], combined["role"], combined["p_yes"] = COMBINATION, Role.COMBINATION, math.nan
    for index, report_id in combined.report_id.items():
        text = texts.get(report_id)
        if not isinstance(text, str) or not text.strip():
            continue  # nothing was read: the ensemble's Undefined, with its reason, stands
        veto = VETOES.get(label_impression(text, rules).evidence)
        if veto:
            combined.loc[index, ["extravasation", "status"]] = [veto[0], Status.VETOED]
            combined.at[index, "reasons"] = [veto[1]]
    return pd.concat([labels, combined], ignore_index=True)
