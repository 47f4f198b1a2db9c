"""Seeded generator of the synthetic demo corpus of abdominal trauma CT reports.

The hospital reports are private, so the repository ships synthetic ones. Each
report is assembled from structured choices: a scenario (what the case is
meant to test), the injuries, what the images show at each injury, how the
impression words it, and the institutional template it is typed in. Every
impression statement is written together with a `Claim` recording what it
asserts about active bleeding, and the ground-truth label is derived from
those claims by the rules of the labeling guideline. The text is never parsed
back.

    python -m analysis.corpus [--out data/demo] [--n 300] [--seed 20240917]

Standard library only, so the corpus can be rebuilt without the pipeline's
dependencies.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from analysis.config import DEMO_DIR

DEFAULT_N_REPORTS = 300
DEFAULT_SEED = 20240917

LABELS = ("Yes", "No", "Undefined")
LOCATIONS = (
    "bowel",
    "liver",
    "spleen",
    "kidney",
    "abdominal wall",
    "gluteal/thigh",
    "retroperitoneal",
    "other",
)

# Category name -> what it means; the corpus card prints these definitions.
HARD_CASES = {
    "negated": "the impression (or a deciding addendum) explicitly negates active extravasation (label No)",
    "injury_without_extravasation": "organ injury, hematoma or hemoperitoneum with no vascular finding at any injury, now or before (No)",
    "pseudoaneurysm_or_contained": "pseudoaneurysm, contained vascular injury or arteriovenous fistula without active bleeding (No)",
    "non_blood_extravasation": "extravasation of oral contrast, urine or excreted contrast, bile, or IV contrast at the injection site (No)",
    "findings_only": "active extravasation described in the findings but not in the impression (No: the label is read from the impression)",
    "blush_with_word": "a contrast blush described with the word extravasation (Yes when it grows, No when it is a pseudoaneurysm)",
    "blush_without_word": "a contrast blush described without the word extravasation (Yes when it grows, No when it is a pseudoaneurysm)",
    "hedged": "equivocal wording in the impression or addendum (Undefined unless an addendum settles it)",
    "prior_or_resolved": "extravasation on a prior or outside study that is not seen now (No)",
    "post_embolization": "follow-up after embolization: no residual bleeding (No) or persistent/new bleeding (Yes)",
    "multi_injury_single_bleed": "two or more injuries, active bleeding at one location only (Yes, one location)",
    "mixed_sentence_negation": "one sentence asserts bleeding at one site and negates it at another (Yes)",
    "addendum_changes_conclusion": "an addendum reverses the impression; the addendum decides the label",
    "no_impression": "truncated report, empty impression or 'see findings above' (Undefined)",
    "multi_site": "active extravasation at two or more locations (Yes)",
}

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

# How a bleed or a pseudoaneurysm is worded.
PLAIN, POOLING, BLUSH_WITH_WORD, BLUSH_WITHOUT_WORD = "plain", "pooling", "blush_with_word", "blush_without_word"

# Whether the report has a readable impression.
COMPLETE, TRUNCATED, SEE_FINDINGS, EMPTY = "complete", "truncated", "see_findings", "empty"

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


# ------------------------------------------------------------------ records


@dataclass(frozen=True)
class Case:
    """One generated report with its ground truth and the features it exercises."""

    report_id: str
    report_text: str
    extravasation: str
    locations: tuple[str, ...]
    template: str
    hard_cases: tuple[str, ...]
    seed: int  # the corpus seed, so the card can say how to regenerate it


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
    vein: str = ""  # vein an arteriovenous fistula fills early; "" where none applies
    embolization_target: str = ""  # what an interventional radiologist would coil; "" if not done


@dataclass
class Addendum:
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
    impression_state: str = COMPLETE
    addendum: Addendum | None = None
    communicate: bool = False
    features: set[str] = field(default_factory=set)  # hard cases fixed by a generator choice


# ------------------------------------------------------------ small helpers


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def with_article(noun_phrase: str) -> str:
    first_word = noun_phrase.split()[0]
    if first_word[0].isdigit():
        # "an 8 mm", "an 11 mm", "an 18 mm"; "a 1.8 cm"
        starts_with_vowel_sound = first_word.startswith("8") or first_word.split(".")[0] in ("11", "18")
    else:
        starts_with_vowel_sound = first_word == "AAST" or first_word[0].lower() in "aeio"
    return ("an " if starts_with_vowel_sound else "a ") + noun_phrase


def weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    names = [name for name, _ in options]
    return rng.choices(names, weights=[weight for _, weight in options])[0]


def length_cm(rng: random.Random, low: float, high: float) -> str:
    return f"{rng.uniform(low, high):.1f}"


def dimensions_cm(rng: random.Random, low: float, high: float, axes: int = 2) -> str:
    sizes = sorted((rng.uniform(low, high) for _ in range(axes)), reverse=True)
    return " x ".join(f"{size:.1f}" for size in sizes) + " cm"


def focus_size(rng: random.Random) -> str:
    return rng.choice(("punctate", "tiny", f"{rng.randint(3, 9)} mm", f"{rng.randint(6, 18)} mm", f"{rng.randint(1, 2)}.{rng.randint(0, 9)} cm"))


def other_side(side: str) -> str:
    return "right" if side == "left" else "left"


# ----------------------------------------------------------- injury builders
#
# Each builder describes one injury at one anatomical site. It is told what
# the images show (`vascular`) and whether a bleed leaves the organ
# (`beyond`), because the AAST grade depends on both. `variant` asks the few
# builders that have one for a special form (a ruptured bladder, a perforation).


SPLEEN_REGIONS = (
    ("upper pole", "upper pole"),
    ("lower pole", "lower pole"),
    ("hilum", "hilar"),
    ("anterior margin", "anterior"),
    ("posterior aspect", "posterior"),
    ("midportion", "midpole"),
    ("inferior tip", "inferior tip"),
)


def build_spleen(rng, style, vascular, beyond, variant=""):
    region, region_adjective = rng.choice(SPLEEN_REGIONS)
    depth = rng.randint(6, 55) / 10
    grade = 1 if depth < 1 else 2 if depth <= 3 else 3
    if vascular in VASCULAR_INJURIES or (vascular == VASCULAR_ACTIVE and not beyond):
        grade = 4  # AAST 2018: vascular injury, or bleeding confined to the capsule
    if vascular == VASCULAR_ACTIVE and beyond:
        grade = 5  # bleeding beyond the spleen into the peritoneum
    description = [
        rng.choice(
            (
                f"There is {with_article(f'{depth} cm')} deep laceration through the {region} of the spleen.",
                f"Irregular linear hypoattenuation in the {region} of the spleen measuring up to {depth} cm in depth, consistent with laceration.",
                f"{depth} cm laceration involving the {region} of the spleen, extending to the capsule.",
                f"Branching laceration of the {region} of the spleen, {depth} cm in greatest depth.",
            )
        )
    ]
    if rng.random() < 0.35:
        description.append(f"Subcapsular hematoma involving approximately {rng.choice((10, 15, 20, 25, 30))}% of the splenic surface.")
    if rng.random() < 0.6:
        clot = rng.choice(("", ", with high-attenuation sentinel clot", " (55 HU)"))
        description.append(f"Perisplenic hematoma measuring up to {length_cm(rng, 1.0, 4.0)} cm in thickness{clot}.")
    hemoperitoneum = rng.randint(3, 4) if (vascular == VASCULAR_ACTIVE and beyond) else rng.randint(0, 1) if grade == 1 else rng.randint(1, 3)
    return Injury(
        site="spleen",
        location="spleen",
        section="spleen",
        name=f"{style.grade(grade)} splenic {rng.choice(('laceration', 'laceration', 'injury'))}",
        short="splenic laceration",
        description=description,
        place=rng.choice((f"the {region_adjective} splenic laceration", "the splenic laceration", f"the {region} of the spleen")),
        vessel=rng.choice(("a segmental splenic artery branch", "an intrasplenic arterial branch", "a hilar splenic artery branch")),
        organ="the spleen",
        space="into the perisplenic hematoma and peritoneal cavity" if beyond else "within the splenic parenchyma",
        hemoperitoneum=hemoperitoneum,
        hemoperitoneum_where="the perisplenic space",
        vein="the splenic vein",
        embolization_target=rng.choice(("the proximal splenic artery", "distal splenic artery branches")),
    )


def build_liver(rng, style, vascular, beyond, variant=""):
    segment = rng.choice(("6", "7", "8", "5", "4B", "2", "3", "6 and 7", "5 and 8"))
    segments = f"segments {segment}" if " and " in segment else f"segment {segment}"
    depth = rng.randint(5, 60) / 10
    length = max(depth + 1, round(depth * rng.uniform(1.5, 3.0), 1))
    grade = 1 if depth < 1 else 2 if depth <= 3 else 3
    if vascular in VASCULAR_INJURIES or (vascular == VASCULAR_ACTIVE and not beyond):
        grade = 3  # AAST 2018: vascular injury, or bleeding contained in the parenchyma
    if vascular == VASCULAR_ACTIVE and beyond:
        grade = 4  # bleeding beyond the liver into the peritoneum
    description = [
        rng.choice(
            (
                f"There is {with_article(f'{depth} cm')} deep, {length} cm long laceration in hepatic {segments}.",
                f"Hepatic laceration in {segments}, measuring {length} cm in length and up to {depth} cm in depth.",
                f"Irregular hypoattenuating laceration of {segments} of the liver extending {depth} cm from the capsular surface.",
            )
        )
    ]
    if rng.random() < 0.4:
        description.append("Periportal low attenuation, likely periportal tracking of blood or edema.")
    if rng.random() < 0.3:
        description.append(f"Subcapsular hematoma measuring {length_cm(rng, 0.8, 2.5)} cm in thickness.")
    if rng.random() < 0.4:
        description.append("The laceration does not extend to the hepatic veins or the retrohepatic IVC.")
    left_lobe = segment in ("2", "3")
    hemoperitoneum = rng.randint(3, 4) if (vascular == VASCULAR_ACTIVE and beyond) else rng.randint(0, 1) if grade == 1 else rng.randint(1, 3)
    return Injury(
        site="liver",
        location="liver",
        section="liver",
        name=f"{style.grade(grade)} {rng.choice(('hepatic', 'liver'))} laceration",
        short="hepatic laceration",
        description=description,
        place=rng.choice((f"the {segments} laceration", "the hepatic laceration", f"the laceration in {segments}")),
        vessel="a left hepatic artery branch" if left_lobe else rng.choice(("a right hepatic artery branch", "a segmental hepatic artery branch")),
        organ="the liver",
        space="into the perihepatic space" if beyond else "within the hepatic parenchyma",
        hemoperitoneum=hemoperitoneum,
        hemoperitoneum_where="the perihepatic space",
        vein=rng.choice(("a portal vein branch", "the right hepatic vein")),
        embolization_target="left hepatic artery branches" if left_lobe else "right hepatic artery branches",
    )


def build_kidney(rng, style, vascular, beyond, variant=""):
    """`variant` "collecting_system" makes the laceration reach the collecting system (urine leak)."""
    side = rng.choice(("left", "right"))
    region = rng.choice(("upper pole", "interpolar region", "lower pole", "posterior cortex", "anterior lip"))
    depth = rng.randint(5, 35) / 10
    grade = 2 if depth <= 1 else 3
    if vascular in VASCULAR_INJURIES or (vascular == VASCULAR_ACTIVE and not beyond):
        grade = 3  # AAST 2018: vascular injury, or bleeding within Gerota's fascia
    if (vascular == VASCULAR_ACTIVE and beyond) or variant == "collecting_system":
        grade = 4  # bleeding beyond Gerota's fascia, or a collecting-system injury
    extent = "extending into the collecting system" if variant == "collecting_system" else "not involving the collecting system"
    description = [
        rng.choice(
            (
                f"{depth} cm laceration of the {region} of the {side} kidney, {extent}.",
                f"There is a laceration through the {region} of the {side} kidney measuring {depth} cm in depth, {extent}.",
            )
        ),
        f"Perinephric hematoma {'confined to' if not beyond else 'extending beyond'} Gerota's fascia, measuring up to {length_cm(rng, 1.0, 4.5)} cm.",
        f"The {other_side(side)} kidney enhances normally without injury.",
    ]
    return Injury(
        site="kidney",
        location="kidney",
        section="kidneys",
        name=f"{style.grade(grade)} {side} renal laceration",
        short=f"{side} renal laceration",
        description=description,
        place=rng.choice((f"the {side} renal laceration", f"the {region} of the {side} kidney")),
        vessel=rng.choice((f"a segmental branch of the {side} renal artery", f"an interlobar {side} renal artery branch")),
        organ=f"the {side} kidney",
        space="beyond Gerota's fascia into the retroperitoneum" if beyond else "into the perinephric hematoma",
        vein=f"the {side} renal vein",
        embolization_target=f"a segmental {side} renal artery branch",
    )


MESENTERIES = (
    ("jejunal mesentery", "a jejunal branch of the superior mesenteric artery", "jejunal"),
    ("ileal mesentery", "an ileal branch of the SMA", "ileal"),
    ("ileocolic mesentery", "the ileocolic artery", "terminal ileal"),
    ("transverse mesocolon", "a middle colic artery branch", "transverse colon"),
    ("sigmoid mesentery", "a sigmoid branch of the inferior mesenteric artery", "sigmoid"),
    ("root of the small bowel mesentery", "a distal SMA branch", "small bowel"),
)


def build_mesentery(rng, style, vascular, beyond, variant=""):
    region, vessel, bowel = rng.choice(MESENTERIES)
    size = dimensions_cm(rng, 2.0, 8.0)
    description = [
        rng.choice(
            (
                f"There is {with_article(size)} hematoma in the {region} with surrounding mesenteric stranding.",
                f"Mesenteric hematoma in the {region} measuring {size}.",
                f"Ill-defined high-attenuation fluid and stranding in the {region}, with {with_article(size)} hematoma.",
            )
        )
    ]
    if rng.random() < 0.6:
        description.append(
            rng.choice(
                (
                    f"Adjacent {bowel} loops show mild wall thickening with preserved enhancement.",
                    f"The adjacent {bowel} wall enhances normally; no pneumoperitoneum.",
                )
            )
        )
    return Injury(
        site="mesentery",
        location="bowel",
        section="bowel",
        name=rng.choice((f"mesenteric hematoma in the {region}", f"mesenteric injury with hematoma in the {region}")),
        short="mesenteric hematoma",
        description=description,
        place=rng.choice(("the mesenteric hematoma", f"the {region}")),
        vessel=vessel,
        organ="the mesentery",
        space=rng.choice(("into the mesenteric hematoma", "into the peritoneal cavity")),
        hemoperitoneum=rng.randint(1, 3),
        hemoperitoneum_where="the interloop spaces",
    )


BOWEL_SEGMENTS = (
    ("third portion of the duodenum", "a pancreaticoduodenal arcade branch"),
    ("proximal jejunum", "a jejunal arcade vessel"),
    ("distal ileum", "a vasa recta branch"),
    ("cecum", "an ileocolic branch"),
    ("transverse colon", "a middle colic branch"),
    ("sigmoid colon", "a sigmoid artery branch"),
)


def build_bowel_wall(rng, style, vascular, beyond, variant=""):
    """`variant` "perforation" makes a full-thickness injury leaking oral contrast."""
    segment, vessel = rng.choice(BOWEL_SEGMENTS)
    if variant == "perforation":
        description = [
            f"Focal discontinuity of the {segment} wall with extraluminal oral contrast and adjacent locules of free air.",
            "Surrounding mesenteric stranding and free fluid.",
        ]
        name = rng.choice((f"full-thickness injury of the {segment}", f"{segment} perforation"))
    else:
        description = [
            rng.choice(
                (
                    f"Focal wall thickening of the {segment} with an intramural hematoma measuring {length_cm(rng, 1.0, 3.5)} cm in thickness.",
                    f"Intramural hematoma of the {segment} over {with_article(f'{rng.randint(4, 12)} cm')} segment, with adjacent mesenteric stranding.",
                )
            )
        ]
        name = rng.choice((f"intramural hematoma of the {segment}", f"{segment} wall injury with intramural hematoma"))
    return Injury(
        site="bowel_wall",
        location="bowel",
        section="bowel",
        name=name,
        short=f"{segment} injury",
        description=description,
        place=f"the wall of the {segment}",
        vessel=vessel,
        organ=f"the {segment}",
        space="into the bowel lumen",
        hemoperitoneum=rng.randint(0, 2),
        hemoperitoneum_where="the right paracolic gutter",
    )


def build_rectus_sheath(rng, style, vascular, beyond, variant=""):
    side = rng.choice(("left", "right"))
    size = dimensions_cm(rng, 2.5, 12.0, 3)
    description = [f"{size} hematoma within the {side} rectus sheath{rng.choice(('', ', below the arcuate line'))}."]
    if rng.random() < 0.5:
        description.append("Overlying subcutaneous stranding across the lower abdominal wall (seatbelt sign).")
    return Injury(
        site="rectus_sheath",
        location="abdominal wall",
        section="body_wall",
        name=f"{side} rectus sheath hematoma",
        short=f"{side} rectus sheath hematoma",
        description=description,
        place=f"the {side} rectus sheath hematoma",
        vessel=rng.choice((f"the {side} inferior epigastric artery", f"a branch of the {side} inferior epigastric artery")),
        organ=f"the {side} rectus sheath",
        space="into the rectus sheath hematoma",
        embolization_target=f"the {side} inferior epigastric artery",
    )


def build_flank_wall(rng, style, vascular, beyond, variant=""):
    side = rng.choice(("left", "right"))
    hernia = rng.random() < 0.3
    description = [
        f"Hematoma within the {side} internal oblique and transversus abdominis muscles measuring {dimensions_cm(rng, 2.0, 9.0)}"
        + (", with a small traumatic abdominal wall hernia containing fat." if hernia else ".")
    ]
    return Injury(
        site="flank_wall",
        location="abdominal wall",
        section="body_wall",
        name=f"{side} lateral abdominal wall muscle hematoma" + (" with traumatic abdominal wall hernia" if hernia else ""),
        short=f"{side} flank wall hematoma",
        description=description,
        place=f"the {side} flank muscle hematoma",
        vessel=f"a branch of the {side} deep circumflex iliac artery",
        organ=f"the {side} lateral abdominal wall",
        space="into the intramuscular hematoma",
    )


def build_anterior_wall(rng, style, vascular, beyond, variant=""):
    description = [f"Subcutaneous hematoma of the lower anterior abdominal wall in a seatbelt distribution, measuring {dimensions_cm(rng, 3.0, 14.0)}."]
    return Injury(
        site="anterior_wall_subcutaneous",
        location="abdominal wall",
        section="body_wall",
        name="anterior abdominal wall subcutaneous hematoma (seatbelt injury)",
        short="anterior abdominal wall hematoma",
        description=description,
        place="the anterior abdominal wall hematoma",
        vessel="a superficial epigastric artery branch",
        organ="the anterior abdominal wall",
        space="into the subcutaneous hematoma",
    )


def build_gluteal(rng, style, vascular, beyond, variant=""):
    side = rng.choice(("left", "right"))
    muscle = rng.choice(("gluteus maximus", "gluteus medius", "gluteus maximus and medius"))
    artery = rng.choice(("superior", "inferior"))
    description = [f"Expansile hematoma within the {side} {muscle} {'muscles' if ' and ' in muscle else 'muscle'} measuring {dimensions_cm(rng, 3.0, 11.0, 3)}."]
    associated = []
    if rng.random() < 0.4:
        associated.append(("bones", f"Acute fracture of the {side} iliac wing."))
    return Injury(
        site="gluteal",
        location="gluteal/thigh",
        section="body_wall",
        name=f"{side} gluteal intramuscular hematoma",
        short=f"{side} gluteal hematoma",
        description=description,
        place=f"the {side} gluteal hematoma",
        vessel=f"a branch of the {side} {artery} gluteal artery",
        organ=f"the {side} gluteal musculature",
        space="into the intramuscular hematoma",
        associated=associated,
        embolization_target=f"the {side} {artery} gluteal artery",
    )


def build_thigh(rng, style, vascular, beyond, variant=""):
    side = rng.choice(("left", "right"))
    compartment = rng.choice(("vastus lateralis", "adductor compartment", "anterior compartment"))
    description = [f"Hematoma in the {side} proximal thigh within the {compartment}, measuring {dimensions_cm(rng, 3.0, 12.0)}, partially imaged."]
    associated = []
    if rng.random() < 0.5:
        associated.append(("bones", f"Comminuted {side} intertrochanteric femur fracture."))
    return Injury(
        site="thigh",
        location="gluteal/thigh",
        section="body_wall",
        name=f"{side} proximal thigh hematoma",
        short=f"{side} thigh hematoma",
        description=description,
        place=f"the {side} thigh hematoma",
        vessel=rng.choice((f"a branch of the {side} profunda femoris artery", f"the {side} lateral circumflex femoral artery")),
        organ=f"the {side} thigh",
        space="into the thigh hematoma",
        associated=associated,
    )


def build_psoas(rng, style, vascular, beyond, variant=""):
    side = rng.choice(("left", "right"))
    level = rng.randint(1, 3)
    muscle = rng.choice(("psoas", "iliopsoas"))
    return Injury(
        site="psoas",
        location="retroperitoneal",
        section="peritoneum",
        name=f"{side} {muscle} hematoma",
        short=f"{side} {muscle} hematoma",
        description=[f"Enlargement of the {side} {muscle} muscle by an intramuscular hematoma measuring {dimensions_cm(rng, 2.0, 9.0)}."],
        place=f"the {side} {muscle} hematoma",
        vessel=f"a {side} L{level} lumbar artery",
        organ=f"the {side} {muscle}",
        space="into the retroperitoneal hematoma",
        associated=[("bones", f"Acute fractures of the {side} L{level} and L{level + 1} transverse processes.")],
        embolization_target=f"the {side} L{level} lumbar artery",
    )


def build_retroperitoneal_hematoma(rng, style, vascular, beyond, variant=""):
    side = rng.choice(("left", "right"))
    compartment = rng.choice(("posterior pararenal space", "paravertebral retroperitoneum"))
    return Injury(
        site="retroperitoneal_hematoma",
        location="retroperitoneal",
        section="peritoneum",
        name=f"{side} retroperitoneal hematoma",
        short=f"{side} retroperitoneal hematoma",
        description=[
            f"{dimensions_cm(rng, 3.0, 10.0)} hematoma in the {side} {compartment}, separate from the {side} kidney, which enhances normally."
        ],
        place=f"the {side} retroperitoneal hematoma",
        vessel=f"a {side} lumbar artery",
        organ="the retroperitoneum",
        space="into the retroperitoneal hematoma",
    )


PELVIC_FRACTURES = (
    "Acute fractures of the {side} superior and inferior pubic rami and the {side} sacral ala (lateral compression pattern).",
    "Pubic symphysis diastasis of {gap} cm with widening of both anterior sacroiliac joints (anteroposterior compression injury).",
    "Comminuted fracture of the {side} acetabulum involving the anterior column, with fractures of the {other} pubic rami.",
)


def build_pelvic_fracture(rng, style, vascular, beyond, variant=""):
    side = rng.choice(("left", "right"))
    fracture = rng.choice(PELVIC_FRACTURES).format(side=side, other=other_side(side), gap=length_cm(rng, 2.6, 5.0))
    where = rng.choice(("in the space of Retzius", f"along the {side} pelvic sidewall", "in the space of Retzius and presacral space"))
    vessel = rng.choice((f"a branch of the {side} internal iliac artery", f"the {side} obturator artery", f"the {side} internal pudendal artery"))
    return Injury(
        site="pelvic_fracture",
        location="other",
        section="pelvis",
        name=rng.choice(("pelvic ring fractures with extraperitoneal pelvic hematoma", "pelvic fractures with extraperitoneal hematoma")),
        short="pelvic hematoma",
        description=[f"Extraperitoneal pelvic hematoma {where}, measuring {dimensions_cm(rng, 4.0, 12.0)}."],
        place="the extraperitoneal pelvic hematoma",
        vessel=vessel,
        organ="the pelvis",
        space="into the extraperitoneal pelvic hematoma",
        associated=[("bones", fracture)],
        embolization_target=f"the anterior division of the {side} internal iliac artery",
    )


def build_pancreas(rng, style, vascular, beyond, variant=""):
    part = rng.choice(("body", "tail", "neck"))
    grade = rng.choice((1, 2))
    finding = "contusion" if grade == 1 else "laceration"
    return Injury(
        site="pancreas",
        location="other",
        section="pancreas",
        name=f"{style.grade(grade)} pancreatic {part} {finding}",
        short=f"pancreatic {finding}",
        description=[
            f"Ill-defined hypoenhancing {finding} of the pancreatic {part} with peripancreatic fluid and hematoma; the main pancreatic duct is not clearly involved."
        ],
        place=f"the pancreatic {part}",
        vessel="a peripancreatic arterial branch",
        organ="the pancreas",
        space="into the peripancreatic hematoma",
    )


def build_adrenal(rng, style, vascular, beyond, variant=""):
    side = rng.choice(("left", "right"))
    return Injury(
        site="adrenal",
        location="other",
        section="adrenals",
        name=f"{side} adrenal hematoma",
        short=f"{side} adrenal hematoma",
        description=[f"{length_cm(rng, 1.5, 4.0)} cm ovoid hematoma of the {side} adrenal gland with periadrenal stranding."],
        place=f"the {side} adrenal hematoma",
        vessel=f"a {side} adrenal artery branch",
        organ=f"the {side} adrenal gland",
        space="into the periadrenal fat",
    )


def build_chest_wall(rng, style, vascular, beyond, variant=""):
    side = rng.choice(("left", "right"))
    rib = rng.randint(8, 10)
    ribs = f"{rib}th through {rib + 2}th ribs"
    return Injury(
        site="chest_wall",
        location="other",
        section="lower_chest",
        name=f"{side} lower chest wall hematoma with displaced rib fractures",
        short=f"{side} chest wall hematoma",
        description=[f"Hematoma of the {side} lower chest wall measuring {dimensions_cm(rng, 2.0, 8.0)}, adjacent to the rib fractures."],
        place=f"the {side} chest wall hematoma",
        vessel=f"a {side} intercostal artery",
        organ=f"the {side} chest wall",
        space="into the chest wall hematoma",
        associated=[("bones", f"Displaced fractures of the {side} {ribs}.")],
    )


def build_bladder(rng, style, vascular, beyond, variant=""):
    """`variant` names a bladder rupture ("extraperitoneal_rupture" or "intraperitoneal_rupture")."""
    side = rng.choice(("left", "right"))
    fracture = rng.choice(PELVIC_FRACTURES).format(side=side, other=other_side(side), gap=length_cm(rng, 2.6, 5.0))
    if variant == "extraperitoneal_rupture":
        description = [
            "On the cystographic images, contrast extravasates from the anterolateral bladder wall into the perivesical space and space of Retzius in a molar-tooth configuration."
        ]
        name, space = "extraperitoneal bladder rupture", "into the perivesical space"
    elif variant == "intraperitoneal_rupture":
        description = ["Contrast instilled into the bladder extravasates through a defect at the dome into the peritoneal cavity, outlining bowel loops."]
        name, space = "intraperitoneal bladder rupture", "into the peritoneal cavity"
    else:
        description = [f"Irregular thickening of the {side} lateral bladder wall with {with_article(length_cm(rng, 1.5, 4.0))} cm intramural and perivesical hematoma."]
        name, space = "bladder wall hematoma", "into the bladder lumen"
    return Injury(
        site="bladder",
        location="other",
        section="bladder",
        name=name,
        short=name,
        description=description,
        place="the bladder wall hematoma",
        vessel=f"a {side} superior vesical artery branch",
        organ="the bladder",
        space=space,
        associated=[("bones", fracture)],
    )


SITE_BUILDERS: dict[str, Callable[..., Injury]] = {
    "spleen": build_spleen,
    "liver": build_liver,
    "kidney": build_kidney,
    "mesentery": build_mesentery,
    "bowel_wall": build_bowel_wall,
    "rectus_sheath": build_rectus_sheath,
    "flank_wall": build_flank_wall,
    "anterior_wall_subcutaneous": build_anterior_wall,
    "gluteal": build_gluteal,
    "thigh": build_thigh,
    "psoas": build_psoas,
    "retroperitoneal_hematoma": build_retroperitoneal_hematoma,
    "pelvic_fracture": build_pelvic_fracture,
    "pancreas": build_pancreas,
    "adrenal": build_adrenal,
    "chest_wall": build_chest_wall,
    "bladder": build_bladder,
}

SITES_BY_LOCATION = {
    "bowel": (("mesentery", 3), ("bowel_wall", 1)),
    "liver": (("liver", 1),),
    "spleen": (("spleen", 1),),
    "kidney": (("kidney", 1),),
    "abdominal wall": (("rectus_sheath", 3), ("flank_wall", 2), ("anterior_wall_subcutaneous", 1)),
    "gluteal/thigh": (("gluteal", 3), ("thigh", 2)),
    "retroperitoneal": (("psoas", 2), ("retroperitoneal_hematoma", 1)),
    "other": (("pelvic_fracture", 5), ("pancreas", 1), ("adrenal", 1), ("chest_wall", 1), ("bladder", 1)),
}

# Bowel/mesentery, spleen, liver and kidney dominate, as in the study's positives.
BLEEDING_LOCATION_WEIGHTS = (
    ("bowel", 24),
    ("spleen", 21),
    ("liver", 16),
    ("kidney", 14),
    ("gluteal/thigh", 8),
    ("other", 9),
    ("retroperitoneal", 7),
    ("abdominal wall", 7),
)
# Injuries that do not bleed are mostly solid-organ lacerations.
INJURY_LOCATION_WEIGHTS = (
    ("spleen", 24),
    ("liver", 24),
    ("kidney", 14),
    ("bowel", 10),
    ("other", 10),
    ("retroperitoneal", 6),
    ("abdominal wall", 6),
    ("gluteal/thigh", 6),
)
PSEUDOANEURYSM_SITES = (("spleen", 6), ("liver", 4), ("kidney", 3), ("pelvic_fracture", 2), ("gluteal", 1), ("mesentery", 1))
# Fistulas and contained injuries are described in solid organs.
SOLID_ORGAN_SITES = (("spleen", 2), ("liver", 1), ("kidney", 2))
EMBOLIZED_SITES = (("spleen", 5), ("liver", 2), ("kidney", 2), ("pelvic_fracture", 2), ("gluteal", 1), ("psoas", 1))


def make_injury(rng, draft, site, vascular=VASCULAR_NONE, phrasing=PLAIN, variant=""):
    beyond = vascular == VASCULAR_ACTIVE and rng.random() < 0.5
    injury = SITE_BUILDERS[site](rng, draft.style, vascular, beyond, variant)
    injury.vascular = vascular
    injury.phrasing = phrasing
    injury.description.extend(describe_vascular(rng, injury))
    return injury


def pick_site(rng, location):
    return weighted(rng, SITES_BY_LOCATION[location])


def pick_locations(rng, weights, count, exclude=()):
    chosen: list[str] = []
    while len(chosen) < count:
        location = weighted(rng, weights)
        if location not in chosen and location not in exclude:
            chosen.append(location)
    return chosen


# ------------------------------------------------------ findings vocabulary

ACTIVE_COUNTABLE = (
    "active extravasation",
    "active contrast extravasation",
    "active arterial extravasation",
    "active extravasation of IV contrast",
    "active extravasation of intravenous contrast",
    "arterial contrast extravasation",
)
ACTIVE_MASS = (
    "active hemorrhage",
    "active arterial hemorrhage",
    "active bleeding",
    "active arterial bleeding",
    "brisk active extravasation",
    "extravasation of IV contrast",
)
ACTIVE_QUANTIFIERS = ("a focus of ", "a small focus of ", "multiple foci of ", "a large focus of ", "a linear focus of ")


def active_phrase(rng: random.Random, quantified: bool = True) -> str:
    """A noun phrase stating active bleeding: dozens of combinations.

    `quantified=False` leaves out "a focus of" and the like, for frames such as
    "persistent ..." that cannot take an article.
    """
    if not quantified or rng.random() < 0.5:
        return rng.choice(ACTIVE_MASS + ACTIVE_COUNTABLE)
    return rng.choice(ACTIVE_QUANTIFIERS) + rng.choice(ACTIVE_COUNTABLE)


def verb_be(noun_phrase: str) -> str:
    return "are" if noun_phrase.startswith("multiple") else "is"


GROWTH = (
    "increases in size",
    "enlarges and changes configuration",
    "expands",
    "increases in size and layers dependently",
    "becomes larger and more diffuse",
)
LATER_PHASES = ("portal venous and delayed", "delayed", "portal venous", "5-minute delayed")
SHAPES = ("irregular", "flame-shaped", "linear", "amorphous", "ill-defined")


def describe_vascular(rng, injury):
    """Findings sentences for what the images show at the injury's vessels."""
    size, shape = focus_size(rng), rng.choice(SHAPES)
    place, vessel, space = injury.place, injury.vessel, injury.space
    growth, later = rng.choice(GROWTH), rng.choice(LATER_PHASES)
    attenuation = rng.choice(("", f" (approximately {rng.randint(170, 290)} HU, similar to the aorta)"))
    vascular, phrasing = injury.vascular, injury.phrasing
    np = active_phrase(rng)
    if vascular == VASCULAR_ACTIVE and phrasing == BLUSH_WITHOUT_WORD:
        return [
            rng.choice(
                (
                    f"{cap(with_article(size))} {shape} contrast blush within {place} on the arterial phase enlarges and changes configuration on the {later} images, consistent with active hemorrhage.",
                    f"Arterial-phase blush within {place}{attenuation} that {growth} on the {later} images, compatible with active arterial bleeding.",
                )
            )
        ]
    if vascular == VASCULAR_ACTIVE and phrasing == BLUSH_WITH_WORD:
        return [
            rng.choice(
                (
                    f"{cap(with_article(shape))} contrast blush within {place} on the arterial phase shows extravasation {space} on the portal venous and delayed phases, consistent with active bleeding.",
                    f"Arterial-phase contrast blush within {place} with progressive extravasation on the {later} images.",
                )
            )
        ]
    if vascular == VASCULAR_ACTIVE and phrasing == POOLING:
        return [
            rng.choice(
                (
                    f"On the arterial phase there is {with_article(size)} focus of contrast within {place}, which pools and enlarges on the delayed images, compatible with active bleeding.",
                    f"Contrast extravasates from {vessel} and pools {space} on the delayed images.",
                )
            )
        ]
    if vascular == VASCULAR_ACTIVE:
        return [
            rng.choice(
                (
                    f"{cap(with_article(size))} {shape} focus of hyperattenuating contrast within {place} on the arterial phase{attenuation} {growth} on the {later} images, consistent with {np}.",
                    f"{cap(np)} {verb_be(np)} seen within {place}, with a contrast collection that {growth} on the {later} images.",
                    f"On the arterial phase, contrast is seen extravasating from {vessel} {space}, and it {growth} on the {later} images.",
                    f"There {verb_be(np)} {np} arising from {vessel}, measuring {size} on the arterial phase and increasing on the {later} images.",
                )
            )
        ]
    if vascular == VASCULAR_PSEUDOANEURYSM and phrasing == BLUSH_WITHOUT_WORD:
        return [
            f"Contrast blush within {place} on the arterial phase that does not change in size or configuration on the delayed images and fades to blood pool, consistent with pseudoaneurysm."
        ]
    if vascular == VASCULAR_PSEUDOANEURYSM and phrasing == BLUSH_WITH_WORD:
        return [f"Focal contrast blush within {place} on the arterial phase without extravasation on the portal venous or delayed images, compatible with a pseudoaneurysm."]
    if vascular == VASCULAR_PSEUDOANEURYSM:
        return [
            rng.choice(
                (
                    f"{cap(with_article(f'{rng.randint(4, 14)} mm'))} well-circumscribed focus of contrast within {place}, isodense to the aorta on the arterial phase, washes out on the portal venous and delayed phases without change in size or shape, consistent with a pseudoaneurysm.",
                    f"{rng.randint(4, 14)} mm rounded contrast collection arising from {vessel} that follows the blood pool on all phases, compatible with a pseudoaneurysm.",
                )
            )
        ]
    if vascular == VASCULAR_AV_FISTULA:
        return [f"Early opacification of {injury.vein} on the arterial phase, consistent with a traumatic arteriovenous fistula."]
    if vascular == VASCULAR_CONTAINED:
        return [
            f"Several punctate foci of arterial-phase contrast within {place} decrease in attenuation on the delayed images without growth, consistent with contained vascular injury."
        ]
    if vascular == VASCULAR_INDETERMINATE:
        return [
            rng.choice(
                (
                    f"{cap(with_article(size))} hyperattenuating focus within {place} is seen on the arterial phase; the delayed images at this level are degraded by {rng.choice(('motion', 'streak artifact from the arms'))}, and active extravasation cannot be distinguished from a small pseudoaneurysm.",
                    f"Subtle blush within {place} on the arterial phase with questionable increase in size on the portal venous phase.",
                    f"Ill-defined focus of hyperattenuation (up to {rng.randint(130, 200)} HU) within {place}, of uncertain significance; it is not clearly seen on the delayed images.",
                )
            )
        ]
    if rng.random() < 0.35:
        return [rng.choice(("No associated active extravasation.", "No active extravasation or pseudoaneurysm.", "No contrast extravasation on arterial or delayed phases."))]
    return []


