"""The parts of a report around its findings and impression: exam title, clinical history, technique, communication, signatures, addendum."""

import datetime as dt

from analysis.corpus.findings import hemoperitoneum_amount
from analysis.corpus.model import VASCULAR_ACTIVE

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
    if draft.penetrating or (first_location in PENETRATING_REGIONS and rng.random() < 0.12):
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


def addendum_lines(rng, draft) -> list[str]:
    when = draft.exam_time + dt.timedelta(hours=rng.randint(2, 14), minutes=rng.randint(0, 59))
    header = rng.choice(ADDENDUM_HEADERS).format(date=draft.style.date(when), time=f"{when:%H:%M}")
    lines = [header, draft.addendum.text]
    if draft.addendum.changes_conclusion:
        # Hours later the patient has left the trauma bay.
        lines.append(communication_line(rng, draft.style, when + dt.timedelta(minutes=rng.randint(3, 20)), during_resuscitation=False))
    lines.append(signature(rng, draft.style, when + dt.timedelta(minutes=rng.randint(20, 40)), addendum=True))
    return lines
