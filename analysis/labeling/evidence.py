"""Stage 2's evidence: the sentences of an impression that report the bleeding, and the sites they name.

Each model is asked which sentence of the impression reports active
extravasation (the run's ``localization.evidence`` task), the sentences named
by letters (``analysis.data.sentences``), so that an answer is always a span
of the report's own text: a letter the impression does not have is no
evidence, and says so. Decided at the answer token, a sentence is evidence
where its probability reaches ``localization.evidence_share`` of the likeliest
sentence's; ``none`` as the likeliest answer is no evidence. A model asked for
a structured answer (no log-probabilities) gives one sentence.

The sites of the evidence are the sites whose words (the rule baseline's site
vocabulary, ``analysis.labeling.baseline.sites_named``) occur in its
sentences: the model decides which words report the bleeding, the vocabulary
what anatomy they name. Being partly the rules', these sites carry the rules'
† wherever they are scored, and are never called a model's alone.
"""

import math
from dataclasses import dataclass, field

from analysis.data.sentences import by_letter
from analysis.data.vocabulary import Status
from analysis.llm.asking import Answer

NONE = "none"  # the evidence task's answer where no sentence reports the bleeding


@dataclass
class EvidenceAnswer:
    """One model's evidence for one report: the sentences, each ``{start, end, text, p}`` in the impression."""

    spans: list[dict] = field(default_factory=list)
    status: Status = Status.ANSWERED
    reasons: list[str] = field(default_factory=list)
    key: str = ""


def evidence_of(answer: Answer, text: str, share: float) -> EvidenceAnswer:
    """The sentences of ``text`` that ``answer`` names as reporting the bleeding (see the module's docstring)."""
    if answer.status != Status.ANSWERED:
        return EvidenceAnswer([], answer.status, answer.reasons, answer.key)
    named = by_letter(text)
    if answer.probabilities is None:
        chosen = {answer.value: math.nan} if answer.value in named else {}
    else:
        # Only the letters this impression has, and none, can be the answer.
        probabilities = {k: p for k, p in answer.probabilities.items() if k in named or k == NONE}
        total = sum(probabilities.values())
        likeliest = max(probabilities, key=probabilities.get) if total else None
        chosen = {} if likeliest in (None, NONE) else {
            letter: p / total for letter, p in probabilities.items()
            if letter != NONE and p >= share * probabilities[likeliest]}
    if not chosen:
        reason = ("the model found no sentence that reports active extravasation" if answer.value == NONE else
                  f"the model named sentence {answer.value!r}, which this impression (sentences "
                  f"A–{list(named)[-1] if named else '-'}) does not have: no evidence")
        return EvidenceAnswer([], Status.ANSWERED, [reason], answer.key)
    spans = [named[letter].record() | {"p": p} for letter, p in sorted(chosen.items(), key=lambda kv: named[kv[0]].start)]
    return EvidenceAnswer(spans, Status.ANSWERED, [], answer.key)


def voted_evidence(spans_of_members: list[list[dict]]) -> list[dict]:
    """The sentences more than half of the members chose, each with ``p`` the share of members that did."""
    counts: dict[tuple[int, int], list[dict]] = {}
    for spans in spans_of_members:
        for span in spans:
            counts.setdefault((span["start"], span["end"]), []).append(span)
    members = len(spans_of_members)
    return [{**chosen[0], "p": len(chosen) / members} for _, chosen in sorted(counts.items())
            if len(chosen) * 2 > members]