# ---------------------------------------------------- impression statements

NEGATION_PHRASES = (
    "active extravasation",
    "active contrast extravasation",
    "active arterial extravasation",
    "active bleeding",
    "active hemorrhage",
    "extravasation of IV contrast",
    "intravenous contrast extravasation",
)
NEGATION_FORMS = (
    "No {np}.",
    "No {np} is identified.",
    "No evidence of {np}.",
    "No CT evidence of {np}.",
    "Negative for {np}.",
    "There is no {np}.",
    "No {np} in the abdomen or pelvis.",
    "No {np} on arterial, portal venous or delayed images.",
)
NEGATION_SENTENCES = (
    "No contrast extravasation to suggest active hemorrhage.",
    "Without evidence of active contrast extravasation.",
    "No active extravasation or pseudoaneurysm.",
)
URGENCY = (
    "",
    "",
    ", concerning for ongoing hemorrhage",
    "; interventional radiology consultation is recommended",
    "; findings warrant emergent angiographic or surgical evaluation",
)


def say_global_negation(rng) -> Statement:
    if rng.random() < 0.2:
        text = rng.choice(NEGATION_SENTENCES)
    else:
        text = rng.choice(NEGATION_FORMS).format(np=rng.choice(NEGATION_PHRASES))
    return Statement(text, (Claim(NEGATED),))


