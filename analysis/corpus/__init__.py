"""The synthetic demo corpus: a seeded generator of abdominal trauma CT reports and their guideline labels.

The hospital reports are private, so the repository ships synthetic ones, and
this package owns them: it assembles each report from structured choices (a
scenario in `scenarios`, injuries in `injuries`, impression statements in
`statements`, other findings in `findings`, the parts around them in `report`,
the institutional layout in `templates`; the records in `model`; the
extravasations that are not blood in `non_blood`), derives the
ground truth from what each impression statement claims (`truth`; the text is
never parsed back), and writes reports.csv, ground_truth.csv,
case_features.csv, evidence.csv and the corpus card (`card`). The same seed always gives
byte-identical files. It is standard library only, so the corpus can be
rebuilt without the pipeline's dependencies: of the project it imports only
`analysis.config` (the default output directory, in `__main__`) and
`analysis.data.vocabulary` (the labels and sites).

A corpus is a core of `n_reports` with the study's label mix, then an
extension of `n_extension` more (DEMO-0301 onwards in the demo corpus) with
kinds the core lacks: extravasation that is not blood, venous bleeding,
addenda that leave the question open. The extension is planned and shuffled
apart from the core, and each report's own generator depends only on the
seed and its number, so adding or resizing the extension leaves the core's
reports byte-identical.

    python -m analysis.corpus [--out data/demo] [--n 300] [--extension 90] [--seed 20240917]
"""

import csv
import datetime as dt
import random
from pathlib import Path

from analysis.corpus.card import corpus_card
from analysis.corpus.model import Case, Draft, Style
from analysis.corpus.scenarios import EXTENSION_QUOTAS, maybe_add_routine_addendum, scenario_plan
from analysis.corpus.templates import choose_template, render
from analysis.corpus.truth import evidence_of, hard_cases_of, label_of
from analysis.data.vocabulary import HAND_WRITTEN_SEPARATOR

DEFAULT_N_REPORTS = 300
DEFAULT_N_EXTENSION = 90
DEFAULT_SEED = 20240917

GRADE_FORMATS = ("AAST grade {roman}", "grade {roman}", "AAST grade {arabic}", "grade {arabic}")
DATE_FORMATS = ("%m/%d/%Y", "%m/%d/%Y", "%Y-%m-%d")
FIRST_EXAM_DAY = dt.datetime(2019, 1, 1)  # fixed, so no date comes from the clock


def new_draft(rng) -> Draft:
    sex = "male" if rng.random() < 0.65 else "female"
    age = int(rng.triangular(16, 92, 28))
    exam_time = FIRST_EXAM_DAY + dt.timedelta(days=rng.randrange(5 * 365), minutes=rng.randrange(24 * 60))
    return Draft(age=age, sex=sex, style=Style(rng.choice(GRADE_FORMATS), rng.choice(DATE_FORMATS)), exam_time=exam_time)


def generate(n_reports: int = DEFAULT_N_REPORTS, seed: int = DEFAULT_SEED, n_extension: int = DEFAULT_N_EXTENSION) -> list[Case]:
    """The corpus for a seed: `n_reports` in the core, then `n_extension`; the same arguments always give the same reports."""
    core = scenario_plan(n_reports)
    random.Random(seed).shuffle(core)
    extension = scenario_plan(n_extension, EXTENSION_QUOTAS)
    random.Random(f"{seed}:extension").shuffle(extension)
    cases = []
    for number, scenario in enumerate(core + extension, start=1):
        # One generator per report, seeded by a string (hashed with SHA-512, not
        # Python's salted hash), so each report depends only on the seed and its number.
        rng = random.Random(f"{seed}:{number}")
        draft = new_draft(rng)
        scenario(rng, draft)
        maybe_add_routine_addendum(rng, draft)
        template = choose_template(rng, draft)
        text = render(rng, draft, template)
        label, locations = label_of(draft)
        cases.append(
            Case(
                report_id=f"DEMO-{number:04d}",
                report_text=text,
                extravasation=label,
                locations=locations,
                evidence=evidence_of(draft, template.all_caps),
                template=template.name,
                hard_cases=hard_cases_of(draft, label, locations),
                seed=seed,
                in_extension=number > n_reports,
            )
        )
    return cases


def write_csv(path: Path, header: tuple[str, ...], rows) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write(cases: list[Case], out_dir: Path) -> None:
    """Write reports.csv, ground_truth.csv, case_features.csv, evidence.csv (one row per statement that makes a
    report Yes) and the corpus card README.md."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(out_dir / "reports.csv", ("report_id", "report_text"), ((case.report_id, case.report_text) for case in cases))
    write_csv(
        out_dir / "ground_truth.csv",
        ("report_id", "extravasation", "locations"),
        ((case.report_id, case.extravasation, HAND_WRITTEN_SEPARATOR.join(case.locations)) for case in cases),
    )
    write_csv(
        out_dir / "case_features.csv",
        ("report_id", "template", "hard_cases"),
        ((case.report_id, case.template, HAND_WRITTEN_SEPARATOR.join(case.hard_cases)) for case in cases),
    )
    write_csv(
        out_dir / "evidence.csv",
        ("report_id", "evidence"),
        ((case.report_id, text) for case in cases for text in case.evidence),
    )
    with (out_dir / "README.md").open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(corpus_card(cases))
