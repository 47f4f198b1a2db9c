"""Impression statements: each `say_*` writes one impression item together with the `Claim`s it makes.

Text and claims are written in one place, so the label `truth` derives from
the claims always agrees with what the sentence says. A statement that asserts
nothing about active bleeding on this exam (an injury named without comment,
a pseudoaneurysm, an evolving injury after embolization) carries no claim.
"""

from analysis.corpus.model import (
    ACTIVE,
    BLUSH_WITH_WORD,
    BLUSH_WITHOUT_WORD,
    HEDGED,
    NEGATED,
    POOLING,
    VASCULAR_AV_FISTULA,
    VASCULAR_CONTAINED,
    VENOUS,
    Claim,
    Statement,
)
from analysis.corpus.wording import ACTIVE_COUNTABLE, active_phrase, cap, focus_size, verb_be, with_article

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
# Venous bleeding is controlled by packing or a pelvic binder more often than by embolization.
VENOUS_MANAGEMENT = (
    "",
    "",
    " No arterial source for embolization is identified.",
    " Venous bleeding of this kind is usually controlled by packing rather than embolization.",
    " Clinical correlation with hemodynamic status is advised.",
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
    elif injury.phrasing == VENOUS:
        # Active venous bleeding is active extravasation; "no arterial extravasation" beside it negates only its source.
        vein = injury.vein
        text = rng.choice(
            (
                f"{name} with active venous extravasation from {vein}.",
                f"{name} with active extravasation on the portal venous and delayed phases only, compatible with venous bleeding from {vein}.",
                f"{name}. Active venous hemorrhage {injury.space}, without arterial extravasation.",
                f"Active venous bleeding from {vein} {injury.space}, without arterial-phase extravasation; {injury.name}.",
                f"{name}; contrast extravasation that appears on the venous phase and enlarges on delayed images, consistent with active venous hemorrhage.",
                f"{name} with venous-phase contrast extravasation {injury.space}, in keeping with active venous rather than arterial bleeding.",
            )
        ) + rng.choice(VENOUS_MANAGEMENT)
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