def say_injury(rng, injury, negate=False) -> Statement:
    """Name the injury; with `negate`, state that it does not bleed."""
    name = cap(injury.name)
    if not negate:
        return Statement(f"{name}.")
    text = rng.choice(
        (
            f"{name} without {rng.choice(NEGATION_PHRASES)}.",
            f"{name}, without evidence of {rng.choice(NEGATION_PHRASES)}.",
            f"{name}. No {rng.choice(NEGATION_PHRASES)} from {injury.organ}.",
            f"{name}; no associated active bleeding.",
        )
    )
    return Statement(text, (Claim(NEGATED, (injury.location,)),))


def say_active(rng, injury, prefix="") -> Statement:
    """Assert active bleeding at the injury, worded per its phrasing."""
    name, np, place, vessel = cap(injury.name), active_phrase(rng), injury.place, injury.vessel
    if injury.phrasing == BLUSH_WITHOUT_WORD:
        text = rng.choice(
            (
                f"{name} with a contrast blush that enlarges on portal venous and delayed phases, consistent with active hemorrhage.",
                f"{name} with an arterial blush that increases in size on delayed images, compatible with active bleeding.",
                f"Enlarging contrast blush within {place}, consistent with active arterial bleeding, in the setting of {with_article(injury.name)}.",
                f"{name}. Blush of contrast within {place} grows on delayed imaging, in keeping with active hemorrhage.",
            )
        )
    elif injury.phrasing == BLUSH_WITH_WORD:
        text = rng.choice(
            (
                f"{name} with a contrast blush and extravasation on delayed images, consistent with active bleeding.",
                f"{name} with a contrast blush representing active extravasation.",
                f"Contrast blush within {place} with extravasation on portal venous and delayed phases, consistent with active hemorrhage; {injury.name}.",
            )
        )
    elif injury.phrasing == POOLING:
        text = rng.choice(
            (
                f"{name} with pooling of contrast on delayed images, compatible with {rng.choice(('active hemorrhage', 'active bleeding'))}.",
                f"{name}; contrast extravasates from {vessel} and pools {injury.space} on delayed images, compatible with active hemorrhage.",
                f"{name} with enlarging contrast pooling on portal venous and delayed phases, in keeping with active arterial bleeding.",
            )
        )
    elif prefix:
        text = rng.choice(
            (
                f"{prefix} {active_phrase(rng, quantified=False)} within {place}.",
                f"{prefix} {active_phrase(rng, quantified=False)} from {vessel} ({injury.short}).",
            )
        )
    else:
        urgency = rng.choice(URGENCY)
        text = rng.choice(
            (
                f"{name} with {np}{urgency}.",
                f"{name} with {np} {injury.space}{urgency}.",
                f"{name} with associated {active_phrase(rng, quantified=False)}.",
                f"{name}, complicated by {np}{urgency}.",
                f"{name} with {np} arising from {vessel}.",
                f"{cap(np)} from {vessel} in the setting of {with_article(injury.name)}{urgency}.",
                f"{name}. There {verb_be(np)} {np} from {vessel}{urgency}.",
            )
        )
    return Statement(text, (Claim(ACTIVE, (injury.location,)),))


