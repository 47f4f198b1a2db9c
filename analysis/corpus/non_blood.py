"""Extravasation that is not bleeding: urine, bile, enteric contrast, air, and contrast through a drain.

Real reports say "extravasation" (or "leak", "tracking", "extraluminal") of
all of these, and none of them is active bleeding: the labeling guideline
labels them No. Each `leak_*` writer puts into the draft the injury, findings
and technique its kind needs, marks the report's hard-case categories, and
returns the impression statement. A statement that only names the leak
claims nothing about active bleeding; one that also says the leak is not
bleeding carries that negation as its claim.
"""

import datetime as dt

from analysis.corpus.injuries import make_injury
from analysis.corpus.model import NEGATED, Claim, Statement
from analysis.corpus.wording import cap, dimensions_cm, length_cm, with_article

NON_BLOOD = "non_blood_extravasation"
URINE = "urine_or_bladder_contrast"
BILE = "bile_leak"
ENTERIC_OR_AIR = "enteric_contrast_or_air"
DRAIN = "drain_contrast"

EXCRETORY_PHASE_NOTES = (
    "Excretory-phase images through the kidneys and bladder were obtained at 10 minutes.",
    "Additional 8-minute delayed (excretory) images were acquired through the abdomen and pelvis.",
    "A 12-minute excretory phase was added through the kidneys, ureters and bladder.",
)
COLLECTING_SYSTEM_PARTS = ("renal pelvis", "lower pole calyx", "upper pole infundibulum", "interpolar calyces")
# Ducts a trauma bile leak comes from: they lie in the laceration, whatever its segment.
LEAKING_DUCTS = ("a segmental duct in the laceration bed", "a peripheral duct at the laceration", "a duct crossing the laceration")
# Where a leak after laparotomy comes from: the repair, the operation, what the drain returns.
BOWEL_REPAIRS = (
    ("duodenal repair", "repair of a duodenal injury", "bilious"),
    ("small bowel anastomosis", "small bowel resection with anastomosis", "enteric"),
    ("colonic repair", "repair of a colonic injury", "feculent"),
)


def leak_urine(rng, draft) -> Statement:
    """Urine from an injured collecting system or ureter: excreted contrast outside it on the delayed images."""
    draft.features |= {NON_BLOOD, URINE}
    draft.technique_notes.append(rng.choice(EXCRETORY_PHASE_NOTES))
    kind = rng.choice(("collecting_system", "urinoma", "ureteropelvic_junction"))
    if kind == "ureteropelvic_junction":
        side = rng.choice(("left", "right"))
        draft.extra_findings.append(
            (
                "kidneys",
                f"The {side} kidney enhances normally without laceration. On the excretory images, contrast extravasates medially at the {side} ureteropelvic junction, and the {side} ureter does not opacify below it.",
            )
        )
        return Statement(
            rng.choice(
                (
                    f"Extravasation of excreted contrast at the {side} ureteropelvic junction without distal ureteral opacification, concerning for UPJ disruption; urology consultation recommended.",
                    f"{cap(side)} ureteropelvic junction injury with urinary contrast extravasation on the excretory phase.",
                    f"Urine leak at the {side} UPJ: delayed-phase contrast extravasation into the {side} perirenal space, with no contrast in the {side} ureter.",
                )
            )
        )
    injury = make_injury(rng, draft, "kidney", variant="collecting_system")
    draft.injuries.append(injury)
    name, part = cap(injury.name), rng.choice(COLLECTING_SYSTEM_PARTS)
    if kind == "urinoma":
        size = dimensions_cm(rng, 3.0, 9.0)
        injury.description.append(
            rng.choice(
                (
                    f"{size} water-attenuation perinephric collection that fills with excreted contrast on the delayed images, consistent with a urinoma.",
                    f"Low-attenuation fluid around {injury.organ} ({size}) opacifies from the {part} on the excretory images: urinoma.",
                )
            )
        )
        return Statement(
            rng.choice(
                (
                    f"{name} with {with_article(size)} perinephric urinoma that fills with extravasated excreted contrast.",
                    f"Perinephric urinoma ({size}) from the {injury.short}, with urinary contrast extravasation from the {part}.",
                    f"{name}. Urine leak from the {part} with a developing urinoma; urology consultation recommended.",
                )
            )
        )
    injury.description.append(
        rng.choice(
            (
                f"On the excretory images, contrast leaks from the {part} into the perinephric space; there is no correlate on the arterial phase.",
                f"Extravasation of opacified urine from the {part} is seen only on the delayed images, tracking along the perinephric hematoma.",
            )
        )
    )
    if rng.random() < 0.3:
        text = f"{name}. Contrast extravasation from the {part} appears only on the excretory images and represents urine, not active bleeding."
        return Statement(text, (Claim(NEGATED, (injury.location,)),))
    return Statement(
        rng.choice(
            (
                f"{name} involving the collecting system, with extravasation of excreted contrast (urine leak) on the delayed images.",
                f"{name} with urinary extravasation from the {part} on the excretory phase, indicating collecting system injury.",
                f"{name}; delayed-phase extravasation of excreted contrast into the perinephric space, consistent with urine leak.",
            )
        )
    )


