"""The words every table of the project uses, defined once: answers, sites, label sets, roles, statuses, split parts.

Standard library only, so that the demo corpus generator can use it without
the pipeline's dependencies.
"""

from enum import StrEnum

# Stage 1: the labeling guideline's answers. Yes is the positive class.
LABELS = ("Yes", "No", "Undefined")
POSITIVE, NEGATIVE, UNDEFINED = LABELS
# Stage 2: the guideline's eight sites, in the order every table shows them.
LOCATIONS = ("bowel", "liver", "spleen", "kidney", "abdominal wall", "gluteal/thigh", "retroperitoneal", "other")
# How a file written by hand (ground truth, case features) lists several values in one cell; the tables this
# project writes hold lists as JSON arrays instead (analysis.data.io).
HAND_WRITTEN_SEPARATOR = ";"

# Label sets that are not a model: the majority vote, and the rule-based baseline
# (compared with the models, never voted with them).
ENSEMBLE = "ensemble"
BASELINE = "rules"
# The ensemble's answer unless the rules' ConText finds every mention of extravasation not to be an asserted bleed
# (run file ``combination: context_veto``): a combination of both, beside the study's vote, never in its place.
COMBINATION = "ensemble + ConText veto"

DEV, TEST = "dev", "test"  # the parts of a split file


class Role(StrEnum):
    """What a label set of the labels table is, so that code asks the table which label sets vote."""

    MODEL = "model"  # an LLM's own answers: it votes in the ensemble
    ENSEMBLE = "ensemble"  # the majority vote of the models
    RULES = "rules"  # the rule-based baseline: compared with the models, never voted with them
    COMBINATION = "combination"  # the ensemble with the rules' ConText veto


class Status(StrEnum):
    """How a label came about: one closed set, so that code branches on it and never on a reason's wording."""

    ANSWERED = "answered"  # the model's (or the rules') own answer
    NOT_SENT = "not sent"  # nothing to ask: no impression, empty report, only instruction-like text
    TOO_LONG = "too long"  # the prompt may not fit num_ctx: not sent
    REFUSED = "refused"  # the server refused the request (e.g. the prompt does not fit its context)
    INVALID = "invalid"  # a response without an allowed answer
    NO_LOGPROBS = "no log-probabilities"  # the answer token's log-probabilities were asked for and not sent
    ENDED = "ended without answering"  # the model's first token ended its reply: no answer token
    CUT = "cut by the server"  # the server read fewer tokens than the prompt holds
    TIMEOUT = "timeout"  # no response within the timeout, on every try
    VOTED = "voted"  # the ensemble: a majority of the models agreed
    NO_MAJORITY = "no majority"  # the ensemble: no answer had a majority
    VETOED = "vetoed by ConText"  # the combination: the rules found no asserted mention, only hedged or excluded ones
    NOT_ASKED = "not asked"  # stage 2: the gate model did not call the report Yes
    REVIEWED = "reviewed"  # a reviewer decided the label, from the reviewer sheet (python -m analysis adjudicate)


def site_score_column(site: str) -> str:
    """The labels' column of a site's probability (stage 2 asked one site at a time): ``p_abdominal_wall``."""
    return "p_" + "".join(character if character.isalnum() else "_" for character in site)


SITE_SCORE_COLUMNS = [site_score_column(site) for site in LOCATIONS]
