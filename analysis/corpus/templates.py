"""The institutional templates a report is typed into, and `render`, which types a draft into one."""

import datetime as dt
from dataclasses import dataclass

from analysis.corpus.findings import findings_by_section
from analysis.corpus.model import EMPTY, SEE_FINDINGS, TRUNCATED
from analysis.corpus.report import (
    addendum_lines,
    clinical_history,
    communication_line,
    exam_title,
    signature,
    technique,
)


@dataclass(frozen=True)
class Template:
    """One institution's report layout."""

    name: str
    description: str
    weight: int
    field_labels: tuple[str, str, str, str]  # exam, history, technique, comparison
    findings_label: str
    labels_on_own_line: bool
    groups: tuple[tuple[str, tuple[str, ...]], ...]  # header -> sections; no sections = a title line
    impression_header: str
    bullet: str  # "{n}. " numbers the items; "" runs them on as prose
    mixed_case_title: bool
    all_caps: bool = False
    combined: bool = False  # impression and findings share one section


CAPITAL_GROUPS = (
    ("LOWER CHEST:", ("lower_chest",)),
    ("LIVER:", ("liver",)),
    ("GALLBLADDER AND BILE DUCTS:", ("biliary",)),
    ("SPLEEN:", ("spleen",)),
    ("PANCREAS:", ("pancreas",)),
    ("ADRENAL GLANDS:", ("adrenals",)),
    ("KIDNEYS AND URETERS:", ("kidneys",)),
    ("URINARY BLADDER:", ("bladder",)),
    ("BOWEL AND MESENTERY:", ("bowel",)),
    ("PERITONEUM AND RETROPERITONEUM:", ("peritoneum",)),
    ("VASCULATURE:", ("vasculature",)),
    ("LYMPH NODES:", ("lymph_nodes",)),
    ("PELVIS:", ("pelvis",)),
    ("ABDOMINAL WALL AND SOFT TISSUES:", ("body_wall",)),
    ("BONES:", ("bones",)),
)
MIXED_CASE_GROUPS = (
    ("Lung bases:", ("lower_chest",)),
    ("Liver:", ("liver",)),
    ("Gallbladder and bile ducts:", ("biliary",)),
    ("Spleen:", ("spleen",)),
    ("Pancreas:", ("pancreas",)),
    ("Adrenal glands:", ("adrenals",)),
    ("Kidneys and ureters:", ("kidneys",)),
    ("Bladder:", ("bladder",)),
    ("Bowel and mesentery:", ("bowel",)),
    ("Peritoneum and retroperitoneum:", ("peritoneum",)),
    ("Vessels:", ("vasculature",)),
    ("Lymph nodes:", ("lymph_nodes",)),
    ("Pelvis:", ("pelvis",)),
    ("Abdominal wall:", ("body_wall",)),
    ("Bones:", ("bones",)),
)
PARAGRAPH_GROUPS = (
    ("", ("lower_chest",)),
    ("", ("liver", "biliary", "spleen", "pancreas", "adrenals")),
    ("", ("kidneys", "bladder")),
    ("", ("bowel", "peritoneum")),
    ("", ("vasculature", "lymph_nodes", "pelvis")),
    ("", ("body_wall", "bones")),
)
MERGED_GROUPS = (
    ("Lung bases:", ("lower_chest",)),
    ("Hepatobiliary:", ("liver", "biliary")),
    ("Spleen:", ("spleen",)),
    ("Pancreas:", ("pancreas",)),
    ("Adrenals:", ("adrenals",)),
    ("Kidneys and bladder:", ("kidneys", "bladder")),
    ("Bowel and mesentery:", ("bowel",)),
    ("Peritoneum and retroperitoneum:", ("peritoneum",)),
    ("Vessels and lymph nodes:", ("vasculature", "lymph_nodes")),
    ("Pelvis:", ("pelvis",)),
    ("Soft tissues:", ("body_wall",)),
    ("Bones:", ("bones",)),
)
SYSTEM_GROUPS = (
    ("LUNG BASES:", ("lower_chest",)),
    ("SOLID ORGANS", ()),
    ("  Liver:", ("liver",)),
    ("  Spleen:", ("spleen",)),
    ("  Pancreas:", ("pancreas",)),
    ("  Adrenals:", ("adrenals",)),
    ("  Kidneys:", ("kidneys",)),
    ("HOLLOW VISCERA", ()),
    ("  Gallbladder/biliary:", ("biliary",)),
    ("  Bowel/mesentery:", ("bowel",)),
    ("  Bladder:", ("bladder",)),
    ("PERITONEUM/RETROPERITONEUM:", ("peritoneum",)),
    ("VASCULAR:", ("vasculature",)),
    ("LYMPH NODES:", ("lymph_nodes",)),
    ("PELVIS:", ("pelvis",)),
    ("SOFT TISSUES:", ("body_wall",)),
    ("OSSEOUS:", ("bones",)),
)