def leak_bladder(rng, draft) -> Statement:
    """Contrast instilled for a CT cystogram leaving a ruptured bladder."""
    draft.features |= {NON_BLOOD, URINE}
    draft.cystogram = True
    variant = rng.choice(("extraperitoneal_rupture", "intraperitoneal_rupture"))
    injury = make_injury(rng, draft, "bladder", variant=variant)
    draft.injuries.append(injury)
    name, space = injury.name, injury.space
    if variant == "extraperitoneal_rupture":
        specific = (
            f"Extravasation of cystographic contrast into the space of Retzius in a molar-tooth pattern, consistent with {name}.",
            f"{cap(name)}: contrast instilled into the bladder extravasates into the perivesical fat and space of Retzius; no intraperitoneal contrast.",
        )
    else:
        specific = (
            f"{cap(name)}: contrast from the bladder outlines the small bowel loops and fills the paracolic gutters.",
            "Intraperitoneal extravasation of bladder contrast through a defect at the dome (intraperitoneal bladder rupture); urology consultation recommended.",
        )
    return Statement(
        rng.choice(
            specific
            + (
                f"CT cystogram demonstrates {with_article(name)}, with extravasation of instilled contrast {space}.",
                f"{cap(name)} with extravasated contrast-opacified urine {space}.",
            )
        )
    )


def leak_bile(rng, draft) -> Statement:
    """Bile from a liver or gallbladder injury: a biloma, or a leak shown on a cholangiogram."""
    draft.features |= {NON_BLOOD, BILE}
    kind = rng.choice(("biloma", "cholangiogram", "gallbladder"))
    if kind == "gallbladder":
        draft.extra_findings.append(("biliary", "The gallbladder is collapsed, with a focal defect in the fundal wall and pericholecystic fluid."))
        draft.extra_findings.append(("peritoneum", f"Low-attenuation ({rng.randint(4, 12)} HU) free fluid in the hepatorenal space, less dense than blood."))
        return Statement(
            rng.choice(
                (
                    "Traumatic gallbladder perforation: fundal wall defect with pericholecystic bile extravasation.",
                    "Gallbladder wall disruption with extravasated bile around the gallbladder and in the hepatorenal space; surgical consultation recommended.",
                    "Gallbladder injury with a wall defect and low-attenuation pericholecystic fluid, compatible with bile leak.",
                )
            )
        )
    draft.follow_up = True
    injury = make_injury(rng, draft, "liver")
    draft.injuries.append(injury)
    size = length_cm(rng, 3.0, 8.0)
    prior_ct = draft.exam_time - dt.timedelta(days=rng.randint(5, 9))
    if kind == "biloma":
        injury.description.append(f"{cap(with_article(size))} cm low-attenuation ({rng.randint(4, 14)} HU) collection adjacent to the laceration, new since the prior CT, compatible with a biloma.")
        draft.comparison = f"CT abdomen and pelvis {draft.style.date(prior_ct)}."
        draft.history_note = rng.choice(
            (
                "Known liver laceration, managed nonoperatively; rising bilirubin and right upper quadrant pain.",
                "Hospital day 6 after liver injury; fever and abdominal distension.",
            )
        )
        return Statement(
            rng.choice(
                (
                    f"{cap(injury.name)} complicated by {with_article(size)} cm biloma, consistent with bile leak.",
                    f"Interval development of a low-attenuation collection adjacent to {injury.place}, consistent with a biloma from bile extravasation.",
                    f"Bile leak: {size} cm biloma beside {injury.place}; consider hepatobiliary scintigraphy or ERCP.",
                )
            )
        )
    duct = rng.choice(LEAKING_DUCTS)
    ercp = draft.exam_time - dt.timedelta(days=rng.randint(2, 4))
    ercp_date = draft.style.date(ercp)
    draft.comparison = f"CT abdomen and pelvis {draft.style.date(prior_ct)}; ERCP {ercp_date}."
    draft.history_note = f"Liver laceration with bile leak: ERCP on {ercp_date} showed contrast extravasation from {duct}, treated with sphincterotomy and a biliary stent."
    draft.extra_findings.append(("biliary", "A plastic biliary stent extends from the common bile duct into the duodenum. Pneumobilia."))
    injury.description.append(f"The perihepatic collection adjacent to the laceration has decreased, now {size} cm, consistent with a resolving biloma.")
    return Statement(
        rng.choice(
            (
                f"Resolving {size} cm perihepatic biloma after biliary stenting for the bile leak (contrast extravasation from {duct}) seen on ERCP of {ercp_date}.",
                f"{cap(injury.name)}. The bile leak shown on the cholangiogram of {ercp_date} has decompressed; small residual biloma.",
                f"Biliary stent in place; residual {size} cm biloma from the known bile duct leak.",
            )
        )
    )