def say_multi_active(rng, injuries) -> Statement:
    """One sentence asserting bleeding at several sites."""
    places = [injury.place for injury in injuries]
    listed = ", ".join(places[:-1]) + " and " + places[-1]
    text = rng.choice(
        (
            f"{cap(active_phrase(rng, quantified=False))} within {listed}.",
            f"Multifocal active extravasation: {listed}.",
            f"{cap(rng.choice(ACTIVE_COUNTABLE))} is seen within {listed}{rng.choice(URGENCY)}.",
        )
    )
    return Statement(text, (Claim(ACTIVE, tuple(injury.location for injury in injuries)),))


def say_mixed(rng, bleeding, spared) -> tuple[Statement, bool]:
    """One sentence: bleeding at one injury, explicitly none at another.

    Also says whether the sentence names both injuries, so the caller knows
    whether to list them separately.
    """
    np, negation = active_phrase(rng), rng.choice(NEGATION_PHRASES)
    text, names_both = rng.choice(
        (
            (f"{cap(np)} within {bleeding.place}; no {negation} from {spared.organ}.", False),
            (f"{cap(bleeding.name)} with {np}, and {spared.name} without {negation}.", True),
            (f"{cap(np)} {verb_be(np)} seen within {bleeding.place} but not within {spared.place}.", False),
            (f"{cap(spared.name)} without {negation}; however, there {verb_be(np)} {np} from {bleeding.vessel}.", False),
            (f"No {negation} from {spared.organ}, but {np} {verb_be(np)} present within {bleeding.place}.", False),
        )
    )
    return Statement(text, (Claim(ACTIVE, (bleeding.location,)), Claim(NEGATED, (spared.location,)))), names_both


HEDGE_RECOMMENDATIONS = (
    "",
    "",
    " Correlation with catheter angiography is recommended.",
    " Consider angiography or short-interval follow-up CT if the patient becomes unstable.",
    " Clinical correlation and close hemodynamic monitoring are advised.",
)


def say_hedged(rng, injury) -> Statement:
    name, place = cap(injury.name), injury.place
    text = rng.choice(
        (
            f"{name} with {with_article(focus_size(rng))} hyperdense focus that may represent active extravasation versus pseudoaneurysm.",
            f"{name}. Possible {rng.choice(('', 'small focus of ', 'punctate focus of '))}active extravasation within {place}.",
            f"{name}. Questionable focus of active contrast extravasation within {place}.",
            f"{name}; active extravasation from {injury.vessel} cannot be excluded.",
            f"{name} with an indeterminate hyperattenuating focus within {place}, which could reflect a small amount of active extravasation or a pseudoaneurysm.",
            f"{name}. Cannot exclude a small focus of active bleeding within {place}.",
            f"{name} with an equivocal blush within {place}, possibly representing active extravasation.",
            f"{name}. Subtle focus within {place} suspicious for, but not diagnostic of, active extravasation.",
        )
    )
    return Statement(text + rng.choice(HEDGE_RECOMMENDATIONS), (Claim(HEDGED),))


def say_vascular_injury(rng, injury) -> Statement:
    """A pseudoaneurysm, fistula or contained injury: vascular, but not bleeding."""
    name, place = cap(injury.name), injury.place
    if injury.vascular == VASCULAR_AV_FISTULA:
        return Statement(f"{name} with a traumatic arteriovenous fistula (early opacification of {injury.vein}).")
    if injury.vascular == VASCULAR_CONTAINED:
        return Statement(rng.choice((f"{name} with contained vascular injury.", f"{name} with small contained vascular injuries (pseudoaneurysms).")))
    if injury.phrasing == BLUSH_WITHOUT_WORD:
        return Statement(
            rng.choice(
                (
                    f"{name} with a contrast blush that does not change on delayed images, consistent with pseudoaneurysm.",
                    f"{name}; the arterial-phase blush fades on delayed images, compatible with a pseudoaneurysm (contained vascular injury).",
                )
            )
        )
    if injury.phrasing == BLUSH_WITH_WORD:
        text = rng.choice(
            (
                f"{name} with a contrast blush without extravasation on delayed images, consistent with pseudoaneurysm.",
                f"Non-expanding contrast blush within {place} without extravasation on delayed phases, compatible with pseudoaneurysm; {injury.name}.",
            )
        )
        return Statement(text, (Claim(NEGATED, (injury.location,)),))
    return Statement(
        rng.choice(
            (
                f"{name} with a pseudoaneurysm measuring {rng.randint(4, 14)} mm.",
                f"{name} with contained vascular injury (pseudoaneurysm).",
                f"Traumatic pseudoaneurysm of {injury.vessel}, associated with {with_article(injury.name)}.",
            )
        )
    )


# --------------------------------------------------------- shared contents

RIB_NAMES = ("8th", "9th", "10th", "11th")

ASSOCIATED_TRAUMA = (
    ("bones", "Acute nondisplaced fractures of the {side} posterior {rib} and {next_rib} ribs.", "Acute {side} {rib} and {next_rib} rib fractures."),
    ("bones", "Acute fractures of the {side} L{level} and L{next_level} transverse processes.", "{Side} L{level}-L{next_level} transverse process fractures."),
    ("lower_chest", "Small {side} pneumothorax at the lung base.", "Small {side} pneumothorax, partially imaged; see same-day CT chest."),
    ("bones", "Acute nondisplaced fracture of the {side} sacral ala.", "Nondisplaced {side} sacral ala fracture."),
    ("lower_chest", "Patchy {side} lower lobe ground-glass opacity, likely pulmonary contusion.", "{Side} lower lobe pulmonary contusion."),
)

INCIDENTAL_FINDINGS = {
    "liver": (
        ("Diffuse hepatic steatosis. No hepatic laceration or hematoma.", "Hepatic steatosis."),
        ("Subcentimeter hypodensity in hepatic segment 7, too small to characterize, likely a cyst. No liver injury.", ""),
    ),
    "biliary": (
        ("Cholelithiasis without gallbladder wall thickening or pericholecystic fluid.", "Cholelithiasis."),
        ("Status post cholecystectomy. Mild postcholecystectomy prominence of the common bile duct.", ""),
    ),
    "spleen": (("Small splenule at the splenic hilum. The spleen is otherwise intact.", ""),),
    "adrenals": (
        (
            "1.6 cm left adrenal nodule measuring 6 HU on delayed images, likely an adenoma.",
            "1.6 cm left adrenal nodule, likely an adenoma; no emergent follow-up needed.",
        ),
    ),
    "kidneys": (
        ("2.3 cm simple cyst in the upper pole of the right kidney. No renal injury or hydronephrosis.", ""),
        ("Nonobstructing 4 mm left lower pole renal calculus. No renal injury.", "Nonobstructing left nephrolithiasis."),
    ),
    "bowel": (
        ("Sigmoid diverticulosis without diverticulitis. No bowel wall thickening or mesenteric hematoma.", ""),
        ("Small hiatal hernia. No bowel or mesenteric injury.", ""),
    ),
    "vasculature": (
        ("Moderate atherosclerotic calcification of the abdominal aorta and iliac arteries without traumatic injury.", ""),
        ("Ectatic infrarenal abdominal aorta measuring 2.8 cm. No aortic injury.", ""),
    ),
    "body_wall": (("Small fat-containing umbilical hernia.", ""),),
    "bones": (
        ("Multilevel degenerative changes of the lumbar spine. No acute fracture.", ""),
        ("Bilateral L5 pars interarticularis defects without listhesis. No acute fracture.", ""),
    ),
    "lower_chest": (
        ("Bibasilar dependent atelectasis. No pneumothorax.", ""),
        ("4 mm right lower lobe pulmonary nodule.", "4 mm right lower lobe nodule; see Fleischner guidelines."),
    ),
}

NORMAL_FINDINGS = {
    "lower_chest": (
        "The visualized lung bases are clear. No pleural or pericardial effusion.",
        "Lung bases are clear.",
        "No pneumothorax or pleural effusion at the lung bases.",
    ),
    "liver": (
        "The liver is normal in size and attenuation without laceration or focal lesion.",
        "No hepatic laceration or hematoma.",
        "Homogeneous hepatic enhancement. No liver injury.",
    ),
    "biliary": (
        "The gallbladder is unremarkable. No biliary ductal dilatation.",
        "Gallbladder and bile ducts are within normal limits.",
        "Normal gallbladder. No intra- or extrahepatic biliary dilatation.",
    ),
    "spleen": (
        "The spleen is normal in size and enhances homogeneously without laceration.",
        "Spleen is intact.",
        "No splenic injury.",
    ),
    "pancreas": (
        "The pancreas enhances normally without peripancreatic fluid.",
        "Unremarkable pancreas.",
        "No pancreatic injury or peripancreatic stranding.",
    ),
    "adrenals": ("The adrenal glands are normal.", "No adrenal hematoma or nodule.", "Unremarkable adrenal glands."),
    "kidneys": (
        "The kidneys enhance symmetrically without laceration, perinephric hematoma or hydronephrosis.",
        "No renal injury. No hydronephrosis.",
        "Kidneys are normal in size with symmetric nephrograms. Ureters are unremarkable.",
    ),
    "bladder": ("The urinary bladder is unremarkable.", "Bladder is decompressed around a Foley catheter.", "Urinary bladder is moderately distended and unremarkable."),
    "bowel": (
        "No bowel wall thickening, mesenteric hematoma or free air.",
        "The stomach, small bowel and colon are unremarkable. Normal appendix.",
        "No evidence of bowel or mesenteric injury.",
    ),
    "peritoneum": ("No free fluid or free air.", "No hemoperitoneum or pneumoperitoneum.", "No ascites or free intraperitoneal air."),
    "vasculature": (
        "The abdominal aorta and IVC are normal in caliber without traumatic injury.",
        "Normal caliber aorta without dissection or intimal flap. Patent celiac, mesenteric and renal arteries.",
        "The abdominal aorta and IVC are unremarkable.",
    ),
    "lymph_nodes": ("No lymphadenopathy.", "No enlarged abdominal or pelvic lymph nodes."),
    "body_wall": ("No abdominal wall hematoma.", "Soft tissues are unremarkable.", "No subcutaneous or intramuscular hematoma."),
    "bones": ("No acute fracture or malalignment.", "No acute osseous abnormality.", "Osseous structures are intact."),
}
PELVIS_FINDINGS = {
    "male": ("The prostate and seminal vesicles are unremarkable.", "Prostate is normal in size.", "Mildly enlarged prostate."),
    "female": ("The uterus and adnexa are unremarkable.", "Uterus and ovaries are within normal limits.", "Fibroid uterus. No adnexal mass."),
    "female_postmenopausal": ("Atrophic postmenopausal uterus. No adnexal mass.", "The uterus and adnexa are unremarkable."),
}


def add_associated_trauma(rng, draft):
    """Fractures and chest findings that accompany abdominal trauma but do not bleed."""
    if rng.random() > 0.35:
        return
    sections_taken = {injury.section for injury in draft.injuries}
    sections_taken |= {section for injury in draft.injuries for section, _ in injury.associated}
    for finding_section, finding, summary in rng.sample(ASSOCIATED_TRAUMA, rng.randint(1, 2)):
        if finding_section in sections_taken:
            continue
        side, rib, level = rng.choice(("left", "right")), rng.randint(0, 2), rng.randint(1, 3)
        values = {
            "side": side,
            "Side": cap(side),
            "rib": RIB_NAMES[rib],
            "next_rib": RIB_NAMES[rib + 1],
            "level": level,
            "next_level": level + 1,
        }
        draft.extra_findings.append((finding_section, finding.format(**values)))
        if rng.random() < 0.75:
            draft.impression.append(Statement(summary.format(**values)))


