"""The scenarios: what each report is meant to test, and how many reports of each a corpus holds.

A scenario fixes what a report is meant to test. It fills the draft with
injuries and impression statements; the label follows from the claims
(`truth`). Every scenario ends with `add_supporting_items`, and
`maybe_add_routine_addendum` may follow any of them.

Two plans share them out. The core (`SCENARIO_QUOTAS`) has the size and label
mix of the study's hand-labeled set. The extension (`EXTENSION_QUOTAS`) adds
kinds real reports have and the core lacks: extravasation that is not blood
(`non_blood`), venous bleeding, and addenda that leave the question open.
"""

import datetime as dt
import random
from collections.abc import Callable

from analysis.corpus.findings import add_associated_trauma, add_incidental_findings, hemoperitoneum_amount
from analysis.corpus.injuries import (
    BLEEDING_LOCATION_WEIGHTS,
    EMBOLIZED_SITES,
    INJURY_LOCATION_WEIGHTS,
    PSEUDOANEURYSM_SITES,
    SOLID_ORGAN_SITES,
    VENOUS_SITES,
    make_injury,
    pick_locations,
    pick_site,
)
from analysis.corpus.model import (
    ACTIVE,
    BLUSH_WITH_WORD,
    BLUSH_WITHOUT_WORD,
    COMPLETE,
    EMPTY,
    HEDGED,
    HEMOPERITONEUM_AMOUNTS,
    NEGATED,
    PLAIN,
    POOLING,
    SEE_FINDINGS,
    TRUNCATED,
    VASCULAR_ACTIVE,
    VASCULAR_AV_FISTULA,
    VASCULAR_CONTAINED,
    VASCULAR_INDETERMINATE,
    VASCULAR_NONE,
    VASCULAR_PSEUDOANEURYSM,
    VENOUS,
    Addendum,
    Claim,
    Draft,
    Statement,
)
from analysis.corpus.non_blood import (
    LEAKS_BESIDE_BLEEDING,
    leak_air,
    leak_bile,
    leak_bladder,
    leak_enteric,
    leak_through_drain,
    leak_urine,
)
from analysis.corpus.statements import (
    say_active,
    say_global_negation,
    say_hedged,
    say_injury,
    say_mixed,
    say_multi_active,
    say_post_embolization,
    say_vascular_injury,
)
from analysis.corpus.wording import active_phrase, cap, focus_size, length_cm, weighted, with_article


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


def non_blood_only(rng, draft, leak):
    """A report whose only extravasation is not blood."""
    draft.impression.append(leak(rng, draft))
    add_supporting_items(rng, draft, negate=rng.random() < 0.5)


def scenario_urine_leak(rng, draft):
    non_blood_only(rng, draft, leak_urine)


def scenario_bladder_contrast(rng, draft):
    non_blood_only(rng, draft, leak_bladder)


def scenario_bile_leak(rng, draft):
    non_blood_only(rng, draft, leak_bile)


def scenario_enteric_contrast(rng, draft):
    non_blood_only(rng, draft, leak_enteric)


def scenario_extraluminal_air(rng, draft):
    non_blood_only(rng, draft, leak_air)


def scenario_drain_contrast(rng, draft):
    non_blood_only(rng, draft, leak_through_drain)


def scenario_non_blood_with_bleed(rng, draft):
    """A non-blood leak and, at another location, genuine active bleeding: Yes, at the bleeding location only."""
    draft.features.add("non_blood_with_bleeding")
    leak = rng.choice(LEAKS_BESIDE_BLEEDING)(rng, draft)
    leaking_locations = tuple(injury.location for injury in draft.injuries)
    location = pick_locations(rng, BLEEDING_LOCATION_WEIGHTS, 1, exclude=leaking_locations)[0]
    bleeding = make_injury(rng, draft, pick_site(rng, location), VASCULAR_ACTIVE)
    draft.injuries.append(bleeding)
    statements = [say_active(rng, bleeding), leak]
    if rng.random() < 0.3:
        statements.reverse()
    draft.impression.extend(statements)
    add_supporting_items(rng, draft)


def venous_bleed(rng, draft):
    """An injury bleeding from a vein: on the portal venous phase, with no arterial-phase source."""
    draft.features.add("venous_bleeding")
    return make_injury(rng, draft, weighted(rng, VENOUS_SITES), VASCULAR_ACTIVE, VENOUS)


def scenario_venous_bleed(rng, draft):
    injury = venous_bleed(rng, draft)
    draft.injuries.append(injury)
    draft.impression.append(say_active(rng, injury))
    if rng.random() < 0.3:
        other_location = pick_locations(rng, INJURY_LOCATION_WEIGHTS, 1, exclude=(injury.location,))[0]
        other = make_injury(rng, draft, pick_site(rng, other_location))
        draft.injuries.append(other)
        draft.impression.append(say_injury(rng, other, negate=rng.random() < 0.5))
    add_supporting_items(rng, draft)


def scenario_venous_and_arterial_bleed(rng, draft):
    """Venous bleeding at one location and arterial bleeding at another: both are active extravasation."""
    venous = venous_bleed(rng, draft)
    arterial_location = pick_locations(rng, BLEEDING_LOCATION_WEIGHTS, 1, exclude=(venous.location,))[0]
    arterial = make_injury(rng, draft, pick_site(rng, arterial_location), VASCULAR_ACTIVE)
    draft.injuries.extend([arterial, venous])
    if rng.random() < 0.4:
        text = rng.choice(
            (
                f"Active arterial extravasation from {arterial.vessel} ({arterial.short}) and active venous extravasation from {venous.vein} ({venous.short}).",
                f"Two sites of active bleeding: arterial, within {arterial.place}, and venous, within {venous.place}.",
            )
        )
        draft.impression.append(Statement(text, (Claim(ACTIVE, (arterial.location, venous.location)),)))
        draft.impression.extend(say_injury(rng, injury) for injury in (arterial, venous))
    else:
        draft.impression.extend(say_active(rng, injury) for injury in (arterial, venous))
    add_supporting_items(rng, draft)