def leak_enteric(rng, draft) -> Statement:
    """Oral or rectal contrast leaving a perforated bowel."""
    draft.features |= {NON_BLOOD, ENTERIC_OR_AIR}
    draft.oral_contrast = True
    if rng.random() < 0.4:
        # Rectal contrast is given with oral and IV contrast for penetrating wounds of the flank, back and pelvis.
        draft.penetrating = True
        draft.technique_notes.append(
            rng.choice(
                (
                    f"Rectal contrast ({rng.choice((600, 800, 1000))} mL of dilute water-soluble contrast) was given in addition to oral and IV contrast (triple-contrast technique).",
                    "Triple-contrast technique for penetrating injury: oral, rectal and intravenous contrast.",
                )
            )
        )
        injury = make_injury(rng, draft, "bowel_wall", variant="rectal_perforation")
        draft.injuries.append(injury)
        return Statement(
            rng.choice(
                (
                    f"{cap(injury.name)}, with extravasation of rectal contrast {injury.space}.",
                    f"Rectal contrast extravasates from {injury.organ} {injury.space}, indicating full-thickness injury along the wound tract.",
                    f"Extraluminal rectal contrast and gas at {injury.organ}: {injury.name}.",
                )
            )
        )
    injury = make_injury(rng, draft, "bowel_wall", variant="perforation")
    draft.injuries.append(injury)
    retroperitoneal = "duodenum" in injury.organ
    where = "into the right anterior pararenal space" if retroperitoneal else "into the peritoneal cavity"
    draft.extra_findings.append(
        ("peritoneum", "Retroperitoneal gas and fluid in the right anterior pararenal space." if retroperitoneal else "Small volume pneumoperitoneum and free fluid in the pelvis.")
    )
    if rng.random() < 0.25:
        text = f"{cap(injury.name)} with extravasated oral contrast; no active extravasation of intravenous contrast."
        return Statement(text, (Claim(NEGATED, (injury.location,)),))
    return Statement(
        rng.choice(
            (
                f"{cap(injury.name)}: oral contrast extravasates {where}, with extraluminal air.",
                f"Leak of enteric contrast from {injury.organ}, diagnostic of {injury.name}; surgical consultation recommended.",
                f"Extraluminal oral contrast and gas adjacent to {injury.organ}, consistent with bowel perforation.",
            )
        )
    )


def leak_air(rng, draft) -> Statement:
    """Air outside the bowel or lungs: from a perforation, dissecting from the chest, or along a wound tract."""
    draft.features |= {NON_BLOOD, ENTERIC_OR_AIR}
    kind = rng.choice(("pneumoperitoneum", "duodenal", "chest_wall", "pneumomediastinum", "wound_tract"))
    if kind == "pneumoperitoneum":
        injury = make_injury(rng, draft, "bowel_wall")
        draft.injuries.append(injury)
        draft.extra_findings.append(
            (
                "peritoneum",
                rng.choice(
                    (
                        "Small volume pneumoperitoneum, with extraluminal air anterior to the liver and along the falciform ligament.",
                        f"Scattered locules of extraluminal air in the mesentery next to {injury.organ}.",
                    )
                ),
            )
        )
        return Statement(
            rng.choice(
                (
                    f"{cap(injury.name)} with pneumoperitoneum, concerning for perforation.",
                    f"Extraluminal air near {injury.organ} in the setting of {with_article(injury.name)}, suspicious for hollow viscus injury.",
                    f"Free intraperitoneal air extravasated from {injury.organ} ({injury.name}); surgical consultation recommended.",
                )
            )
        )
    if kind == "duodenal":
        draft.extra_findings.append(
            ("bowel", "Wall thickening of the second and third portions of the duodenum with bubbles of extraluminal air tracking in the right anterior pararenal space.")
        )
        return Statement(
            rng.choice(
                (
                    "Retroperitoneal air tracking along the duodenum, concerning for duodenal perforation.",
                    "Extravasation of air into the right anterior pararenal space from the duodenum, consistent with duodenal injury; no oral contrast was given to confirm a leak.",
                    "Extraluminal retroperitoneal gas around the duodenal sweep: duodenal perforation until proven otherwise.",
                )
            )
        )
    if kind == "chest_wall":
        injury = make_injury(rng, draft, "chest_wall")
        draft.injuries.append(injury)
        injury.description.append(f"Subcutaneous emphysema extends from {injury.organ} inferiorly along the flank and the abdominal wall, with a small ipsilateral pneumothorax.")
        return Statement(
            rng.choice(
                (
                    f"{cap(injury.name)}, with subcutaneous air tracking from the chest into the abdominal wall; no pneumoperitoneum.",
                    "Soft-tissue emphysema dissecting from the chest wall along the flank, from the pneumothorax; no intraperitoneal air.",
                )
            )
        )
    if kind == "pneumomediastinum":
        draft.extra_findings.append(("lower_chest", "Pneumomediastinum at the lung bases extends through the esophageal hiatus along the aorta and crura into the retroperitoneum."))
        return Statement(
            rng.choice(
                (
                    "Pneumomediastinum with air tracking into the retroperitoneum along the aorta; no bowel injury, so the air likely dissects from the chest.",
                    "Extraluminal air in the upper retroperitoneum, continuous with the pneumomediastinum; no pneumoperitoneum or bowel wall abnormality.",
                )
            )
        )
    draft.penetrating = True
    side, region = rng.choice(("left", "right")), rng.choice(("flank", "lower quadrant", "upper quadrant"))
    draft.extra_findings.append(
        ("body_wall", f"Air and stranding track along the wound tract in the {side} {region} subcutaneous fat and muscles and end at the transversalis fascia.")
    )
    return Statement(
        rng.choice(
            (
                f"Penetrating wound of the {side} {region} with air tracking along the tract through the abdominal wall musculature; no peritoneal violation or pneumoperitoneum.",
                f"Soft-tissue air along the {side} {region} wound tract, confined to the abdominal wall.",
            )
        )
    )