def add_incidental_findings(rng, draft):
    sections_taken = {injury.section for injury in draft.injuries}
    sections_taken |= {section for section, _ in draft.extra_findings}
    sections_taken |= {section for injury in draft.injuries for section, _ in injury.associated}
    candidates = [section for section in INCIDENTAL_FINDINGS if section not in sections_taken]
    if draft.age < 45:
        candidates = [section for section in candidates if section not in ("vasculature", "bones")]
    for section in rng.sample(candidates, min(len(candidates), rng.choice((0, 0, 1, 1, 2)))):
        finding, summary = rng.choice(INCIDENTAL_FINDINGS[section])
        draft.extra_findings.append((section, finding))
        if summary and rng.random() < 0.5:
            draft.impression.append(Statement(summary))


def hemoperitoneum_amount(draft) -> int:
    return max((injury.hemoperitoneum for injury in draft.injuries), default=0)


def add_supporting_items(rng, draft, negate=False):
    """Complete an impression: hemoperitoneum, associated trauma, a global negation, incidentals."""
    amount = hemoperitoneum_amount(draft)
    if amount >= 2 and rng.random() < 0.6:
        draft.impression.append(Statement(f"{cap(HEMOPERITONEUM_AMOUNTS[amount])} hemoperitoneum."))
    add_associated_trauma(rng, draft)
    if negate:
        position = rng.choice((len(draft.impression), min(1, len(draft.impression))))
        draft.impression.insert(position, say_global_negation(rng))
    add_incidental_findings(rng, draft)
    claims = [claim.kind for statement in draft.impression for claim in statement.claims]
    chance = 0.8 if ACTIVE in claims else 0.65 if HEDGED in claims else 0.35 if draft.injuries else 0.0
    draft.communicate = rng.random() < chance


# ------------------------------------------------------------------ scenarios
#
# A scenario fixes what a report is meant to test. It fills the draft with
# injuries and impression statements; the label follows from the claims.


def scenario_single_bleed(rng, draft, phrasing=None):
    phrasing = phrasing or weighted(rng, ((PLAIN, 5), (POOLING, 1)))
    injury = make_injury(rng, draft, pick_site(rng, weighted(rng, BLEEDING_LOCATION_WEIGHTS)), VASCULAR_ACTIVE, phrasing)
    draft.injuries.append(injury)
    draft.impression.append(say_active(rng, injury))
    add_supporting_items(rng, draft)


def scenario_blush_with_word_bleed(rng, draft):
    draft.features.add("blush_with_word")
    scenario_single_bleed(rng, draft, BLUSH_WITH_WORD)


def scenario_blush_without_word_bleed(rng, draft):
    draft.features.add("blush_without_word")
    scenario_single_bleed(rng, draft, BLUSH_WITHOUT_WORD)


def scenario_multi_site(rng, draft):
    count = 3 if rng.random() < 0.2 else 2
    for location in pick_locations(rng, BLEEDING_LOCATION_WEIGHTS, count):
        draft.injuries.append(make_injury(rng, draft, pick_site(rng, location), VASCULAR_ACTIVE))
    if rng.random() < 0.5:
        draft.impression.append(say_multi_active(rng, draft.injuries))
        draft.impression.extend(say_injury(rng, injury) for injury in draft.injuries)
    else:
        draft.impression.extend(say_active(rng, injury) for injury in draft.injuries)
    add_supporting_items(rng, draft)


def scenario_multi_injury_single_bleed(rng, draft):
    bleeding_location = weighted(rng, BLEEDING_LOCATION_WEIGHTS)
    bleeding = make_injury(rng, draft, pick_site(rng, bleeding_location), VASCULAR_ACTIVE)
    others = [
        make_injury(rng, draft, pick_site(rng, location))
        for location in pick_locations(rng, INJURY_LOCATION_WEIGHTS, rng.randint(1, 3), exclude=(bleeding_location,))
    ]
    draft.injuries.extend([bleeding] + others)
    statements = [say_active(rng, bleeding)] + [say_injury(rng, injury, negate=rng.random() < 0.4) for injury in others]
    # The bleeding injury is not always listed first, so a reader must check every item.
    if rng.random() < 0.5:
        rng.shuffle(statements)
    draft.impression.extend(statements)
    add_supporting_items(rng, draft)


def scenario_mixed_sentence_negation(rng, draft):
    draft.features.add("mixed_sentence_negation")
    bleeding_location = weighted(rng, BLEEDING_LOCATION_WEIGHTS)
    spared_location = weighted(rng, (("spleen", 3), ("liver", 3), ("kidney", 2), ("bowel", 1), ("other", 1)))
    while spared_location == bleeding_location:
        spared_location = weighted(rng, INJURY_LOCATION_WEIGHTS)
    bleeding = make_injury(rng, draft, pick_site(rng, bleeding_location), VASCULAR_ACTIVE)
    spared = make_injury(rng, draft, pick_site(rng, spared_location))
    draft.injuries.extend([bleeding, spared])
    statement, names_both = say_mixed(rng, bleeding, spared)
    draft.impression.append(statement)
    if not names_both:
        draft.impression.extend(say_injury(rng, injury) for injury in (bleeding, spared) if injury.name not in statement.text)
    add_supporting_items(rng, draft)


def scenario_hedged(rng, draft):
    location = weighted(rng, BLEEDING_LOCATION_WEIGHTS)
    injury = make_injury(rng, draft, pick_site(rng, location), VASCULAR_INDETERMINATE)
    draft.injuries.append(injury)
    draft.impression.append(say_hedged(rng, injury))
    draft.features.add("hedged")
    if rng.random() < 0.3:
        other_location = pick_locations(rng, INJURY_LOCATION_WEIGHTS, 1, exclude=(location,))[0]
        other = make_injury(rng, draft, pick_site(rng, other_location))
        draft.injuries.append(other)
        draft.impression.append(say_injury(rng, other))
    add_supporting_items(rng, draft)


def scenario_negative_exam(rng, draft):
    draft.impression.append(
        Statement(
            rng.choice(
                (
                    "No acute traumatic injury in the abdomen or pelvis.",
                    "No CT evidence of acute intra-abdominal or pelvic injury.",
                    "No acute posttraumatic abnormality of the abdomen or pelvis.",
                    "No solid organ injury, bowel injury or hemoperitoneum.",
                    "Negative CT of the abdomen and pelvis for traumatic injury.",
                )
            )
        )
    )
    add_supporting_items(rng, draft, negate=rng.random() < 0.4)


def scenario_injury_without_bleed(rng, draft):
    negate_each = rng.random() < 0.3
    count = rng.choices((1, 2, 3), weights=(5, 3, 1))[0]
    for location in pick_locations(rng, INJURY_LOCATION_WEIGHTS, count):
        injury = make_injury(rng, draft, pick_site(rng, location))
        draft.injuries.append(injury)
        draft.impression.append(say_injury(rng, injury, negate=negate_each))
    add_supporting_items(rng, draft, negate=not negate_each and rng.random() < 0.5)


def scenario_vascular_injury_without_bleed(rng, draft, phrasing=PLAIN):
    draft.features.add("pseudoaneurysm_or_contained")
    if phrasing == PLAIN:
        vascular = weighted(rng, ((VASCULAR_PSEUDOANEURYSM, 5), (VASCULAR_AV_FISTULA, 2), (VASCULAR_CONTAINED, 2)))
    else:
        vascular = VASCULAR_PSEUDOANEURYSM
    sites = PSEUDOANEURYSM_SITES if vascular == VASCULAR_PSEUDOANEURYSM else SOLID_ORGAN_SITES
    injury = make_injury(rng, draft, weighted(rng, sites), vascular, phrasing)
    draft.injuries.append(injury)
    draft.impression.append(say_vascular_injury(rng, injury))
    add_supporting_items(rng, draft, negate=rng.random() < 0.5)


def scenario_blush_pseudoaneurysm_with_word(rng, draft):
    draft.features.add("blush_with_word")
    scenario_vascular_injury_without_bleed(rng, draft, BLUSH_WITH_WORD)


def scenario_blush_pseudoaneurysm_without_word(rng, draft):
    draft.features.add("blush_without_word")
    scenario_vascular_injury_without_bleed(rng, draft, BLUSH_WITHOUT_WORD)


def scenario_findings_only(rng, draft):
    """The findings describe a bleed; the impression lists the injury and says nothing of it."""
    draft.features.add("findings_only")
    injury = make_injury(rng, draft, pick_site(rng, weighted(rng, BLEEDING_LOCATION_WEIGHTS)), VASCULAR_ACTIVE, weighted(rng, ((PLAIN, 4), (POOLING, 1))))
    draft.injuries.append(injury)
    draft.impression.append(say_injury(rng, injury))
    add_supporting_items(rng, draft)


def scenario_non_blood_extravasation(rng, draft):
    draft.features.add("non_blood_extravasation")
    kind = weighted(
        rng,
        (("oral_contrast", 3), ("excreted_contrast", 3), ("urinoma", 2), ("bladder_rupture", 3), ("bile", 2), ("iv_infiltration", 3)),
    )
    if kind == "oral_contrast":
        draft.oral_contrast = True
        injury = make_injury(rng, draft, "bowel_wall", variant="perforation")
        draft.extra_findings.append(("peritoneum", "Small volume pneumoperitoneum and free fluid in the pelvis."))
        statement = rng.choice(
            (
                f"Extravasation of oral contrast from {injury.organ} with pneumoperitoneum, consistent with {injury.name}.",
                f"{cap(injury.name)} with extraluminal oral contrast extravasation and free air.",
            )
        )
    elif kind in ("excreted_contrast", "urinoma"):
        injury = make_injury(rng, draft, "kidney", variant="collecting_system")
        if kind == "excreted_contrast":
            injury.description.append(
                f"On the delayed excretory images, contrast extravasates from the {rng.choice(('renal pelvis', 'interpolar calyx', 'upper pole calyx'))} into the perinephric space, indicating collecting system injury."
            )
            statement = rng.choice(
                (
                    f"{cap(injury.name)} with extravasation of excreted contrast from the collecting system on delayed images, consistent with urine leak.",
                    f"{cap(injury.name)} involving the collecting system, with urinary extravasation on the excretory phase.",
                )
            )
        else:
            injury.description.append("Low-attenuation perinephric fluid collection that fills with excreted contrast on the delayed images, consistent with a urinoma.")
            statement = f"{cap(injury.name)} with a perinephric urinoma from urinary extravasation."
    elif kind == "bladder_rupture":
        draft.cystogram = True
        injury = make_injury(rng, draft, "bladder", variant=rng.choice(("extraperitoneal_rupture", "intraperitoneal_rupture")))
        statement = f"{cap(injury.name)} with extravasation of contrast-opacified urine {injury.space}."
    elif kind == "bile":
        draft.follow_up = True
        injury = make_injury(rng, draft, "liver")
        size = length_cm(rng, 3.0, 8.0)
        injury.description.append(f"{cap(with_article(size))} cm low-attenuation (8 HU) collection adjacent to the laceration, compatible with a biloma.")
        statement = rng.choice(
            (
                f"{cap(injury.name)} with an adjacent {size} cm biloma, consistent with bile leak.",
                f"{cap(injury.name)} with bile extravasation forming a perihepatic biloma.",
            )
        )
        prior = draft.exam_time - dt.timedelta(days=rng.randint(3, 7))
        draft.comparison = f"CT abdomen and pelvis {draft.style.date(prior)}."
        draft.history_note = rng.choice(("Known liver laceration, managed nonoperatively; rising bilirubin and right upper quadrant pain.", "Hospital day 5 after liver injury, new abdominal pain and fever."))
    else:
        injury = None
        volume = rng.choice((20, 30, 40, 50, 60))
        site = rng.choice(("right antecubital fossa", "left antecubital fossa", "right forearm", "left hand"))
        draft.technique_notes.append(
            f"Contrast extravasation occurred at the {site} IV site during injection (approximately {volume} mL); the injection was stopped and the scan was completed through a second IV."
        )
        statement = rng.choice(
            (
                f"Extravasation of approximately {volume} mL of IV contrast into the soft tissues at the {site} injection site; the ordering team was notified and the extremity elevated.",
                f"Contrast infiltration (extravasation) at the {site} IV site, managed per the department contrast extravasation protocol.",
            )
        )
    if injury is not None:
        draft.injuries.append(injury)
    draft.impression.append(Statement(statement))
    add_supporting_items(rng, draft, negate=rng.random() < 0.5)


def scenario_prior_extravasation_resolved(rng, draft):
    draft.features.add("prior_or_resolved")
    draft.follow_up = True
    location = weighted(rng, (("spleen", 5), ("liver", 4), ("kidney", 2), ("bowel", 1), ("other", 2), ("gluteal/thigh", 1)))
    injury = make_injury(rng, draft, pick_site(rng, location))
    draft.injuries.append(injury)
    prior = draft.exam_time - dt.timedelta(days=rng.randint(1, 4), hours=rng.randint(0, 12))
    prior_date = draft.style.date(prior)
    if rng.random() < 0.5:
        draft.comparison = f"CT abdomen and pelvis {prior_date}."
        draft.history_note = f"Known {injury.short} with active extravasation on CT of {prior_date}; hemodynamically stable, managed nonoperatively. Follow-up."
        injury.description.append("The focus of active extravasation seen on the prior examination is no longer visualized.")
        text = rng.choice(
            (
                f"{cap(injury.name)}. The active extravasation seen on the prior CT of {prior_date} has resolved.",
                f"Interval resolution of the active extravasation previously seen within {injury.place}; evolving {injury.short}.",
                f"{cap(injury.name)}, with resolution of the previously seen contrast extravasation compared with {prior_date}.",
            )
        )
    else:
        draft.comparison = f"Outside hospital CT abdomen and pelvis from {prior_date} (report only; images not available)."
        draft.history_note = f"Transfer from an outside hospital, where CT reportedly showed {with_article(injury.short)} with active extravasation."
        injury.description.append("No contrast extravasation is seen on the current examination.")
        text = rng.choice(
            (
                f"{cap(injury.name)}. The active extravasation reported on the outside hospital CT is not seen on this examination.",
                f"Active extravasation described on the outside study is not demonstrated on the current CT; {injury.name}.",
                f"{cap(injury.name)}. Previously reported active bleeding from {injury.organ} is no longer demonstrated.",
            )
        )
    draft.impression.append(Statement(text))
    add_supporting_items(rng, draft, negate=rng.random() < 0.4)


