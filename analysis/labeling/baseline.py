"""A rule-based baseline: medspaCy target rules and ConText, to compare the LLMs with.

The rules are data, in ``analysis/rules/<name>.yaml`` (a run file's
``baseline`` names one), each with a version that the run's manifest
records. The pipeline is a blank spaCy English pipeline
with medspaCy's PyRuSH sentence splitter, its target matcher and ConText: no
model is downloaded.

What the rules read: the impression as ``prompt_inputs`` gives it. The part
after an ``Additional findings:`` header is skipped (findings, not impression),
up to the next addendum. An addendum decides the label when it mentions
(blood) extravasation at all, whatever it says about it; the last such
addendum wins. An addendum that mentions none ("No change to the impression")
leaves the decision to the impression.

Decision rule, over the mentions of extravasation (targets) in the deciding
text. A mention is *positive* when ConText marks it with none of:
negation, hedging (possible existence), history, hypothesis, or non-blood
(urine, excreted or oral contrast, bile, contrast infiltrating at the IV
site). Then:

- ``Yes`` if any mention is positive;
- ``Undefined`` if none is, but a mention is hedged and nothing else
  (not negated, historical, hypothetical or non-blood);
- ``No`` otherwise, including when extravasation is not mentioned at all.

A pseudoaneurysm, a contained vascular injury or a blush that fades is not a
target, so it alone gives ``No``, as the guideline says.

Sites (stage 2, filled whenever the label is ``Yes``): each site phrase is a
ConText modifier, limited like the others by clause boundaries (``;``, "but",
", and"). A positive mention takes the sites that modify it; a positive
mention with none takes the sites of its sentence. The label's locations are
the union over its positive mentions, in ``LOCATIONS`` order.
"""

import copy
import functools
import math
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import jsonschema
import pandas as pd
import spacy
import yaml
from spacy.language import Language
from spacy.tokens import Doc, Span

from analysis.config import RULES_DIR
from analysis.data.vocabulary import BASELINE, LABELS, LOCATIONS, Role, Status
from analysis.labeling.labels import label, label_table
from analysis.specs import SpecError

try:
    import medspacy  # noqa: F401  registers the medspacy_* pipeline components
    from medspacy.context import ConTextRule
    from medspacy.target_matcher import TargetRule
except ModuleNotFoundError as error:
    # Not in the package's dependencies: medspaCy's metadata caps spaCy below 3.8
    # on Python 3.11, and those spaCy wheels do not run with numpy 2.
    raise ModuleNotFoundError(
        "medspaCy is installed apart from the package's dependencies: pip install --no-deps medspacy==1.3.1"
    ) from error

RULES_FILE = RULES_DIR / "extravasation.yaml"
YES, NO, UNDEFINED = LABELS
TARGET_LABEL = "EXTRAVASATION"
HEDGED = "POSSIBLE_EXISTENCE"
NON_BLOOD = "NON_BLOOD"
# A mention with any of these modifiers is not active bleeding now.
EXCLUDING = ("NEGATED_EXISTENCE", "HISTORICAL", "HYPOTHETICAL", NON_BLOOD)
SITE_PREFIX = "SITE:"
DIRECTIONS = ["FORWARD", "BACKWARD", "BIDIRECTIONAL", "TERMINATE", "PSEUDO"]
CATEGORIES = [*EXCLUDING, HEDGED, "TERMINATE", "PSEUDO"]

_PHRASE = {
    "oneOf": [
        {"type": "string", "minLength": 1},
        {
            "type": "object",
            "required": ["literal"],
            "additionalProperties": False,
            "properties": {"literal": {"type": "string", "minLength": 1}, "pattern": {"type": ["array", "string"]}},
        },
    ]
}
RULES_SCHEMA = {
    "type": "object",
    "required": ["version", "developed_on", "sections", "targets", "context", "sites"],
    "additionalProperties": False,
    "properties": {
        "version": {"type": "string", "minLength": 1},
        "developed_on": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"enum": ["dev", "test"]}},
        "sections": {
            "type": "object",
            "required": ["addendum_header", "findings_header", "item_break"],
            "additionalProperties": False,
            "properties": {name: {"type": "string", "minLength": 1}
                           for name in ("addendum_header", "findings_header", "item_break")},
        },
        "targets": {"type": "array", "minItems": 1, "items": _PHRASE},
        "context": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["literal", "category", "direction"],
                "additionalProperties": False,
                "properties": {
                    "literal": {"type": "string", "minLength": 1},
                    "category": {"enum": CATEGORIES},
                    "direction": {"enum": DIRECTIONS},
                    "pattern": {"type": ["array", "string"]},
                    "max_scope": {"type": "integer", "minimum": 1},
                },
            },
        },
        "sites": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"enum": list(LOCATIONS)},
            "additionalProperties": {"type": "array", "minItems": 1, "items": _PHRASE},
        },
    },
}