def leak_through_drain(rng, draft) -> Statement:
    """Contrast injected through a drain, or reaching it, outside the lumen it belongs in."""
    draft.features |= {NON_BLOOD, DRAIN}
    draft.follow_up = True
    day, volume = rng.randint(4, 12), rng.choice((10, 15, 20, 30))
    kind = rng.choice(("bile", "urine", "enteric"))
    if kind == "bile":
        draft.features.add(BILE)
        injury = make_injury(rng, draft, "liver")
        draft.injuries.append(injury)
        duct = rng.choice(LEAKING_DUCTS)
        draft.history_note = f"Hospital day {day} after liver laceration; bilious output from the perihepatic drain."
        draft.technique_notes.append(f"After the portal venous images, {volume} mL of dilute contrast was injected through the perihepatic drain and the upper abdomen was rescanned.")
        injury.description.append(f"Contrast injected through the perihepatic drain opacifies a residual collection and {duct}, with extravasation from the duct into the collection.")
        return Statement(
            rng.choice(
                (
                    "Drain injection: contrast fills the perihepatic collection and communicates with a bile duct, consistent with persistent bile leak; the drain is well positioned.",
                    f"Persistent bile leak: injected contrast extravasates between {duct} and the drained collection.",
                )
            )
        )
    if kind == "urine":
        draft.features.add(URINE)
        injury = make_injury(rng, draft, "kidney", variant="collecting_system")
        draft.injuries.append(injury)
        draft.history_note = f"Hospital day {day} after renal injury with urinoma, drained percutaneously; rising drain output."
        draft.technique_notes.append(rng.choice(EXCRETORY_PHASE_NOTES))
        injury.description.append("Excreted contrast extravasates from the collecting system into the residual urinoma on the delayed images and enters the perinephric drain.")
        return Statement(
            rng.choice(
                (
                    f"{cap(injury.name)} with persistent urine leak: excreted contrast extravasates into the drained urinoma and appears in the drain.",
                    "Excreted contrast within the perinephric drain on the delayed images, consistent with an ongoing collecting system leak; the residual urinoma is smaller.",
                )
            )
        )
    draft.features.add(ENTERIC_OR_AIR)
    draft.oral_contrast = True
    repair, operation, output = rng.choice(BOWEL_REPAIRS)
    draft.history_note = f"Hospital day {day} after laparotomy and {operation}; new {output} drain output."
    draft.extra_findings.append(("bowel", f"Oral contrast extravasates at the {repair} and tracks along the adjacent surgical drain, with contrast in the drain tubing."))
    return Statement(
        rng.choice(
            (
                f"Extravasation of oral contrast from the {repair}, collected by the surgical drain: anastomotic leak.",
                f"Leak at the {repair}: enteric contrast extends along the drain tract into the drain.",
            )
        )
    )


# The kinds that may stand beside a genuine bleed elsewhere in one report.
LEAKS_BESIDE_BLEEDING = (leak_urine, leak_bladder, leak_bile, leak_enteric, leak_air)