def embolized_injury(rng, draft, vascular):
    """An injury treated by angioembolization before this exam."""
    draft.features.add("post_embolization")
    draft.follow_up = True
    injury = make_injury(rng, draft, weighted(rng, EMBOLIZED_SITES), vascular)
    coils = f"Embolization coils are present in {injury.embolization_target}."
    if injury.site == "spleen":
        coils += " Wedge-shaped peripheral hypoenhancement in the spleen, consistent with post-embolization infarcts."
    injury.description.insert(0, coils)
    if vascular == VASCULAR_NONE:
        injury.description.append(rng.choice(("No residual or recurrent active extravasation.", "No contrast extravasation at or distal to the embolization site.")))
    prior = draft.exam_time - dt.timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 10))
    draft.comparison = f"CT abdomen and pelvis {draft.style.date(prior)}; angiography and embolization {draft.style.date(prior)}."
    draft.history_note = rng.choice(
        (
            f"Status post embolization of {injury.embolization_target} on {draft.style.date(prior)} for {with_article(injury.short)} with active extravasation. Follow-up.",
            f"Post angioembolization of {injury.embolization_target} for {with_article(injury.short)} with active extravasation; hemoglobin drop from 10.2 to 8.1.",
        )
    )
    draft.injuries.append(injury)
    return injury


def say_post_embolization(rng, injury) -> Statement:
    target = injury.embolization_target
    if rng.random() < 0.25:
        return Statement(f"Status post embolization of {target}. Evolving {injury.short}.")
    text = rng.choice(
        (
            f"Status post embolization of {target} with coils in place. No residual or recurrent active extravasation.",
            f"Expected appearance after embolization of {target}; no residual active extravasation. Evolving {injury.short}.",
            f"Post-embolization changes with coils in {target}, without residual contrast extravasation; {injury.name}.",
        )
    )
    return Statement(text, (Claim(NEGATED, (injury.location,)),))


def scenario_post_embolization_no_bleed(rng, draft):
    injury = embolized_injury(rng, draft, VASCULAR_NONE)
    draft.impression.append(say_post_embolization(rng, injury))
    add_supporting_items(rng, draft)


def scenario_post_embolization_bleed(rng, draft):
    if rng.random() < 0.6:
        injury = embolized_injury(rng, draft, VASCULAR_ACTIVE)
        text = rng.choice(
            (
                f"Persistent {active_phrase(rng, quantified=False)} within {injury.place} despite embolization of {injury.embolization_target}.",
                f"Status post embolization of {injury.embolization_target} with persistent {active_phrase(rng, quantified=False)} from {injury.vessel}; repeat angiography recommended.",
                f"{cap(injury.name)} with continued {active_phrase(rng, quantified=False)} after coil embolization of {injury.embolization_target}.",
            )
        )
        draft.impression.append(Statement(text, (Claim(ACTIVE, (injury.location,)),)))
    else:
        treated = embolized_injury(rng, draft, VASCULAR_NONE)
        new_location = pick_locations(rng, BLEEDING_LOCATION_WEIGHTS, 1, exclude=(treated.location,))[0]
        bleeding = make_injury(rng, draft, pick_site(rng, new_location), VASCULAR_ACTIVE)
        draft.injuries.append(bleeding)
        draft.impression.append(say_active(rng, bleeding, prefix="New"))
        draft.impression.append(say_post_embolization(rng, treated))
    add_supporting_items(rng, draft)


ADDENDUM_RETRACTIONS = (
    ("pseudoaneurysm", "does not change in size or configuration on the delayed images and represents a pseudoaneurysm rather than active extravasation"),
    ("artifact", "represents streak artifact from the patient's arms and not active extravasation"),
    ("artifact", "corresponds to an opacified normal vessel on the delayed phase, not active extravasation"),
    ("artifact", "represents excreted contrast in the ureter on the delayed images, not active extravasation"),
)


def scenario_addendum_to_yes(rng, draft):
    draft.features.add("addendum_changes_conclusion")
    location = weighted(rng, BLEEDING_LOCATION_WEIGHTS)
    from_hedge = rng.random() < 0.3
    injury = make_injury(rng, draft, pick_site(rng, location), VASCULAR_INDETERMINATE if from_hedge else VASCULAR_NONE)
    draft.injuries.append(injury)
    np = active_phrase(rng)
    if from_hedge:
        draft.features.add("hedged")
        draft.impression.append(say_hedged(rng, injury))
        add_supporting_items(rng, draft)
        text = rng.choice(
            (
                f"Additional delayed images were reviewed: the indeterminate focus within {injury.place} enlarges and pools, consistent with {np}.",
                f"On review of the delayed phase, the questionable focus within {injury.place} increases in size and represents {np}.",
            )
        )
    else:
        negate_injury = rng.random() < 0.6
        draft.impression.append(say_injury(rng, injury, negate=negate_injury))
        add_supporting_items(rng, draft, negate=not negate_injury and rng.random() < 0.5)
        text = rng.choice(
            (
                f"On further review of the delayed-phase images, there is {np} within {injury.place}, which increases in size on the delayed images. This was not described in the original report.",
                f"Re-review of the arterial and delayed phases with the attending radiologist demonstrates {np} arising from {injury.vessel}. The impression is amended accordingly.",
                f"Delayed images, not available at the time of the preliminary report, show {np} from {injury.vessel}. Updated impression: {injury.name} with active extravasation.",
            )
        )
    draft.communicate = True
    draft.addendum = Addendum(text, changes_conclusion=True, claims=(Claim(ACTIVE, (location,)),))


def scenario_addendum_to_no(rng, draft):
    draft.features.add("addendum_changes_conclusion")
    injury = make_injury(rng, draft, pick_site(rng, weighted(rng, BLEEDING_LOCATION_WEIGHTS)), VASCULAR_ACTIVE)
    draft.injuries.append(injury)
    draft.impression.append(say_active(rng, injury))
    add_supporting_items(rng, draft)
    # Excreted contrast in the ureter can only be mistaken for bleeding near the ureter.
    retractions = [
        retraction for retraction in ADDENDUM_RETRACTIONS if "ureter" not in retraction[1] or injury.location in ("kidney", "retroperitoneal")
    ]
    reason, explanation = rng.choice(retractions)
    if reason == "pseudoaneurysm":
        draft.features.add("pseudoaneurysm_or_contained")
    closing = rng.choice(("There is no active extravasation.", "No active extravasation is present.", f"The impression should read: {injury.name}, without active extravasation."))
    text = f"On review with the attending radiologist, the focus described within {injury.place} {explanation}. {closing}"
    draft.addendum = Addendum(text, changes_conclusion=True, claims=(Claim(NEGATED, (injury.location,)),))


def unreadable_impression(rng, draft, state):
    """A report whose impression cannot be read; its findings may still show anything."""
    draft.features.add("no_impression")
    filler = rng.choice((scenario_single_bleed, scenario_injury_without_bleed, scenario_negative_exam))
    filler(rng, draft)
    draft.impression_state = state
    draft.communicate = False


def scenario_truncated_report(rng, draft):
    unreadable_impression(rng, draft, TRUNCATED)


def scenario_impression_points_to_findings(rng, draft):
    unreadable_impression(rng, draft, SEE_FINDINGS)


def scenario_empty_impression(rng, draft):
    unreadable_impression(rng, draft, EMPTY)


# Number of reports of each scenario in a 300-report corpus; other sizes scale.
# 123 Yes (41%), 13 Undefined (4.3%), 164 No, as in the study's hand-labeled set.
SCENARIO_QUOTAS: tuple[tuple[Callable[[random.Random, Draft], None], int], ...] = (
    (scenario_single_bleed, 55),
    (scenario_multi_site, 20),
    (scenario_multi_injury_single_bleed, 12),
    (scenario_mixed_sentence_negation, 10),
    (scenario_blush_with_word_bleed, 8),
    (scenario_blush_without_word_bleed, 8),
    (scenario_post_embolization_bleed, 5),
    (scenario_addendum_to_yes, 5),
    (scenario_hedged, 9),
    (scenario_truncated_report, 2),
    (scenario_impression_points_to_findings, 1),
    (scenario_empty_impression, 1),
    (scenario_negative_exam, 40),
    (scenario_injury_without_bleed, 52),
    (scenario_vascular_injury_without_bleed, 12),
    (scenario_blush_pseudoaneurysm_with_word, 5),
    (scenario_blush_pseudoaneurysm_without_word, 5),
    (scenario_non_blood_extravasation, 15),
    (scenario_findings_only, 12),
    (scenario_prior_extravasation_resolved, 10),
    (scenario_post_embolization_no_bleed, 8),
    (scenario_addendum_to_no, 5),
)


def scenario_plan(n_reports: int) -> list[Callable[[random.Random, Draft], None]]:
    """Scale the quotas to `n_reports` by largest remainders (ties to the earlier scenario)."""
    total = sum(quota for _, quota in SCENARIO_QUOTAS)
    exact = [quota * n_reports / total for _, quota in SCENARIO_QUOTAS]
    counts = [int(share) for share in exact]
    by_remainder = sorted(range(len(exact)), key=lambda index: (counts[index] - exact[index], index))
    for index in by_remainder[: n_reports - sum(counts)]:
        counts[index] += 1
    return [scenario for (scenario, _), count in zip(SCENARIO_QUOTAS, counts) for _ in range(count)]


# ------------------------------------------------------------- report parts

MECHANISMS = (
    ("restrained driver in a high-speed motor vehicle collision", "MVC, restrained driver"),
    ("unrestrained passenger in a rollover motor vehicle collision", "rollover MVC, unrestrained passenger"),
    ("motorcycle crash at highway speed", "motorcycle crash"),
    ("pedestrian struck by a car at approximately {speed} mph", "pedestrian struck by auto"),
    ("fall from approximately {height} feet", "fall from {height} ft"),
    ("assault with repeated kicks to the abdomen", "assault"),
    ("bicycle versus car", "bicycle vs auto"),
    ("ATV rollover", "ATV rollover"),
    ("crush injury, pinned under a vehicle", "crush injury"),
)
ELDERLY_MECHANISMS = (
    ("ground-level fall onto the {side} side", "ground-level fall"),
    ("fall down {stairs} stairs", "fall down stairs"),
)
PENETRATING_MECHANISMS = (("gunshot wound to the {region}", "GSW to the {region}"), ("stab wound to the {region}", "stab wound to the {region}"))
PENETRATING_REGIONS = {
    "spleen": "left upper quadrant",
    "liver": "right upper quadrant",
    "kidney": "flank",
    "bowel": "abdomen",
    "abdominal wall": "abdomen",
    "gluteal/thigh": "buttock",
    "retroperitoneal": "back",
}


def clinical_history(rng, draft) -> str:
    first_location = draft.injuries[0].location if draft.injuries else ""
    if first_location in PENETRATING_REGIONS and rng.random() < 0.12:
        long_form, short_form = rng.choice(PENETRATING_MECHANISMS)
    elif draft.age >= 70 and rng.random() < 0.6:
        long_form, short_form = rng.choice(ELDERLY_MECHANISMS)
    else:
        long_form, short_form = rng.choice(MECHANISMS)
    values = {
        "region": PENETRATING_REGIONS.get(first_location, "abdomen"),
        "speed": rng.choice((20, 25, 30, 35, 40)),
        "height": rng.choice((8, 10, 12, 15, 20, 25)),
        "side": rng.choice(("left", "right")),
        "stairs": rng.choice(("several", "10", "12")),
    }
    mechanism, short_mechanism = long_form.format(**values), short_form.format(**values)
    bleeding = any(injury.vascular == VASCULAR_ACTIVE for injury in draft.injuries)
    status = rng.choice(
        ("Hypotensive in the trauma bay.", "Tachycardic to the 120s.", "Transient hypotension responsive to fluids.")
        if bleeding
        else ("Hemodynamically stable.", "Abdominal tenderness.", "Level 1 trauma activation.", "GCS 15, abdominal pain.")
    )
    if hemoperitoneum_amount(draft) >= 2:
        fast = rng.choice(("FAST positive in the left upper quadrant.", "FAST positive in Morison's pouch.", "Equivocal FAST.", ""))
    else:
        fast = rng.choice(("FAST negative.", "", ""))
    request = rng.choice(("Evaluate for intra-abdominal injury.", "Assess for solid organ injury.", "Rule out intra-abdominal bleeding.", ""))
    sex_letter = "M" if draft.sex == "male" else "F"
    if draft.history_note:
        return f"{draft.age}-year-old {draft.sex}, {mechanism}. {draft.history_note}"
    opening = rng.choice(
        (
            f"{draft.age}-year-old {draft.sex}, {mechanism}.",
            f"{draft.age} y/o {sex_letter} s/p {short_mechanism}.",
            f"Trauma: {mechanism}. {draft.age}-year-old {draft.sex}.",
        )
    )
    return " ".join(part for part in (opening, status, fast, request) if part)