class RuleError(SpecError):
    """A rule file is missing or cannot be used; the message names the file."""


@dataclass(frozen=True, eq=False)  # hashed by identity: the pipeline is cached per rule set
class Rules:
    path: Path
    version: str
    spec: dict  # the file's content, for with_added_rules
    addendum_header: re.Pattern
    findings_header: re.Pattern
    item_break: re.Pattern
    targets: tuple[TargetRule, ...]
    context: tuple[ConTextRule, ...]
    site_of_category: dict[str, str]  # ConText category -> location


class Evidence(StrEnum):
    """What ConText found about the deciding mentions of extravasation in an impression."""

    ASSERTED = "asserted"  # at least one mention of a bleed, neither hedged nor excluded
    HEDGED = "hedged"  # no asserted mention; a hedged one, and nothing else said of it
    EXCLUDED = "excluded"  # mentions, every one negated, historical, hypothetical or not blood
    NOT_MENTIONED = "not mentioned"


@dataclass(frozen=True)
class RuleLabel:
    extravasation: str
    locations: tuple[str, ...] = ()
    reason: str = ""  # why it is Undefined
    evidence: Evidence = Evidence.NOT_MENTIONED


@dataclass(frozen=True)
class Mention:
    positive: bool
    hedged_only: bool
    mentions_blood: bool  # anything but non-blood extravasation: lets an addendum decide
    sites: frozenset[str]


def _phrase(entry) -> tuple[str, object]:
    return (entry, None) if isinstance(entry, str) else (entry["literal"], entry.get("pattern"))


def read_rules(path: Path = RULES_FILE) -> Rules:
    """The rules of ``path``, checked against the schema; any problem raises ``RuleError`` naming the file."""
    path = Path(path)
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RuleError(f"{path}: cannot read the rule file ({error.strerror or error})") from error
    except yaml.YAMLError as error:
        raise RuleError(f"{path}: not valid YAML: {error}") from error
    return rules_from_spec(spec, path)


def load_rules(name: str) -> Rules:
    """The rule file ``analysis/rules/<name>.yaml``, as a run file names it."""
    path = RULES_DIR / f"{name}.yaml"
    if not path.is_file():
        available = sorted(p.stem for p in RULES_DIR.glob("*.yaml"))
        raise RuleError(f"{path}: no such rule file; available: {', '.join(available)}")
    return read_rules(path)


def rules_from_spec(spec: dict, path: Path) -> Rules:
    """Rules from a rule file's content (``path`` names it in errors)."""
    try:
        jsonschema.validate(spec, RULES_SCHEMA)
    except jsonschema.ValidationError as error:
        where = "/".join(str(part) for part in error.absolute_path) or "top level"
        raise RuleError(f"{path}: {where}: {error.message}") from error
    try:
        sections = {name: re.compile(regex) for name, regex in spec["sections"].items()}
    except re.error as error:
        raise RuleError(f"{path}: sections: bad regular expression {error.pattern!r}: {error}") from error
    targets = tuple(TargetRule(literal, TARGET_LABEL, pattern=pattern)
                    for literal, pattern in map(_phrase, spec["targets"]))
    context = [ConTextRule(rule["literal"], rule["category"], pattern=rule.get("pattern"),
                           direction=rule["direction"], max_scope=rule.get("max_scope"))
               for rule in spec["context"]]
    site_of_category = {}
    for location, phrases in spec["sites"].items():
        for literal, pattern in map(_phrase, phrases):
            rule = ConTextRule(literal, SITE_PREFIX + location, pattern=pattern, direction="BIDIRECTIONAL")
            site_of_category[rule.category] = location
            context.append(rule)
    return Rules(path, spec["version"], spec=spec, targets=targets, context=tuple(context),
                 site_of_category=site_of_category, **sections)


def with_added_rules(rules: Rules, *, targets: list = (), context: list = (), sites: dict | None = None,
                     version: str | None = None) -> Rules:
    """``rules`` and more, written as in the rule file: try a rule in a notebook before adding it to the file."""
    spec = copy.deepcopy(rules.spec)
    spec["targets"] += list(targets)
    spec["context"] += list(context)
    for location, phrases in (sites or {}).items():
        spec["sites"].setdefault(location, []).extend(phrases)
    spec["version"] = version or f"{spec['version']}+trial"
    return rules_from_spec(spec, rules.path)


RULES = read_rules()


