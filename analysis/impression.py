"""Find a report's impression: the part of the report the labels are read from.

The impression runs from its header to the end of the report, so an addendum
that follows it (and may change the conclusion) is kept with it.
"""

import re
from dataclasses import dataclass

# A header at the start of a line: IMPRESSION, Impression:, CONCLUSION(S), ...
IMPRESSION_HEADER = re.compile(
    r"^[ \t]*(?:\*+[ \t]*)?(?P<header>impressions?|conclusions?)[ \t]*(?:\*+[ \t]*)?(?::|[ \t]*$)",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class Impression:
    text: str | None  # None: no impression to send to a model
    method: str  # how it was found, for reviewers
    reason: str = ""  # why there is none


def extract_impression(report: str) -> Impression:
    if not report or not report.strip():
        return Impression(None, "none", "empty report")
    headers = list(IMPRESSION_HEADER.finditer(report))
    if not headers:
        return Impression(None, "none", "no impression section")
    last = headers[-1]  # an earlier match may be a FINDINGS/IMPRESSION-style heading
    text = report[last.end():].strip()
    if not text:
        return Impression(None, f"header '{last.group('header')}'", "impression section is empty")
    return Impression(text, f"header '{last.group('header')}'")