CONTRAST_AGENTS = ("Omnipaque 350", "Isovue 370", "iohexol 350", "iopamidol 370", "Visipaque 320")
PHASE_DESCRIPTIONS = (
    "Images were acquired in the arterial and portal venous phases, with 5-minute delayed images through the abdomen and pelvis.",
    "Trauma protocol: arterial phase from the diaphragm to the symphysis, followed by portal venous and 3-minute delayed phases.",
    "Arterial, portal venous and excretory (10-minute) phase images were obtained.",
    "Dual-phase (arterial and portal venous) acquisition, with delayed images through the kidneys and pelvis.",
)


def technique(rng, draft) -> str:
    volume, agent = rng.choice((80, 90, 100, 100, 110, 120)), rng.choice(CONTRAST_AGENTS)
    parts = [
        rng.choice(
            (
                f"Multidetector CT of the abdomen and pelvis was performed after intravenous administration of {volume} mL of {agent}.",
                f"Helical CT images of the abdomen and pelvis were obtained following {volume} mL of IV {agent}.",
                f"Axial images from the lung bases through the pubic symphysis after IV injection of {volume} mL {agent}.",
            )
        ),
        rng.choice(PHASE_DESCRIPTIONS),
        rng.choice(("Coronal and sagittal reformations were reviewed.", "Multiplanar and MIP reconstructions were generated on a separate workstation.", "")),
        "Oral contrast was administered." if draft.oral_contrast else rng.choice(("No oral contrast was given.", "", "")),
    ]
    if draft.cystogram:
        parts.append(
            f"After the delayed phase, {rng.choice((300, 350, 400))} mL of dilute contrast was instilled into the bladder through the Foley catheter by gravity, and the pelvis was rescanned (CT cystogram)."
        )
    parts.extend(draft.technique_notes)
    parts.append(
        rng.choice(
            (
                "One or more dose reduction techniques were used (automated exposure control, adjustment of mA/kV to patient size, iterative reconstruction).",
                f"CTDIvol {rng.randint(8, 22)}.{rng.randint(0, 9)} mGy; DLP {rng.randint(450, 1400)} mGy-cm.",
                "",
            )
        )
    )
    return " ".join(part for part in parts if part)


EXAM_TITLES = (
    "CT ABDOMEN AND PELVIS WITH IV CONTRAST",
    "CTA ABDOMEN AND PELVIS, TRAUMA PROTOCOL",
    "CT CHEST, ABDOMEN AND PELVIS WITH IV CONTRAST (TRAUMA PAN-SCAN)",
    "CT ABDOMEN/PELVIS WITH CONTRAST, MULTIPHASE (ARTERIAL, PORTAL VENOUS, DELAYED)",
    "CT ABD/PELVIS W IV CONTRAST - TRAUMA",
)
TITLE_ACRONYMS = ("CT", "CTA", "IV", "W")


def exam_title(rng, draft, mixed_case: bool) -> str:
    if draft.cystogram:
        title = "CT ABDOMEN AND PELVIS WITH IV CONTRAST AND CT CYSTOGRAM"
    elif draft.follow_up:
        title = "CT ABDOMEN AND PELVIS WITH IV CONTRAST (FOLLOW-UP)"
    else:
        title = rng.choice(EXAM_TITLES)
    if mixed_case:
        title = " ".join(word if word.strip("(),") in TITLE_ACRONYMS else word.lower() for word in title.split(" "))
    if rng.random() < 0.5:
        title += f" ({draft.style.date(draft.exam_time)} {draft.exam_time:%H:%M})"
    return title


FIRST_NAMES = ("Alex", "Priya", "Daniel", "Mei", "Samuel", "Laura", "Omar", "Hannah", "Carlos", "Grace", "Tomas", "Aisha", "Peter", "Yuki", "Nadia", "Jonas")
LAST_NAMES = (
    "Okafor",
    "Lindqvist",
    "Marchetti",
    "Nakamura",
    "Ferreira",
    "Haddad",
    "Kowalski",
    "Brennan",
    "Castillo",
    "Adeyemi",
    "Sorensen",
    "Whitfield",
    "Tanaka",
    "Moreau",
    "Delgado",
    "Iyer",
    "Novak",
    "Hughes",
    "Rahman",
    "Petrov",
)
SERVICES = ("the trauma surgery service", "acute care surgery", "the emergency department", "the trauma team")


def communication_line(rng, style, when: dt.datetime, during_resuscitation=True) -> str:
    clinician, service = f"Dr. {rng.choice(LAST_NAMES)}", rng.choice(SERVICES)
    time, date = f"{when:%H:%M}", style.date(when)
    lines = [
        f"Findings were discussed with {clinician} of {service} by telephone at {time} on {date}.",
        f"Critical result communicated to {clinician} ({service}) by phone at {time} on {date}, with read-back confirmation.",
        f"The above findings were communicated to {clinician}, {service}, at {time} on {date}.",
    ]
    if during_resuscitation:
        lines.append(f"Results were called to {clinician} in the trauma bay at {time}.")
    return rng.choice(lines)


def signature(rng, style, when: dt.datetime, addendum=False) -> str:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    time, date = f"{when:%H:%M}", style.date(when)
    if addendum:
        return f"Addendum electronically signed by {first} {last}, MD on {date} at {time}."
    return rng.choice(
        (
            f"Electronically signed by {first} {last}, MD on {date} at {time}.",
            f"Dictated by: {last}, {first}, MD. Signed {date} {time}.",
            f"Attending radiologist: {first} {last}, MD ({date} {time})",
        )
    )


ADDENDUM_HEADERS = ("ADDENDUM:", "*** ADDENDUM ***", "Addendum ({date}):", "ADDENDUM #1 ({date} {time}):")
ROUTINE_ADDENDA = (
    "Same-day CT chest was reviewed for correlation. No change to the impression.",
    "Sagittal reformations of the lumbar spine were reviewed; no additional fracture. No change to the impression.",
    "Coronal reformations were reviewed. No change to the findings or impression.",
)


def maybe_add_routine_addendum(rng, draft):
    """Addenda that change nothing, so an addendum alone is no cue."""
    if draft.addendum is None and draft.impression_state == COMPLETE and rng.random() < 0.05:
        draft.addendum = Addendum(rng.choice(ROUTINE_ADDENDA), changes_conclusion=False)


def addendum_lines(rng, draft) -> list[str]:
    when = draft.exam_time + dt.timedelta(hours=rng.randint(2, 14), minutes=rng.randint(0, 59))
    header = rng.choice(ADDENDUM_HEADERS).format(date=draft.style.date(when), time=f"{when:%H:%M}")
    lines = [header, draft.addendum.text]
    if draft.addendum.changes_conclusion:
        # Hours later the patient has left the trauma bay.
        lines.append(communication_line(rng, draft.style, when + dt.timedelta(minutes=rng.randint(3, 20)), during_resuscitation=False))
    lines.append(signature(rng, draft.style, when + dt.timedelta(minutes=rng.randint(20, 40)), addendum=True))
    return lines


def hemoperitoneum_sentence(rng, draft) -> str:
    amount = hemoperitoneum_amount(draft)
    wheres: list[str] = []
    for injury in draft.injuries:
        if injury.hemoperitoneum and injury.hemoperitoneum_where not in wheres:
            wheres.append(injury.hemoperitoneum_where)
    where = wheres[0] if len(wheres) == 1 else ", ".join(wheres[:-1]) + " and " + wheres[-1]
    density = rng.choice(("", f" (attenuation approximately {rng.randint(35, 60)} HU)"))
    if amount == 4:
        return f"Large volume hemoperitoneum throughout the abdomen and pelvis, most dense in {wheres[0]}{density}."
    if amount == 1:
        return f"Trace hemoperitoneum in {where}."
    extension = ", extending into the pelvis" if amount == 3 else ""
    return f"{cap(HEMOPERITONEUM_AMOUNTS[amount])} volume hemoperitoneum in {where}{extension}{density}."


def findings_by_section(rng, draft) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {section: [] for section in SECTIONS}
    for injury in draft.injuries:
        found[injury.section].extend(injury.description)
        for section, sentence in injury.associated:
            found[section].append(sentence)
    for section, sentence in draft.extra_findings:
        found[section].append(sentence)
    if hemoperitoneum_amount(draft):
        found["peritoneum"].insert(0, hemoperitoneum_sentence(rng, draft))
    flat_cava = any(injury.vascular == VASCULAR_ACTIVE for injury in draft.injuries) and rng.random() < 0.25
    if draft.sex == "male":
        pelvic_organs = PELVIS_FINDINGS["male"]
    else:
        pelvic_organs = PELVIS_FINDINGS["female_postmenopausal" if draft.age >= 55 else "female"]
    normal = dict(NORMAL_FINDINGS, pelvis=pelvic_organs)
    for section in SECTIONS:
        if not found[section]:
            found[section] = [rng.choice(normal[section])]
    if flat_cava:
        found["vasculature"].append("Flattened IVC, which can be seen with hypovolemia.")
    return found


# ----------------------------------------------------------------- templates


@dataclass(frozen=True)
class Template:
    """One institution's report layout."""

    name: str
    description: str
    weight: int
    field_labels: tuple[str, str, str, str]  # exam, history, technique, comparison
    findings_label: str
    labels_on_own_line: bool
    groups: tuple[tuple[str, tuple[str, ...]], ...]  # header -> sections; no sections = a title line
    impression_header: str
    bullet: str  # "{n}. " numbers the items; "" runs them on as prose
    mixed_case_title: bool
    all_caps: bool = False
    combined: bool = False  # impression and findings share one section


CAPITAL_GROUPS = (
    ("LOWER CHEST:", ("lower_chest",)),
    ("LIVER:", ("liver",)),
    ("GALLBLADDER AND BILE DUCTS:", ("biliary",)),
    ("SPLEEN:", ("spleen",)),
    ("PANCREAS:", ("pancreas",)),
    ("ADRENAL GLANDS:", ("adrenals",)),
    ("KIDNEYS AND URETERS:", ("kidneys",)),
    ("URINARY BLADDER:", ("bladder",)),
    ("BOWEL AND MESENTERY:", ("bowel",)),
    ("PERITONEUM AND RETROPERITONEUM:", ("peritoneum",)),
    ("VASCULATURE:", ("vasculature",)),
    ("LYMPH NODES:", ("lymph_nodes",)),
    ("PELVIS:", ("pelvis",)),
    ("ABDOMINAL WALL AND SOFT TISSUES:", ("body_wall",)),
    ("BONES:", ("bones",)),
)
MIXED_CASE_GROUPS = (
    ("Lung bases:", ("lower_chest",)),
    ("Liver:", ("liver",)),
    ("Gallbladder and bile ducts:", ("biliary",)),
    ("Spleen:", ("spleen",)),
    ("Pancreas:", ("pancreas",)),
    ("Adrenal glands:", ("adrenals",)),
    ("Kidneys and ureters:", ("kidneys",)),
    ("Bladder:", ("bladder",)),
    ("Bowel and mesentery:", ("bowel",)),
    ("Peritoneum and retroperitoneum:", ("peritoneum",)),
    ("Vessels:", ("vasculature",)),
    ("Lymph nodes:", ("lymph_nodes",)),
    ("Pelvis:", ("pelvis",)),
    ("Abdominal wall:", ("body_wall",)),
    ("Bones:", ("bones",)),
)
PARAGRAPH_GROUPS = (
    ("", ("lower_chest",)),
    ("", ("liver", "biliary", "spleen", "pancreas", "adrenals")),
    ("", ("kidneys", "bladder")),
    ("", ("bowel", "peritoneum")),
    ("", ("vasculature", "lymph_nodes", "pelvis")),
    ("", ("body_wall", "bones")),
)
MERGED_GROUPS = (
    ("Lung bases:", ("lower_chest",)),
    ("Hepatobiliary:", ("liver", "biliary")),
    ("Spleen:", ("spleen",)),
    ("Pancreas:", ("pancreas",)),
    ("Adrenals:", ("adrenals",)),
    ("Kidneys and bladder:", ("kidneys", "bladder")),
    ("Bowel and mesentery:", ("bowel",)),
    ("Peritoneum and retroperitoneum:", ("peritoneum",)),
    ("Vessels and lymph nodes:", ("vasculature", "lymph_nodes")),
    ("Pelvis:", ("pelvis",)),
    ("Soft tissues:", ("body_wall",)),
    ("Bones:", ("bones",)),
)
SYSTEM_GROUPS = (
    ("LUNG BASES:", ("lower_chest",)),
    ("SOLID ORGANS", ()),
    ("  Liver:", ("liver",)),
    ("  Spleen:", ("spleen",)),
    ("  Pancreas:", ("pancreas",)),
    ("  Adrenals:", ("adrenals",)),
    ("  Kidneys:", ("kidneys",)),
    ("HOLLOW VISCERA", ()),
    ("  Gallbladder/biliary:", ("biliary",)),
    ("  Bowel/mesentery:", ("bowel",)),
    ("  Bladder:", ("bladder",)),
    ("PERITONEUM/RETROPERITONEUM:", ("peritoneum",)),
    ("VASCULAR:", ("vasculature",)),
    ("LYMPH NODES:", ("lymph_nodes",)),
    ("PELVIS:", ("pelvis",)),
    ("SOFT TISSUES:", ("body_wall",)),
    ("OSSEOUS:", ("bones",)),
)

