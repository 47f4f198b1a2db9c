"""Find a report's impression: the part of the report the labels are read from.

Reports come in many institutional formats: ``IMPRESSION:`` inline or on its
own line, ``Impression``, ``CONCLUSION``, ``FINDINGS/IMPRESSION``, headers in
bold or between asterisks, all capitals. The impression runs from the first
impression header to the end of the report, so that an addendum that follows
it (and may change the conclusion) is kept with it; an addendum placed above
the original report is appended too. Signature lines are dropped.

An impression that only points elsewhere ("See findings above") cannot be
judged on its own and counts as none.
"""

import re
from dataclasses import dataclass

_MARK = r"[ \t]*(?:[*#_=>•\-]+[ \t]*)?"  # bold, bullets or banners around a header


def _header(words: str) -> re.Pattern:
    closing = r"[ \t]*[*#_=]*"
    return re.compile(
        rf"^{_MARK}(?P<header>{words}){closing}(?::{closing}|[ \t]*$)", re.IGNORECASE | re.MULTILINE
    )


# Looked for in order: a report with an IMPRESSION never has it replaced by
# a "Summary" line elsewhere in its body.
IMPRESSION_HEADERS = [
    _header(r"findings\s*(?:/|and|&)\s*impressions?|(?:final\s+)?impressions?|conclusions?"),
    _header(r"summary|opinion|final\s+diagnosis"),
]
ADDENDUM_HEADER = re.compile(rf"^{_MARK}addend(?:um|a)\b", re.IGNORECASE | re.MULTILINE)
# Where an addendum placed above the original report ends.
BODY_HEADER = re.compile(
    rf"^{_MARK}(?:original\s+report|exam(?:ination)?|procedure|(?:clinical\s+)?history|indications?|"
    r"technique|comparison|findings)\b",
    re.IGNORECASE | re.MULTILINE,
)
# Lines that close a report without saying anything about the patient.
SIGNATURE_LINE = re.compile(
    r"^[ \t]*(?:electronically\s+signed|signed\s+by|dictated\s+by|transcribed\s+by|"
    r"attending\s+radiologist|radiologist:|end\s+of\s+(?:report|impression))[^\n]*$",
    re.IGNORECASE | re.MULTILINE,
)
# The whole impression is only a pointer to another section.
POINTER_ONLY = re.compile(
    r"^\W*(?:\d+[.)]\s*)?(?:please\s+)?(?:see|refer\s+to|as)\s+(?:described\s+|noted\s+)?(?:in\s+)?(?:the\s+)?"
    r"(?:findings(?:\s+section)?|above|body\s+of\s+(?:the\s+)?report|report\s+body)(?:\s+above)?\W*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Impression:
    text: str | None  # None: no impression to send to a model
    method: str  # how it was found, for reviewers
    reason: str = ""  # why there is none


def _clean(text: str) -> str:
    return SIGNATURE_LINE.sub("", text).strip()


def extract_impression(report: str) -> Impression:
    if not report or not report.strip():
        return Impression(None, "none", "empty report")
    header = next(filter(None, (pattern.search(report) for pattern in IMPRESSION_HEADERS)), None)
    if header is None:
        return Impression(None, "none", "no impression section")
    name = " ".join(header.group("header").split())
    method = f"header '{name}'"
    text = _clean(report[header.end():])
    earlier_addendum = ADDENDUM_HEADER.search(report, 0, header.start())
    if earlier_addendum is not None:
        body = BODY_HEADER.search(report, earlier_addendum.end(), header.start())
        addendum = _clean(report[earlier_addendum.start():body.start() if body else header.start()])
        text = f"{text}\n\n{addendum}".strip()
        method += " + addendum above the report"
    if not text:
        return Impression(None, method, "impression section is empty")
    if POINTER_ONLY.match(text):
        return Impression(None, method, "impression only refers to the findings")
    return Impression(text, method)
