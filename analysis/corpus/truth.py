"""The ground truth: how a report's labels follow from its draft by the labeling guideline's rules.

No label comes from reading the report text. Every impression statement was
written together with `Claim`s stating what it asserts about active bleeding
on this exam: ACTIVE (at the locations it names), NEGATED, or HEDGED. A
statement that says nothing about active bleeding on this exam carries no
claim: an injury named without comment, a pseudoaneurysm, extravasated urine,
bile, enteric contrast or air, bleeding seen only on a prior study. Active
venous bleeding is active bleeding (ACTIVE). An addendum that changes the
conclusion carries claims of its own.

Stage 1 (`label_of`), in order:

1. A report without a readable impression (truncated, empty, or only "see
   findings above") is Undefined: the guideline reads the impression.
2. The deciding claims are the addendum's if an addendum changes the
   conclusion (reverses it, or reopens it as equivocal), otherwise the
   impression's (`deciding_claims`). Findings count only through what the
   impression says about them.
3. If any deciding claim asserts active bleeding, the report is Yes. Stage 2:
   its locations are every location such a claim names, in the guideline's
   order (`LOCATIONS`); a negation or hedge elsewhere does not remove them.
4. Otherwise, a hedged claim makes the report Undefined.
5. Otherwise the report is No.

`HARD_CASES` defines the categories case_features.csv marks and the corpus
card prints. Some are fixed by the generator's choices (`Draft.features`);
`hard_cases_of` adds those that depend on the final label.
"""

from analysis.corpus.model import ACTIVE, COMPLETE, HEDGED, NEGATED, VASCULAR_NONE, Claim
from analysis.data.vocabulary import LOCATIONS, NEGATIVE, POSITIVE, UNDEFINED

# Category name -> what it means; the corpus card prints these definitions.
HARD_CASES = {
    "negated": "the impression (or a deciding addendum) explicitly negates active extravasation (label No)",
    "injury_without_extravasation": "organ injury, hematoma or hemoperitoneum with no vascular finding at any injury, now or before (No)",
    "pseudoaneurysm_or_contained": "pseudoaneurysm, contained vascular injury or arteriovenous fistula without active bleeding (No)",
    "non_blood_extravasation": "extravasation of something other than blood: oral or rectal contrast, air, urine or excreted contrast, bile, contrast through a drain, or IV contrast at the injection site (No, unless active bleeding is reported elsewhere too)",
    "urine_or_bladder_contrast": "urine or excreted contrast leaving the collecting system or ureter (urinoma), or cystogram contrast leaving a ruptured bladder (No, unless beside active bleeding: non_blood_with_bleeding)",
    "bile_leak": "bile leak: a biloma, a leak shown on a cholangiogram, a perforated gallbladder (No, unless beside active bleeding: non_blood_with_bleeding)",
    "enteric_contrast_or_air": "oral or rectal contrast leaving a perforated bowel, or extraluminal air: pneumoperitoneum, retroperitoneal air, air tracking from the chest or along a wound (No, unless beside active bleeding: non_blood_with_bleeding)",
    "drain_contrast": "contrast injected through a drain, or reaching one, outside the lumen it belongs in (No, unless beside active bleeding: non_blood_with_bleeding)",
    "non_blood_with_bleeding": "a non-blood extravasation beside active bleeding at another location (Yes, the bleeding location only)",
    "findings_only": "active extravasation described in the findings but not in the impression (No: the label is read from the impression)",
    "blush_with_word": "a contrast blush described with the word extravasation (Yes when it grows, No when it is a pseudoaneurysm)",
    "blush_without_word": "a contrast blush described without the word extravasation (Yes when it grows, No when it is a pseudoaneurysm)",
    "venous_bleeding": "active venous extravasation, seen on the portal venous phase without an arterial source, alone or beside arterial bleeding (Yes)",
    "hedged": "equivocal wording in the impression or addendum (Undefined unless an addendum settles it)",
    "hedged_addendum": "an addendum reopens the impression's answer: suspicious for, but not diagnostic of; cannot exclude; CTA recommended to exclude (Undefined)",
    "prior_or_resolved": "extravasation on a prior or outside study that is not seen now (No)",
    "post_embolization": "follow-up after embolization: no residual bleeding (No) or persistent/new bleeding (Yes)",
    "multi_injury_single_bleed": "two or more injuries, active bleeding at one location only (Yes, one location)",
    "mixed_sentence_negation": "one sentence asserts bleeding at one site and negates it at another (Yes)",
    "addendum_changes_conclusion": "an addendum reverses the impression; the addendum decides the label",
    "no_impression": "truncated report, empty impression or 'see findings above' (Undefined)",
    "multi_site": "active extravasation at two or more locations (Yes)",
}


def deciding_claims(draft) -> tuple[Claim, ...]:
    """The claims the guideline reads: the addendum's when it changes the conclusion."""
    if draft.addendum is not None and draft.addendum.changes_conclusion:
        return draft.addendum.claims
    return tuple(claim for statement in draft.impression for claim in statement.claims)


def evidence_of(draft, all_caps: bool) -> tuple[str, ...]:
    """The words that make a report Yes: each deciding statement (or deciding addendum) with an active claim,
    as the report prints it."""
    if draft.impression_state != COMPLETE:
        return ()
    if draft.addendum is not None and draft.addendum.changes_conclusion:
        texts = [draft.addendum.text] if any(claim.kind == ACTIVE for claim in draft.addendum.claims) else []
    else:
        texts = [statement.text for statement in draft.impression if any(claim.kind == ACTIVE for claim in statement.claims)]
    return tuple(text.upper() if all_caps else text for text in texts)


def label_of(draft) -> tuple[str, tuple[str, ...]]:
    """Stage 1 label and stage 2 locations, by the labeling guideline's rules."""
    if draft.impression_state != COMPLETE:
        return UNDEFINED, ()
    claims = deciding_claims(draft)
    bleeding = [location for claim in claims if claim.kind == ACTIVE for location in claim.locations]
    if bleeding:
        return POSITIVE, tuple(location for location in LOCATIONS if location in bleeding)
    if any(claim.kind == HEDGED for claim in claims):
        return UNDEFINED, ()
    return NEGATIVE, ()


def hard_cases_of(draft, label: str, locations: tuple[str, ...]) -> tuple[str, ...]:
    """Categories fixed by a generator choice, plus those that depend on the final label."""
    found = set(draft.features)
    if label == NEGATIVE and any(claim.kind == NEGATED for claim in deciding_claims(draft)):
        found.add("negated")
    bled_before = bool(found & {"prior_or_resolved", "post_embolization"})
    if label == NEGATIVE and draft.injuries and not bled_before and all(injury.vascular == VASCULAR_NONE for injury in draft.injuries):
        found.add("injury_without_extravasation")
    if label == POSITIVE and len(locations) >= 2:
        found.add("multi_site")
    if label == POSITIVE and len(locations) == 1 and len(draft.injuries) >= 2:
        found.add("multi_injury_single_bleed")
    return tuple(name for name in HARD_CASES if name in found)