TEMPLATES = (
    Template(
        "numbered_impression",
        "capitalized organ headers; `IMPRESSION:` alone on a line, numbered items",
        26,
        ("EXAM:", "CLINICAL HISTORY:", "TECHNIQUE:", "COMPARISON:"),
        "FINDINGS:",
        False,
        CAPITAL_GROUPS,
        "IMPRESSION:",
        "{n}. ",
        False,
    ),
    Template(
        "inline_impression",
        "mixed-case headers; `Impression:` followed inline by prose",
        16,
        ("Exam:", "History:", "Technique:", "Comparison:"),
        "Findings:",
        False,
        MIXED_CASE_GROUPS,
        "Impression:",
        "",
        True,
    ),
    Template(
        "conclusion_bullets",
        "PROCEDURE/INDICATION headers, findings as unheaded paragraphs, `CONCLUSION:` with `- ` bullets",
        12,
        ("PROCEDURE:", "INDICATION:", "TECHNIQUE:", "COMPARISON:"),
        "REPORT:",
        False,
        PARAGRAPH_GROUPS,
        "CONCLUSION:",
        "- ",
        False,
    ),
    Template(
        "bare_headers",
        "headers without colons on their own lines (`IMPRESSION` alone), `•` bullets",
        12,
        ("EXAMINATION", "HISTORY", "TECHNIQUE", "COMPARISON"),
        "FINDINGS",
        True,
        MERGED_GROUPS,
        "IMPRESSION",
        "• ",
        False,
    ),
    Template(
        "all_caps",
        "the whole report in capitals; numbered `1)` impression",
        10,
        ("EXAMINATION:", "REASON FOR EXAM:", "TECHNIQUE:", "COMPARISON:"),
        "FINDINGS:",
        False,
        CAPITAL_GROUPS,
        "IMPRESSION:",
        "{n}) ",
        False,
        all_caps=True,
    ),
    Template(
        "findings_impression_combined",
        "one `FINDINGS/IMPRESSION:` section: numbered conclusions, then additional findings",
        10,
        ("EXAMINATION:", "CLINICAL INDICATION:", "TECHNIQUE:", "COMPARISON:"),
        "Additional findings:",
        False,
        MIXED_CASE_GROUPS,
        "FINDINGS/IMPRESSION:",
        "{n}. ",
        False,
        combined=True,
    ),
    Template(
        "structured_trauma",
        "structured trauma template grouped by organ system; `IMPRESSION:` with `* ` bullets",
        14,
        ("Exam:", "Indication:", "Technique:", "Comparison:"),
        "FINDINGS:",
        False,
        SYSTEM_GROUPS,
        "IMPRESSION:",
        "* ",
        True,
    ),
)


def choose_template(rng, draft) -> Template:
    # Where findings and impression share a section, neither a missing impression
    # nor a bleed described only in the findings can be written.
    needs_separate_impression = bool(draft.features & {"findings_only", "no_impression"})
    eligible = [template for template in TEMPLATES if not (template.combined and needs_separate_impression)]
    return rng.choices(eligible, weights=[template.weight for template in eligible])[0]


def truncate(rng, lines: list[str]) -> list[str]:
    """Cut the findings mid-word, as a report saved before dictation finished."""
    candidates = [index for index in range(len(lines) // 3, len(lines)) if len(lines[index].split()) >= 5]
    cut = rng.choice(candidates)
    words = lines[cut].split(" ")
    keep = rng.randint(2, len(words) - 2)
    partial_word = words[keep][: max(1, len(words[keep]) // 2)]
    return lines[:cut] + [" ".join(words[:keep] + [partial_word])]


def impression_items(rng, draft) -> list[str]:
    if draft.impression_state == SEE_FINDINGS:
        return [rng.choice(("See findings above.", "Please see findings.", "As above.", "See findings section."))]
    if draft.impression_state == EMPTY:
        return []
    return [statement.text for statement in draft.impression]


def render(rng, draft, template: Template) -> str:
    sections = findings_by_section(rng, draft)
    findings = []
    for header, keys in template.groups:
        text = " ".join(sentence for key in keys for sentence in sections[key])
        findings.append(" ".join(part for part in (header, text) if part))
    values = (
        exam_title(rng, draft, template.mixed_case_title),
        clinical_history(rng, draft),
        technique(rng, draft),
        draft.comparison or rng.choice(("None.", "None available.", "No prior imaging.", "None; same-day CT chest reported separately.")),
    )
    head = []
    for label, value in zip(template.field_labels, values):
        head.extend([label, value] if template.labels_on_own_line else [f"{label} {value}"])

    if draft.impression_state == TRUNCATED:
        blocks = [head, [template.findings_label] + truncate(rng, findings)]
    else:
        items = impression_items(rng, draft)
        if template.bullet:
            impression = [template.impression_header] + [template.bullet.format(n=number) + item for number, item in enumerate(items, start=1)]
        else:
            impression = [" ".join([template.impression_header] + items)]
        signed_at = draft.exam_time + dt.timedelta(minutes=rng.randint(25, 110))
        tail = []
        if draft.communicate:
            tail.append(communication_line(rng, draft.style, signed_at - dt.timedelta(minutes=rng.randint(3, 20))))
        tail.append(signature(rng, draft.style, signed_at))
        if template.combined:
            blocks = [head, impression + [""] + [template.findings_label] + findings, tail]
        else:
            blocks = [head, [template.findings_label] + findings, impression, tail]
        if draft.addendum is not None:
            blocks.append(addendum_lines(rng, draft))
    text = "\n\n".join("\n".join(block) for block in blocks)
    return text.upper() if template.all_caps else text


# ------------------------------------------------------------- ground truth


def deciding_claims(draft) -> tuple[Claim, ...]:
    """The claims the guideline reads: the addendum's when it changes the conclusion."""
    if draft.addendum is not None and draft.addendum.changes_conclusion:
        return draft.addendum.claims
    return tuple(claim for statement in draft.impression for claim in statement.claims)


def label_of(draft) -> tuple[str, tuple[str, ...]]:
    """Stage 1 label and stage 2 locations, by the labeling guideline's rules."""
    if draft.impression_state != COMPLETE:
        return "Undefined", ()
    claims = deciding_claims(draft)
    bleeding = [location for claim in claims if claim.kind == ACTIVE for location in claim.locations]
    if bleeding:
        return "Yes", tuple(location for location in LOCATIONS if location in bleeding)
    if any(claim.kind == HEDGED for claim in claims):
        return "Undefined", ()
    return "No", ()


def hard_cases_of(draft, label: str, locations: tuple[str, ...]) -> tuple[str, ...]:
    """Categories fixed by a generator choice, plus those that depend on the final label."""
    found = set(draft.features)
    if label == "No" and any(claim.kind == NEGATED for claim in deciding_claims(draft)):
        found.add("negated")
    bled_before = bool(found & {"prior_or_resolved", "post_embolization"})
    if label == "No" and draft.injuries and not bled_before and all(injury.vascular == VASCULAR_NONE for injury in draft.injuries):
        found.add("injury_without_extravasation")
    if label == "Yes" and len(locations) >= 2:
        found.add("multi_site")
    if label == "Yes" and len(locations) == 1 and len(draft.injuries) >= 2:
        found.add("multi_injury_single_bleed")
    return tuple(name for name in HARD_CASES if name in found)


# ----------------------------------------------------------------- generate

GRADE_FORMATS = ("AAST grade {roman}", "grade {roman}", "AAST grade {arabic}", "grade {arabic}")
DATE_FORMATS = ("%m/%d/%Y", "%m/%d/%Y", "%Y-%m-%d")
FIRST_EXAM_DAY = dt.datetime(2019, 1, 1)  # fixed, so no date comes from the clock


def new_draft(rng) -> Draft:
    sex = "male" if rng.random() < 0.65 else "female"
    age = int(rng.triangular(16, 92, 28))
    exam_time = FIRST_EXAM_DAY + dt.timedelta(days=rng.randrange(5 * 365), minutes=rng.randrange(24 * 60))
    return Draft(age=age, sex=sex, style=Style(rng.choice(GRADE_FORMATS), rng.choice(DATE_FORMATS)), exam_time=exam_time)


def generate(n_reports: int = DEFAULT_N_REPORTS, seed: int = DEFAULT_SEED) -> list[Case]:
    """The corpus for a seed; the same seed always gives the same reports."""
    plan = scenario_plan(n_reports)
    random.Random(seed).shuffle(plan)
    cases = []
    for number, scenario in enumerate(plan, start=1):
        # One generator per report, seeded by a string (hashed with SHA-512, not
        # Python's salted hash), so each report depends only on the seed and its number.
        rng = random.Random(f"{seed}:{number}")
        draft = new_draft(rng)
        scenario(rng, draft)
        maybe_add_routine_addendum(rng, draft)
        template = choose_template(rng, draft)
        text = render(rng, draft, template)
        label, locations = label_of(draft)
        cases.append(
            Case(
                report_id=f"DEMO-{number:04d}",
                report_text=text,
                extravasation=label,
                locations=locations,
                template=template.name,
                hard_cases=hard_cases_of(draft, label, locations),
                seed=seed,
            )
        )
    return cases


# -------------------------------------------------------------------- write


def write_csv(path: Path, header: tuple[str, ...], rows) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write(cases: list[Case], out_dir: Path) -> None:
    """Write reports.csv, ground_truth.csv, case_features.csv and the corpus card README.md."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(out_dir / "reports.csv", ("report_id", "report_text"), ((case.report_id, case.report_text) for case in cases))
    write_csv(
        out_dir / "ground_truth.csv",
        ("report_id", "extravasation", "locations"),
        ((case.report_id, case.extravasation, ";".join(case.locations)) for case in cases),
    )
    write_csv(
        out_dir / "case_features.csv",
        ("report_id", "template", "hard_cases"),
        ((case.report_id, case.template, ";".join(case.hard_cases)) for case in cases),
    )
    with (out_dir / "README.md").open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(corpus_card(cases))


def regenerate_command(n_reports: int, seed: int) -> str:
    return f"python -m analysis.corpus --out data/demo --n {n_reports} --seed {seed}"


def corpus_card(cases: list[Case]) -> str:
    """The corpus card: every number in it is counted from the cases."""
    seeds = sorted({case.seed for case in cases})
    if len(seeds) != 1:
        raise ValueError(f"cases come from several seeds: {seeds}")
    total = len(cases)
    labels = Counter(case.extravasation for case in cases)
    locations = Counter(location for case in cases for location in case.locations)
    multi_site = sum(len(case.locations) >= 2 for case in cases)
    hard_cases = Counter(name for case in cases for name in case.hard_cases)
    templates = Counter(case.template for case in cases)
    positives = labels["Yes"]

    lines = [
        "# Demo corpus: synthetic abdominal trauma CT reports",
        "",
        "**These reports are synthetic.** `analysis/corpus.py` wrote them from templates,",
        "by seeded random choices of scenario, injuries, wording and institutional format.",
        "They describe no real patient: every name, age, date and time in them is invented.",
        "",
        "Labels follow the project's labeling guideline (`labeling-guideline.md`, the",
        "reference standard): stage 1 reads the impression, and an addendum that changes",
        "the conclusion decides; stage 2 marks every location with active extravasation.",
        "The generator derives each label from its own structured choices (which scenario,",
        "which organs bleed, which negation or hedge it wrote), never by reading the text back.",
        "",
        "This file is generated with the corpus; do not edit it by hand.",
        "",
        f"- Reports: {total}",
        f"- Seed: {seeds[0]}",
        f"- Regenerate (byte-identical): `{regenerate_command(total, seeds[0])}`",
        "",
        "## Files",
        "",
        "| file | columns | content |",
        "|---|---|---|",
        "| `reports.csv` | report_id, report_text | the whole report, multi-line |",
        "| `ground_truth.csv` | report_id, extravasation, locations | `Yes`/`No`/`Undefined`; locations `;`-separated, only for `Yes` |",
        "| `case_features.csv` | report_id, template, hard_cases | institutional template; hard-case categories, `;`-separated |",
        "| `split.csv` | report_id, split | `dev` or `test`; drawn by `python -m analysis split`, not by this generator |",
        "",
        "Prompts are written, and few-shot examples taken, on the `dev` reports only; "
        "Tables 1A/1B are computed on the `test` reports.",
        "",
        "## Stage 1 labels",
        "",
        "| label | reports | share |",
        "|---|---:|---:|",
    ]
    lines += [f"| {label} | {labels[label]} | {100 * labels[label] / total:.1f}% |" for label in LABELS]
    lines += [
        "",
        f"## Stage 2 locations ({positives} Yes reports, multi-label)",
        "",
        "| location | reports |",
        "|---|---:|",
    ]
    lines += [f"| {location} | {locations[location]} |" for location in LOCATIONS]
    lines += [
        "",
        f"Multi-site reports (two or more locations): {multi_site}",
        "",
        "## Hard cases",
        "",
        "A report can belong to several categories.",
        "",
        "| category | reports | meaning |",
        "|---|---:|---|",
    ]
    lines += [f"| {name} | {hard_cases[name]} | {meaning} |" for name, meaning in HARD_CASES.items()]
    lines += [
        "",
        "## Templates",
        "",
        "| template | reports | layout |",
        "|---|---:|---|",
    ]
    lines += [f"| {template.name} | {templates[template.name]} | {template.description} |" for template in TEMPLATES]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Generate the synthetic demo corpus of abdominal trauma CT reports.")
    parser.add_argument("--out", type=Path, default=DEMO_DIR, help="output directory (default: data/demo)")
    parser.add_argument("--n", type=int, default=DEFAULT_N_REPORTS, help="number of reports")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    args = parser.parse_args(argv)
    cases = generate(args.n, args.seed)
    write(cases, args.out)
    labels = Counter(case.extravasation for case in cases)
    print(f"Wrote {len(cases)} reports to {args.out} ({', '.join(f'{label} {labels[label]}' for label in LABELS)})")


if __name__ == "__main__":
    main()
