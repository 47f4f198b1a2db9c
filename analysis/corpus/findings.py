"""The findings besides the injuries: associated trauma, incidental and normal findings, hemoperitoneum, all gathered by section.

Associated trauma and incidental findings may add an impression item of their
own; it claims nothing about active bleeding.
"""

from analysis.corpus.model import HEMOPERITONEUM_AMOUNTS, SECTIONS, VASCULAR_ACTIVE, Statement
from analysis.corpus.wording import cap

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
