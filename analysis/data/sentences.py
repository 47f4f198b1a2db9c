"""The sentences of an impression, as character spans of its text: what an evidence span can be.

Deterministic and rule-based, so that the same impression always gives the
same sentences and every span is a verbatim part of the text. An impression is
read line by line (list items, addenda, section lines); a list marker (``1.``,
``2)``, ``-``, ``*``, ``•``) is left out of its item's span; a line that is
only a short header ("Additional findings:") is no sentence. Within a line a
sentence ends at ``.``, ``!`` or ``?`` followed by a space and an upper-case
letter, a digit or a parenthesis, unless the word before is an abbreviation
("Dr.") or a single letter.
"""

import re
import string
from dataclasses import dataclass

LIST_MARKER = re.compile(r"\s*(?:\(?\d{1,2}[.)]|[-*•])\s+")
SENTENCE_END = re.compile(r"[.!?](?=\s+[A-Z0-9(])")
ABBREVIATIONS = {"dr", "drs", "mr", "mrs", "ms", "st", "vs", "no", "approx", "e.g", "i.e", "cf", "fig"}
HEADER_WORDS = 4  # a line of at most this many words that ends in ":" is a header
# The names a model chooses a sentence by: one letter each, one token in every tokenizer the project meets.
# A longer impression's later sentences are listed unnamed, so they cannot be chosen (6 of the demo's 386
# impressions have more than 26 sentences; the longest, 30).
LETTERS = string.ascii_uppercase


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str

    def record(self) -> dict:
        return {"start": self.start, "end": self.end, "text": self.text}


def sentences(text: str) -> list[Sentence]:
    """The sentences of ``text``, in order, each with its character offsets (``text[start:end] == sentence.text``)."""
    found, offset = [], 0
    for line in text.splitlines(keepends=True):
        body_start = offset + (match.end() if (match := LIST_MARKER.match(line)) else 0)
        offset += len(line)
        body = text[body_start:offset].rstrip()
        if not body.strip() or (body.endswith(":") and len(body.split()) <= HEADER_WORDS):
            continue
        found += _split_line(text, body_start, body_start + len(body))
    return found


def _split_line(text: str, start: int, end: int) -> list[Sentence]:
    line, parts, begin = text[start:end], [], 0
    for match in SENTENCE_END.finditer(line):
        word = line[:match.start()].rsplit(None, 1)[-1].lower() if line[:match.start()].strip() else ""
        if word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
            continue
        parts.append((begin, match.end()))
        begin = match.end()
    parts.append((begin, len(line)))
    spans = []
    for part_start, part_end in parts:
        piece = line[part_start:part_end]
        lead = len(piece) - len(piece.lstrip())
        piece = piece.strip()
        if piece:
            spans.append(Sentence(start + part_start + lead, start + part_start + lead + len(piece), piece))
    return spans


def lettered(text: str) -> str:
    """The sentences of ``text``, one per line, each after its letter ("A. ..."), for a prompt that asks which."""
    return "\n".join(f"{LETTERS[number]}. {sentence.text}" if number < len(LETTERS) else f"-  {sentence.text}"
                     for number, sentence in enumerate(sentences(text)))


def by_letter(text: str) -> dict[str, Sentence]:
    """The sentences of ``text`` that a letter names."""
    return dict(zip(LETTERS, sentences(text)))
