"""The records a report is built from, and the closed sets of values their fields take.

A `Draft` gathers everything decided about one report before it is typed
into a template. Every impression `Statement` (and a changing `Addendum`)
carries the `Claim`s it makes about active bleeding, from which `truth`
derives the label. A `Case` is the finished report with its ground truth.
"""

import datetime as dt
from dataclasses import dataclass, field

# What an impression statement asserts about active bleeding on this exam.
ACTIVE, NEGATED, HEDGED = "active", "negated", "hedged"

# What the images show at an injury, as the findings describe it.
VASCULAR_NONE = "none"
VASCULAR_ACTIVE = "active"
VASCULAR_PSEUDOANEURYSM = "pseudoaneurysm"
VASCULAR_AV_FISTULA = "av_fistula"
VASCULAR_CONTAINED = "contained"
VASCULAR_INDETERMINATE = "indeterminate"
VASCULAR_INJURIES = (VASCULAR_PSEUDOANEURYSM, VASCULAR_AV_FISTULA, VASCULAR_CONTAINED)

# How a bleed or a pseudoaneurysm is worded. VENOUS: a bleed from a vein, which
# shows on the portal venous phase without an arterial-phase correlate.
PLAIN, POOLING, BLUSH_WITH_WORD, BLUSH_WITHOUT_WORD = "plain", "pooling", "blush_with_word", "blush_without_word"
VENOUS = "venous"

# Whether the report has a readable impression.
COMPLETE, TRUNCATED, SEE_FINDINGS, EMPTY = "complete", "truncated", "see_findings", "empty"

# The findings sections an injury or finding is written into (`Injury.section`);
# each template groups them under its own headers.
SECTIONS = (
    "lower_chest",
    "liver",
    "biliary",
    "spleen",
    "pancreas",
    "adrenals",
    "kidneys",
    "bladder",
    "bowel",
    "peritoneum",
    "vasculature",
    "lymph_nodes",
    "pelvis",
    "body_wall",
    "bones",
)

ROMAN = ("", "I", "II", "III", "IV", "V")
HEMOPERITONEUM_AMOUNTS = ("", "trace", "small", "moderate", "large")


@dataclass(frozen=True)
class Case:
    """One generated report with its ground truth and the features it exercises."""

    report_id: str
    report_text: str
    extravasation: str
    locations: tuple[str, ...]
    evidence: tuple[str, ...]  # the texts of the deciding statements that report active bleeding, as typed
    template: str
    hard_cases: tuple[str, ...]
    seed: int  # the corpus seed, so the card can say how to regenerate it
    in_extension: bool  # drawn from the extension's plan, after the study-sized core


@dataclass(frozen=True)
class Claim:
    kind: str  # ACTIVE, NEGATED or HEDGED
    locations: tuple[str, ...] = ()


@dataclass(frozen=True)
class Statement:
    """One impression item, written together with what it claims."""

    text: str
    claims: tuple[Claim, ...] = ()


@dataclass
class Injury:
    site: str
    location: str  # guideline location this site maps to
    section: str  # findings section that describes it
    name: str  # as the impression names it: "AAST grade IV splenic laceration"
    short: str  # "splenic laceration"
    description: list[str]  # findings sentences about the injury itself
    place: str  # where a bleed is seen, read after "within": "the lower pole laceration"
    vessel: str  # the injured artery: "a segmental splenic artery branch"
    organ: str  # what a negation names: "the spleen"
    space: str  # where extravasated contrast goes: "into the perisplenic hematoma"
    vascular: str = VASCULAR_NONE
    phrasing: str = PLAIN
    hemoperitoneum: int = 0  # index into HEMOPERITONEUM_AMOUNTS
    hemoperitoneum_where: str = ""
    associated: list[tuple[str, str]] = field(default_factory=list)  # (section, sentence) elsewhere
    vein: str = ""  # vein an arteriovenous fistula fills early, or a venous bleed comes from; "" where none applies
    embolization_target: str = ""  # what an interventional radiologist would coil; "" if not done


@dataclass
class Addendum:
    """A note after the signature. One that changes the conclusion (reverses it, or reopens it as
    equivocal) decides the label by its own claims; a routine one changes nothing."""

    text: str
    changes_conclusion: bool
    claims: tuple[Claim, ...] = ()


@dataclass(frozen=True)
class Style:
    """Choices one dictating radiologist keeps for the whole report."""

    grade_format: str
    date_format: str

    def grade(self, grade: int) -> str:
        return self.grade_format.format(roman=ROMAN[grade], arabic=grade)

    def date(self, moment: dt.datetime) -> str:
        return moment.strftime(self.date_format)


@dataclass
class Draft:
    """Everything decided about one report before it is typed into a template."""

    age: int
    sex: str
    style: Style
    exam_time: dt.datetime
    injuries: list[Injury] = field(default_factory=list)
    impression: list[Statement] = field(default_factory=list)
    extra_findings: list[tuple[str, str]] = field(default_factory=list)  # (section, sentence)
    history_note: str = ""
    comparison: str = ""
    technique_notes: list[str] = field(default_factory=list)
    follow_up: bool = False
    oral_contrast: bool = False
    cystogram: bool = False
    penetrating: bool = False  # a stab or gunshot wound, which the clinical history then names
    impression_state: str = COMPLETE
    addendum: Addendum | None = None
    communicate: bool = False
    features: set[str] = field(default_factory=set)  # hard cases fixed by a generator choice
