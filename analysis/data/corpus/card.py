"""The corpus card, `README.md` beside the CSV files: what the corpus is, how to rebuild it, and its counts."""

from collections import Counter

from analysis.data.corpus.model import Case
from analysis.data.corpus.templates import TEMPLATES
from analysis.data.corpus.truth import HARD_CASES
from analysis.data.vocabulary import LABELS, LOCATIONS, POSITIVE


def regenerate_command(n_reports: int, seed: int) -> str:
    return f"python -m analysis.data.corpus --out data/demo --n {n_reports} --seed {seed}"


def corpus_card(cases: list[Case]) -> str:
    """The corpus card: every number in it is counted from the cases."""
    seeds = sorted({case.seed for case in cases})
    if len(seeds) != 1:
        raise ValueError(f"cases come from several seeds: {seeds}")
    total = len(cases)
    labels = Counter(case.extravasation for case in cases)
    locations = Counter(location for case in cases for location in case.locations)
    multi_site = sum(len(case.locations) >= 2 for case in cases)
    hard_cases = Counter(name for case in cases for name in case.hard_cases)
    templates = Counter(case.template for case in cases)
    positives = labels[POSITIVE]

    lines = [
        "# Demo corpus: synthetic abdominal trauma CT reports",
        "",
        "**These reports are synthetic.** The package `analysis/data/corpus/` wrote them from templates,",
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
        f"- Reports: {total}",
        f"- Seed: {seeds[0]}",
        f"- Regenerate (byte-identical): `{regenerate_command(total, seeds[0])}`",
        "",
        "## Files",
        "",
        "| file | columns | content |",
        "|---|---|---|",
        "| `reports.csv` | report_id, report_text | the whole report, multi-line |",
        "| `ground_truth.csv` | report_id, extravasation, locations | `Yes`/`No`/`Undefined`; locations `;`-separated, only for `Yes` |",
        "| `case_features.csv` | report_id, template, hard_cases | institutional template; hard-case categories, `;`-separated |",
        "| `split.csv` | report_id, split | `dev` or `test`; drawn by `python -m analysis split`, not by this generator |",
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
        "| category | reports | meaning |",
        "|---|---:|---|",
    ]
    lines += [f"| {name} | {hard_cases[name]} | {meaning} |" for name, meaning in HARD_CASES.items()]
    lines += [
        "",
        "## Templates",
        "",
        "| template | reports | layout |",
        "|---|---:|---|",
    ]
    lines += [f"| {template.name} | {templates[template.name]} | {template.description} |" for template in TEMPLATES]
    return "\n".join(lines) + "\n"