def hedged_addendum_text(rng, injury, after_bleed: bool) -> str:
    """An addendum that leaves active extravasation open: it neither asserts nor excludes it."""
    place, vessel = injury.place, injury.vessel
    if after_bleed:
        return rng.choice(
            (
                f"On review with the attending radiologist, the focus within {place} reported above as active bleeding changes little on the delayed images and may instead represent a pseudoaneurysm. Active extravasation cannot be excluded; CTA is recommended to clarify.",
                f"Correction: the hyperdensity within {place} is suspicious for, but not diagnostic of, active extravasation; motion on the delayed phase limits assessment. The impression should read: {injury.name} with possible active extravasation. Recommend CTA to exclude active bleeding.",
                f"The focus of active bleeding reported from {vessel} is equivocal on re-review, because of streak artifact from the arms on the delayed images. Active bleeding is neither confirmed nor excluded; recommend repeat CTA to exclude active extravasation.",
            )
        )
    return rng.choice(
        (
            f"On review of the delayed images, {with_article(focus_size(rng))} hyperdense focus within {place} is suspicious for, but not diagnostic of, active extravasation. Recommend CTA of the abdomen and pelvis to exclude active bleeding.",
            f"Re-review with the attending radiologist: a subtle blush within {place} on the arterial phase, not described in the original report, may represent active extravasation versus a small pseudoaneurysm. Active extravasation cannot be excluded.",
            f"Further review of the arterial phase shows a punctate hyperattenuating focus adjacent to {vessel}. A small amount of active extravasation cannot be excluded; recommend repeat CTA to exclude active hemorrhage.",
            f"Additional images reviewed: a tiny focus of contrast within {place} shows questionable growth on the delayed phase. It is indeterminate and could reflect early active extravasation; short-interval CTA is recommended to exclude ongoing bleeding.",
        )
    )


def scenario_hedged_addendum(rng, draft):
    """An addendum reopens the impression's answer, Yes or No, as equivocal: Undefined."""
    draft.features |= {"hedged", "hedged_addendum"}
    after_bleed = rng.random() < 0.35
    injury = make_injury(rng, draft, pick_site(rng, weighted(rng, BLEEDING_LOCATION_WEIGHTS)), VASCULAR_ACTIVE if after_bleed else VASCULAR_NONE)
    draft.injuries.append(injury)
    if after_bleed:
        draft.impression.append(say_active(rng, injury))
        add_supporting_items(rng, draft)
    else:
        negate_injury = rng.random() < 0.5
        draft.impression.append(say_injury(rng, injury, negate=negate_injury))
        add_supporting_items(rng, draft, negate=not negate_injury and rng.random() < 0.5)
    draft.addendum = Addendum(hedged_addendum_text(rng, injury, after_bleed), changes_conclusion=True, claims=(Claim(HEDGED),))


Scenario = Callable[[random.Random, Draft], None]

# Number of reports of each scenario in a 300-report corpus; other sizes scale.
# 123 Yes (41%), 13 Undefined (4.3%), 164 No, as in the study's hand-labeled set.
SCENARIO_QUOTAS: tuple[tuple[Scenario, int], ...] = (
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
# Number of reports of each scenario in a 90-report extension; other sizes scale.
# 49 No (non-blood only), 29 Yes (venous, or non-blood beside a bleed), 12 Undefined (hedged addenda).
EXTENSION_QUOTAS: tuple[tuple[Scenario, int], ...] = (
    (scenario_urine_leak, 7),
    (scenario_bladder_contrast, 7),
    (scenario_bile_leak, 11),
    (scenario_enteric_contrast, 10),
    (scenario_extraluminal_air, 8),
    (scenario_drain_contrast, 6),
    (scenario_non_blood_with_bleed, 10),
    (scenario_venous_bleed, 14),
    (scenario_venous_and_arterial_bleed, 5),
    (scenario_hedged_addendum, 12),
)


def scenario_plan(n_reports: int, quotas: tuple[tuple[Scenario, int], ...] = SCENARIO_QUOTAS) -> list[Scenario]:
    """Scale the quotas to `n_reports` by largest remainders (ties to the earlier scenario)."""
    total = sum(quota for _, quota in quotas)
    exact = [quota * n_reports / total for _, quota in quotas]
    counts = [int(share) for share in exact]
    by_remainder = sorted(range(len(exact)), key=lambda index: (counts[index] - exact[index], index))
    for index in by_remainder[: n_reports - sum(counts)]:
        counts[index] += 1
    return [scenario for (scenario, _), count in zip(quotas, counts) for _ in range(count)]


ROUTINE_ADDENDA = (
    "Same-day CT chest was reviewed for correlation. No change to the impression.",
    "Sagittal reformations of the lumbar spine were reviewed; no additional fracture. No change to the impression.",
    "Coronal reformations were reviewed. No change to the findings or impression.",
)


def maybe_add_routine_addendum(rng, draft):
    """Addenda that change nothing, so an addendum alone is no cue."""
    if draft.addendum is None and draft.impression_state == COMPLETE and rng.random() < 0.05:
        draft.addendum = Addendum(rng.choice(ROUTINE_ADDENDA), changes_conclusion=False)
