"""The injuries: one builder per anatomical site, the tables that choose sites, and what the images show at an injury's vessels.

Each builder describes one injury at one anatomical site. It is told what
the images show (`vascular`) and whether a bleed leaves the organ
(`beyond`), because the AAST grade depends on both. `variant` asks the few
builders that have one for a special form (a ruptured bladder, a perforation).
`make_injury` then adds the findings sentences for the injury's vessels
(`describe_vascular`).
"""

from collections.abc import Callable

from analysis.corpus.model import (
    BLUSH_WITH_WORD,
    BLUSH_WITHOUT_WORD,
    PLAIN,
    POOLING,
    VASCULAR_ACTIVE,
    VASCULAR_AV_FISTULA,
    VASCULAR_CONTAINED,
    VASCULAR_INDETERMINATE,
    VASCULAR_INJURIES,
    VASCULAR_NONE,
    VASCULAR_PSEUDOANEURYSM,
    VENOUS,
    Injury,
)
from analysis.corpus.wording import (
    active_phrase,
    cap,
    dimensions_cm,
    focus_size,
    length_cm,
    other_side,
    verb_be,
    weighted,
    with_article,
)

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
    ("jejunal mesentery", "a jejunal branch of the superior mesenteric artery", "jejunal", "a jejunal branch of the superior mesenteric vein"),
    ("ileal mesentery", "an ileal branch of the SMA", "ileal", "an ileal branch of the SMV"),
    ("ileocolic mesentery", "the ileocolic artery", "terminal ileal", "the ileocolic vein"),
    ("transverse mesocolon", "a middle colic artery branch", "transverse colon", "a middle colic vein branch"),
    ("sigmoid mesentery", "a sigmoid branch of the inferior mesenteric artery", "sigmoid", "a sigmoid branch of the inferior mesenteric vein"),
    ("root of the small bowel mesentery", "a distal SMA branch", "small bowel", "a distal SMV branch"),
)


def build_mesentery(rng, style, vascular, beyond, variant=""):
    region, vessel, bowel, vein = rng.choice(MESENTERIES)
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
        vein=vein,
    )


BOWEL_SEGMENTS = (
    ("third portion of the duodenum", "a pancreaticoduodenal arcade branch"),
    ("proximal jejunum", "a jejunal arcade vessel"),
    ("distal ileum", "a vasa recta branch"),
    ("cecum", "an ileocolic branch"),
    ("transverse colon", "a middle colic branch"),
    ("sigmoid colon", "a sigmoid artery branch"),
)
# Where rectal contrast, given for penetrating wounds of the flank, back and pelvis, shows a perforation.
DISTAL_BOWEL_SEGMENTS = (
    ("rectum", "a superior rectal artery branch", "perirectal fat"),
    ("sigmoid colon", "a sigmoid artery branch", "sigmoid mesocolon"),
    ("descending colon", "a left colic artery branch", "left paracolic gutter"),
)


def build_bowel_wall(rng, style, vascular, beyond, variant=""):
    """`variant` "perforation" makes a full-thickness injury leaking oral contrast; "rectal_perforation"
    one of the distal colon or rectum leaking rectal contrast."""
    if variant == "rectal_perforation":
        return build_distal_bowel_perforation(rng)
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


def build_distal_bowel_perforation(rng):
    segment, vessel, fat = rng.choice(DISTAL_BOWEL_SEGMENTS)
    description = [
        rng.choice(
            (
                f"Rectally administered contrast extends through a wall defect of the {segment} into the {fat}, along the wound tract.",
                f"Focal discontinuity of the {segment} wall at the end of the wound tract, with extraluminal rectal contrast and gas in the {fat}.",
                f"Extraluminal rectal contrast pools in the {fat} adjacent to a thickened, disrupted segment of the {segment}.",
            )
        ),
        f"Stranding and locules of gas in the {fat}.",
    ]
    return Injury(
        site="bowel_wall",
        location="bowel",
        section="bowel",
        name=rng.choice((f"full-thickness penetrating injury of the {segment}", f"perforation of the {segment} from the penetrating wound")),
        short=f"{segment} injury",
        description=description,
        place=f"the wall of the {segment}",
        vessel=vessel,
        organ=f"the {segment}",
        space=f"into the {fat}",
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
        vein=f"a {side} L{level} lumbar vein",
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
        vein=f"the {side} ascending lumbar vein",
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
        vein=f"the {side} pelvic venous plexus",
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
# Venous bleeding comes mostly from the pelvic venous plexus behind pelvic fractures, then from hepatic and mesenteric veins.
VENOUS_SITES = (("pelvic_fracture", 6), ("liver", 3), ("mesentery", 2), ("retroperitoneal_hematoma", 2), ("psoas", 1), ("kidney", 1), ("spleen", 1))


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


# -------------------------------------- what the images show at the vessels

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
    if vascular == VASCULAR_ACTIVE and phrasing == VENOUS:
        venous_attenuation = rng.choice(("", f" (approximately {rng.randint(110, 160)} HU, less dense than the aorta)"))
        return [
            rng.choice(
                (
                    f"No extravasation on the arterial phase. On the portal venous phase, {with_article(shape)} collection of contrast appears within {place}{venous_attenuation} and {growth} on the delayed images, arising from {injury.vein}.",
                    f"Contrast extravasation within {place} is first seen on the portal venous phase, without an arterial-phase correlate, and {growth} on the delayed images, consistent with active venous bleeding from {injury.vein}.",
                    f"Slow extravasation of contrast {space} from the region of {injury.vein}, absent on the arterial phase and accumulating on the delayed images{venous_attenuation}.",
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