TEMPLATES = (
    Template(
        "numbered_impression",
        "capitalized organ headers; `IMPRESSION:` alone on a line, numbered items",
        26,
        ("EXAM:", "CLINICAL HISTORY:", "TECHNIQUE:", "COMPARISON:"),
        "FINDINGS:",
        False,
        CAPITAL_GROUPS,
        "IMPRESSION:",
        "{n}. ",
        False,
    ),
    Template(
        "inline_impression",
        "mixed-case headers; `Impression:` followed inline by prose",
        16,
        ("Exam:", "History:", "Technique:", "Comparison:"),
        "Findings:",
        False,
        MIXED_CASE_GROUPS,
        "Impression:",
        "",
        True,
    ),
    Template(
        "conclusion_bullets",
        "PROCEDURE/INDICATION headers, findings as unheaded paragraphs, `CONCLUSION:` with `- ` bullets",
        12,
        ("PROCEDURE:", "INDICATION:", "TECHNIQUE:", "COMPARISON:"),
        "REPORT:",
        False,
        PARAGRAPH_GROUPS,
        "CONCLUSION:",
        "- ",
        False,
    ),
    Template(
        "bare_headers",
        "headers without colons on their own lines (`IMPRESSION` alone), `•` bullets",
        12,
        ("EXAMINATION", "HISTORY", "TECHNIQUE", "COMPARISON"),
        "FINDINGS",
        True,
        MERGED_GROUPS,
        "IMPRESSION",
        "• ",
        False,
    ),
    Template(
        "all_caps",
        "the whole report in capitals; numbered `1)` impression",
        10,
        ("EXAMINATION:", "REASON FOR EXAM:", "TECHNIQUE:", "COMPARISON:"),
        "FINDINGS:",
        False,
        CAPITAL_GROUPS,
        "IMPRESSION:",
        "{n}) ",
        False,
        all_caps=True,
    ),
    Template(
        "findings_impression_combined",
        "one `FINDINGS/IMPRESSION:` section: numbered conclusions, then additional findings",
        10,
        ("EXAMINATION:", "CLINICAL INDICATION:", "TECHNIQUE:", "COMPARISON:"),
        "Additional findings:",
        False,
        MIXED_CASE_GROUPS,
        "FINDINGS/IMPRESSION:",
        "{n}. ",
        False,
        combined=True,
    ),
    Template(
        "structured_trauma",
        "structured trauma template grouped by organ system; `IMPRESSION:` with `* ` bullets",
        14,
        ("Exam:", "Indication:", "Technique:", "Comparison:"),
        "FINDINGS:",
        False,
        SYSTEM_GROUPS,
        "IMPRESSION:",
        "* ",
        True,
    ),
)


def choose_template(rng, draft) -> Template:
    # Where findings and impression share a section, neither a missing impression
    # nor a bleed described only in the findings can be written.
    needs_separate_impression = bool(draft.features & {"findings_only", "no_impression"})
    eligible = [template for template in TEMPLATES if not (template.combined and needs_separate_impression)]
    return rng.choices(eligible, weights=[template.weight for template in eligible])[0]


def truncate(rng, lines: list[str]) -> list[str]:
    """Cut the findings mid-word, as a report saved before dictation finished."""
    candidates = [index for index in range(len(lines) // 3, len(lines)) if len(lines[index].split()) >= 5]
    cut = rng.choice(candidates)
    words = lines[cut].split(" ")
    keep = rng.randint(2, len(words) - 2)
    partial_word = words[keep][: max(1, len(words[keep]) // 2)]
    return lines[:cut] + [" ".join(words[:keep] + [partial_word])]


def impression_items(rng, draft) -> list[str]:
    if draft.impression_state == SEE_FINDINGS:
        return [rng.choice(("See findings above.", "Please see findings.", "As above.", "See findings section."))]
    if draft.impression_state == EMPTY:
        return []
    return [statement.text for statement in draft.impression]


def render(rng, draft, template: Template) -> str:
    sections = findings_by_section(rng, draft)
    findings = []
    for header, keys in template.groups:
        text = " ".join(sentence for key in keys for sentence in sections[key])
        findings.append(" ".join(part for part in (header, text) if part))
    values = (
        exam_title(rng, draft, template.mixed_case_title),
        clinical_history(rng, draft),
        technique(rng, draft),
        draft.comparison or rng.choice(("None.", "None available.", "No prior imaging.", "None; same-day CT chest reported separately.")),
    )
    head = []
    for label, value in zip(template.field_labels, values):
        head.extend([label, value] if template.labels_on_own_line else [f"{label} {value}"])

    if draft.impression_state == TRUNCATED:
        blocks = [head, [template.findings_label] + truncate(rng, findings)]
    else:
        items = impression_items(rng, draft)
        if template.bullet:
            impression = [template.impression_header] + [template.bullet.format(n=number) + item for number, item in enumerate(items, start=1)]
        else:
            impression = [" ".join([template.impression_header] + items)]
        signed_at = draft.exam_time + dt.timedelta(minutes=rng.randint(25, 110))
        tail = []
        if draft.communicate:
            tail.append(communication_line(rng, draft.style, signed_at - dt.timedelta(minutes=rng.randint(3, 20))))
        tail.append(signature(rng, draft.style, signed_at))
        if template.combined:
            blocks = [head, impression + [""] + [template.findings_label] + findings, tail]
        else:
            blocks = [head, [template.findings_label] + findings, impression, tail]
        if draft.addendum is not None:
            blocks.append(addendum_lines(rng, draft))
    text = "\n\n".join("\n".join(block) for block in blocks)
    return text.upper() if template.all_caps else text
