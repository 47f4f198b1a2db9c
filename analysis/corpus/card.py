"""The corpus card, `README.md` beside the CSV files: what the corpus is, how to rebuild it, and its counts."""

from collections import Counter

from analysis.corpus.model import Case
from analysis.corpus.templates import TEMPLATES
from analysis.corpus.truth import HARD_CASES
from analysis.data.vocabulary import LABELS, LOCATIONS, POSITIVE


def regenerate_command(n_reports: int, n_extension: int, seed: int) -> str:
    return f"python -m analysis.corpus --out data/demo --n {n_reports} --extension {n_extension} --seed {seed}"


def id_range(cases: list[Case]) -> str:
    return f"{cases[0].report_id} to {cases[-1].report_id}"


def extension_section(core: list[Case], extension: list[Case]) -> list[str]:
    """Why the extension exists, its labels beside the core's, and the categories only it has."""
    core_labels = Counter(case.extravasation for case in core)
    extension_labels = Counter(case.extravasation for case in extension)
    core_categories = {name for case in core for name in case.hard_cases}
    only_extension = [name for name in HARD_CASES if name not in core_categories and any(name in case.hard_cases for case in extension)]
    lines = [
        "",
        f"## The extension ({id_range(extension)})",
        "",
        f"The core ({id_range(core)}) has the size and label mix of the study's hand-labeled set.",
        "Real reports also use the word extravasation for urine, bile, enteric contrast, air and contrast through",
        "a drain, none of which is active bleeding (No); they name venous bleeding apart from arterial, and it is",
        "active bleeding (Yes); and they add addenda that leave the question open (Undefined).",
        f"The {len(extension)} extension reports add these kinds. They come from a plan of their own, shuffled and",
        "seeded apart from the core's, so the core's reports, ground truth and case features are byte-identical",
        "with or without the extension (`--extension 0` writes the core alone), and so are their split parts:",
        "the split was extended to the new reports, not redrawn.",
        "",
        "| label | core | extension |",
        "|---|---:|---:|",
    ]
    lines += [f"| {label} | {core_labels[label]} | {extension_labels[label]} |" for label in LABELS]
    lines += [
        "",
        f"Categories only the extension has: {', '.join(only_extension)}. They mark the extension's reports only;",
        "the core's reports keep the categories they were published with (its non_blood_extravasation reports",
        "include urine, bile and oral contrast too). Every extension report of these kinds is also in the broad",
        "category: a non-blood leak in non_blood_extravasation, a hedged addendum in hedged.",
    ]
    return lines


def corpus_card(cases: list[Case]) -> str:
    """The corpus card: every number in it is counted from the cases."""
    seeds = sorted({case.seed for case in cases})
    if len(seeds) != 1:
        raise ValueError(f"cases come from several seeds: {seeds}")
    core = [case for case in cases if not case.in_extension]
    extension = [case for case in cases if case.in_extension]
    total = len(cases)
    labels = Counter(case.extravasation for case in cases)
    locations = Counter(location for case in cases for location in case.locations)
    multi_site = sum(len(case.locations) >= 2 for case in cases)
    hard_cases = Counter(name for case in cases for name in case.hard_cases)
    hard_case_labels = Counter((name, case.extravasation) for case in cases for name in case.hard_cases)
    templates = Counter(case.template for case in cases)
    positives = labels[POSITIVE]

    lines = [
        "# Demo corpus: synthetic abdominal trauma CT reports",
        "",
        "**These reports are synthetic.** The package `analysis/corpus/` wrote them from templates,",
        "by seeded random choices of scenario, injuries, wording and institutional format.",
        "They describe no real patient: every name, age, date and time in them is invented.",
        "",
        "Labels follow the project's labeling guideline (`labeling-guideline.md`, the",
        "reference standard): stage 1 reads the impression, and an addendum that changes",
        "the conclusion decides; stage 2 marks every location with active extravasation.",
        "The generator derives each label from its own structured choices (which scenario,",
        "which organs bleed, which negation or hedge it wrote), never by reading the text back.",
        "",
        "This file is generated with the corpus; do not edit it by hand.",
        "",
        f"- Reports: {total}" + (f" ({len(core)} in the core, {len(extension)} in the extension)" if extension else ""),
        f"- Seed: {seeds[0]}",
        f"- Regenerate (byte-identical): `{regenerate_command(len(core), len(extension), seeds[0])}`",
        "",
        "## Files",
        "",
        "| file | columns | content |",
        "|---|---|---|",
        "| `reports.csv` | report_id, report_text | the whole report, multi-line |",
        "| `ground_truth.csv` | report_id, extravasation, locations | `Yes`/`No`/`Undefined`; locations `;`-separated, only for `Yes` |",
        "| `case_features.csv` | report_id, template, hard_cases | institutional template; hard-case categories, `;`-separated |",
        "| `evidence.csv` | report_id, evidence | one row per impression statement (or deciding addendum) whose claim makes a "
        "report `Yes`, its text as the report prints it: the true evidence that stage 2's evidence spans are scored "
        "against |",
        "| `split.csv` | report_id, split | `dev` or `test`; not written by this generator: the core's drawn by `python -m analysis split`, "
        "then extended to new reports by `python -m analysis split --extend data/demo/split.csv` |",
        "",
        "Prompts are written, and few-shot examples taken, on the `dev` reports only; "
        "Tables 1A/1B are computed on the `test` reports.",
        "",
        "## Stage 1 labels",
        "",
        "| label | reports | share |",
        "|---|---:|---:|",
    ]
    lines += [f"| {label} | {labels[label]} | {100 * labels[label] / total:.1f}% |" for label in LABELS]
    lines += [
        "",
        f"## Stage 2 locations ({positives} Yes reports, multi-label)",
        "",
        "| location | reports |",
        "|---|---:|",
    ]
    lines += [f"| {location} | {locations[location]} |" for location in LOCATIONS]
    lines += [
        "",
        f"Multi-site reports (two or more locations): {multi_site}",
        "",
        "## Hard cases",
        "",
        "A report can belong to several categories.",
        "",
        "| category | reports | " + " | ".join(LABELS) + " | meaning |",
        "|---|---:|" + "---:|" * len(LABELS) + "---|",
    ]
    lines += [
        f"| {name} | {hard_cases[name]} | " + " | ".join(str(hard_case_labels[name, label]) for label in LABELS) + f" | {meaning} |"
        for name, meaning in HARD_CASES.items()
    ]
    lines += [
        "",
        "## Templates",
        "",
        "| template | reports | layout |",
        "|---|---:|---|",
    ]
    lines += [f"| {template.name} | {templates[template.name]} | {template.description} |" for template in TEMPLATES]
    if extension:
        lines += extension_section(core, extension)
    return "\n".join(lines) + "\n"
