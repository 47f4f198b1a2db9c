"""The review priority: per report, the estimated probability that the chosen label set's label is wrong.

A reviewer with time for a few reports should read those most likely to be
wrong first, and the run already knows much about that before anyone reads
a report. The priority reads it from the labels table alone, by features
that name no model (``FEATURES``), so that a model fitted on one run's
development split applies to any run's labels:

- ``closeness``: 1 − 2·|p_yes − 0.5| of the chosen label set (1 is a coin
  flip, 0 a certain answer); 1 where it has no ``p_yes``, since nothing
  says that it is sure;
- ``says_yes``: the chosen label set answers Yes;
- ``models_differ``: the share of the voting models, the chosen one aside,
  whose Yes / not-Yes differs from the chosen label set's (0 with none);
- ``rules_differ`` (†): the rules' Yes / not-Yes differs from the chosen
  label set's (0 in a run without rules). The demo's rules were written
  reading its whole corpus, test split included, so a priority that uses
  them carries that mark (``RULES_FEATURES``);
- ``ungrounded``: the chosen label set answers Yes and stage 2 asked it for
  the impression's sentences that report the bleeding, and it found none (or
  gave no valid answer);
- ``not_clean``: the chosen label set's label is not a clean answer (its
  status is neither ``answered`` nor ``voted``: not sent, refused, invalid,
  no majority, …).

What is wrong is the stage-1 label as Table 1A scores it: Yes against
not-Yes. The model is a logistic regression (``PriorityModel``), fitted on
a development split by ``analysis.evaluation.review_budget.fit_priority``
(``python -m analysis review-priority``) and kept as a versioned file in
``analysis/review_priority/``, which a run names as ``review.priority``;
``stage2_step`` writes its probability on every row of a report
(``review_priority``), NaN where the run has no priority model or its labels
lack the chosen label set.
"""

import math

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator
from scipy.special import expit

from analysis.config import REVIEW_PRIORITY_DIR
from analysis.data.vocabulary import BASELINE, POSITIVE, Role, Status
from analysis.specs import Run, SpecError, load_spec

FEATURES = ("closeness", "says_yes", "models_differ", "rules_differ", "ungrounded", "not_clean")
RULES_FEATURES = ("rules_differ",)  # read from the rules: written on the demo's test split too (†)
CLEAN = (Status.ANSWERED, Status.VOTED)


class PriorityModel(BaseModel):
    """A logistic model of the chosen label set's errors, as fitted on a development split."""

    model_config = ConfigDict(extra="forbid")

    label_set: str = Field(description="The label set whose errors the priority estimates.")
    chosen_because: str = Field(description="Why this label set, in words.")
    fitted_on: str = Field(description="The reports the model was fitted on, and its errors on them, in words.")
    regularisation: float = Field(gt=0, description="scikit-learn's C: the inverse strength of the L2 penalty.")
    intercept: float
    coefficients: dict[str, float] = Field(description="Feature -> coefficient on the log-odds of an error.")

    @field_validator("coefficients")
    @classmethod
    def _known_features(cls, coefficients: dict[str, float]) -> dict[str, float]:
        if unknown := sorted(set(coefficients) - set(FEATURES)):
            raise ValueError(f"unknown features {unknown}; the features are {list(FEATURES)}")
        return coefficients

    @property
    def uses_rules(self) -> bool:
        return any(self.coefficients.get(name, 0) != 0 for name in RULES_FEATURES)

    def probability(self, features: pd.DataFrame) -> pd.Series:
        """The estimated probability of an error, per row of ``features`` (columns: the model's features)."""
        names = list(self.coefficients)
        log_odds = self.intercept + features[names].to_numpy(dtype=float) @ np.array([self.coefficients[n] for n in names])
        return pd.Series(expit(log_odds), index=features.index, name="review_priority")


def _not_yes_differs(answers: pd.DataFrame, chosen: pd.Series) -> pd.DataFrame:
    """Per report (rows) and label set (columns): whether its Yes / not-Yes differs from ``chosen``'s."""
    said_yes = (answers == POSITIVE).astype(float).where(answers.notna())
    return said_yes.ne(chosen == POSITIVE, axis=0).astype(float).where(said_yes.notna())


def priority_features(labels: pd.DataFrame, label_set: str) -> pd.DataFrame:
    """One row per report of ``labels`` (in their order), indexed by ``report_id``: the ``FEATURES`` of
    ``label_set``'s label (see the module's docstring)."""
    own = labels[labels.model == label_set].set_index("report_id")
    if own.empty:
        raise SpecError(f"the labels have no label set {label_set!r}; they have {labels.model.unique().tolist()}")
    reports = pd.Index(labels.report_id.unique(), name="report_id")
    own = own.reindex(reports)
    answers = labels.pivot(index="report_id", columns="model", values="extravasation").reindex(reports)
    voters = [name for name in labels.model[labels.role == Role.MODEL].unique() if name != label_set]
    models_differ = _not_yes_differs(answers[voters], own.extravasation).mean(axis=1).fillna(0.0) if voters else 0.0
    rules_differ = (_not_yes_differs(answers[[BASELINE]], own.extravasation)[BASELINE].fillna(0.0)
                    if BASELINE in answers else 0.0)
    says_yes = own.extravasation == POSITIVE
    asked = own.evidence_status != Status.NOT_ASKED
    found = own.evidence.map(lambda spans: isinstance(spans, list) and len(spans) > 0)
    return pd.DataFrame({
        "closeness": (1 - 2 * (own.p_yes.astype(float) - 0.5).abs()).fillna(1.0),
        "says_yes": says_yes.astype(float),
        "models_differ": models_differ,
        "rules_differ": rules_differ,
        "ungrounded": (says_yes & asked & ~(found & own.evidence_status.isin(CLEAN))).astype(float),
        "not_clean": (~own.status.isin(CLEAN)).astype(float),
    }, index=reports)[list(FEATURES)]


def review_priorities(labels: pd.DataFrame, model: PriorityModel) -> pd.Series:
    """Per report of ``labels`` (indexed by ``report_id``): the probability that ``model.label_set`` is wrong."""
    return model.probability(priority_features(labels, model.label_set))


def with_priority(labels: pd.DataFrame, model: PriorityModel | None) -> pd.DataFrame:
    """``labels`` with ``review_priority`` on every row of each report (the same value on each); NaN without a
    model or where the labels lack its label set (a run of some of its models only)."""
    labels = labels.copy()
    if model is None or model.label_set not in set(labels.model):
        labels["review_priority"] = math.nan
    else:
        labels["review_priority"] = labels.report_id.map(review_priorities(labels, model)).astype(float)
    return labels


def read_priority(name: str) -> PriorityModel:
    """The priority model in ``analysis/review_priority/<name>.yaml``."""
    return load_spec(PriorityModel, REVIEW_PRIORITY_DIR / f"{name}.yaml")


def load_priority(run: Run) -> PriorityModel | None:
    """The run's priority model (``review.priority``), for the label set the run names (``review.label_set``) or
    else the one it was fitted for; None where the run names no priority file. ``.label_set`` is the chosen label
    set."""
    if not run.review.priority:
        return None
    model = read_priority(run.review.priority)
    if run.review.label_set and run.review.label_set != model.label_set:
        model = model.model_copy(update={"label_set": run.review.label_set,
                                         "chosen_because": f"named in run {run.name}'s file (review.label_set)"})
    return model