@functools.cache
def build_pipeline(rules: Rules = RULES) -> Language:
    """A blank English pipeline with medspaCy's sentence splitter, target matcher and ConText."""
    nlp = spacy.blank("en")
    nlp.add_pipe("medspacy_pyrush")
    try:
        nlp.add_pipe("medspacy_target_matcher").add(list(rules.targets))
        nlp.add_pipe("medspacy_context", config={"rules": None}).add(list(rules.context))
    except (ValueError, KeyError, TypeError, re.error) as error:
        raise RuleError(f"{rules.path}: a rule's pattern is not a valid spaCy pattern: {error}") from error
    return nlp


def _sites_in_sentence(doc: Doc, mention: Span, rules: Rules) -> set[str]:
    sentence = mention.sent
    return {rules.site_of_category[modifier.category] for modifier in doc._.context_graph.modifiers
            if modifier.category in rules.site_of_category and sentence.start <= modifier.modifier_span[0] < sentence.end}


def _mentions(doc: Doc, rules: Rules) -> list[Mention]:
    mentions = []
    for target in doc.ents:
        categories = {modifier.category for modifier in target._.modifiers}
        excluded = not categories.isdisjoint(EXCLUDING)
        hedged = HEDGED in categories
        positive = not excluded and not hedged
        sites = {rules.site_of_category[c] for c in categories if c in rules.site_of_category}
        if positive and not sites:
            sites = _sites_in_sentence(doc, target, rules)
        mentions.append(Mention(positive=positive, hedged_only=hedged and not excluded,
                                mentions_blood=NON_BLOOD not in categories, sites=frozenset(sites)))
    return mentions


def _read_part(text: str, nlp: Language, rules: Rules) -> list[Mention]:
    impression_only = rules.findings_header.split(text, maxsplit=1)[0]
    items = [item.strip() for item in rules.item_break.split(impression_only) if item.strip()]
    return [mention for doc in nlp.pipe(items) for mention in _mentions(doc, rules)]


def _deciding_mentions(text: str, nlp: Language, rules: Rules) -> list[Mention]:
    headers = list(rules.addendum_header.finditer(text))
    ends = [header.start() for header in headers[1:]] + [len(text)]
    deciding = _read_part(text[:headers[0].start()] if headers else text, nlp, rules)
    for header, end in zip(headers, ends):
        addendum = _read_part(text[header.end():end], nlp, rules)
        if any(mention.mentions_blood for mention in addendum):
            deciding = addendum
    return deciding


def label_impression(text: str, rules: Rules = RULES) -> RuleLabel:
    """The decision rule of the module docstring, applied to one impression."""
    mentions = _deciding_mentions(text, build_pipeline(rules), rules)
    positive = [mention for mention in mentions if mention.positive]
    if positive:
        sites = set().union(*(mention.sites for mention in positive))
        return RuleLabel(YES, tuple(location for location in LOCATIONS if location in sites), evidence=Evidence.ASSERTED)
    if any(mention.hedged_only for mention in mentions):
        return RuleLabel(UNDEFINED, reason="the rules found only a hedged mention of extravasation", evidence=Evidence.HEDGED)
    return RuleLabel(NO, evidence=Evidence.EXCLUDED if mentions else Evidence.NOT_MENTIONED)


def sites_named(texts: list[str], rules: Rules = RULES) -> list[tuple[str, ...]]:
    """For each of ``texts``, every site whose words (the rules' site vocabulary) occur in it, whatever is said
    of them: the sites of a sentence already known to report the bleeding."""
    named = []
    for doc in build_pipeline(rules).pipe(texts):
        found = {rules.site_of_category[modifier.category] for modifier in doc._.context_graph.modifiers
                 if modifier.category in rules.site_of_category}
        named.append(tuple(location for location in LOCATIONS if location in found))
    return named


def label_with_rules(inputs: pd.DataFrame, rules: Rules = RULES) -> pd.DataFrame:
    """One row per input row of the labels table (``analysis.labeling.labels``), labeled by the rules (model
    ``rules``), sites included.

    ``inputs`` is ``prompt_inputs``' table: a report without impression text
    (``prompt_text`` None) is ``Undefined`` with the input's reason; a hedged
    one is ``Undefined`` with that reason; every other row has no reason.
    """
    rows = []
    for report in inputs.itertuples(index=False):
        if isinstance(report.prompt_text, str) and report.prompt_text.strip():
            found = label_impression(report.prompt_text, rules)
            rows.append(label(report.report_id, BASELINE, Role.RULES, found.extravasation, Status.ANSWERED,
                              reasons=[found.reason], locations=list(found.locations), locations_status=Status.ANSWERED))
        else:
            rows.append(label(report.report_id, BASELINE, Role.RULES, UNDEFINED, Status.NOT_SENT,
                              reasons=[report.reason or "impression is empty"], locations_status=Status.NOT_SENT))
    return label_table(rows)
