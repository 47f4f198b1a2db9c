"""The synthetic demo corpus: a seeded generator of abdominal trauma CT reports and their guideline labels.

The hospital reports are private, so the repository ships synthetic ones, and
this package owns them: it assembles each report from structured choices (a
scenario in `scenarios`, injuries in `injuries`, impression statements in
`statements`, other findings in `findings`, the parts around them in `report`,
the institutional layout in `templates`; the records in `model`), derives the
ground truth from what each impression statement claims (`truth`; the text is
never parsed back), and writes reports.csv, ground_truth.csv,
case_features.csv and the corpus card (`card`). The same seed always gives
byte-identical files. It is standard library only, so the corpus can be
rebuilt without the pipeline's dependencies: of the project it imports only
`analysis.config` (the default output directory, in `__main__`) and
`analysis.data.vocabulary` (the labels and sites).

    python -m analysis.data.corpus [--out data/demo] [--n 300] [--seed 20240917]
"""

import csv
import datetime as dt
import random
from pathlib import Path

from analysis.data.corpus.card import corpus_card
from analysis.data.corpus.model import Case, Draft, Style
from analysis.data.corpus.scenarios import maybe_add_routine_addendum, scenario_plan
from analysis.data.corpus.templates import choose_template, render
from analysis.data.corpus.truth import hard_cases_of, label_of
from analysis.data.vocabulary import join_locations

DEFAULT_N_REPORTS = 300
DEFAULT_SEED = 20240917

GRADE_FORMATS = ("AAST grade {roman}", "grade {roman}", "AAST grade {arabic}", "grade {arabic}")
DATE_FORMATS = ("%m/%d/%Y", "%m/%d/%Y", "%Y-%m-%d")
FIRST_EXAM_DAY = dt.datetime(2019, 1, 1)  # fixed, so no date comes from the clock


def new_draft(rng) -> Draft:
    sex = "male" if rng.random() < 0.65 else "female"
    age = int(rng.triangular(16, 92, 28))
    exam_time = FIRST_EXAM_DAY + dt.timedelta(days=rng.randrange(5 * 365), minutes=rng.randrange(24 * 60))
    return Draft(age=age, sex=sex, style=Style(rng.choice(GRADE_FORMATS), rng.choice(DATE_FORMATS)), exam_time=exam_time)


def generate(n_reports: int = DEFAULT_N_REPORTS, seed: int = DEFAULT_SEED) -> list[Case]:
    """The corpus for a seed; the same seed always gives the same reports."""
    plan = scenario_plan(n_reports)
    random.Random(seed).shuffle(plan)
    cases = []
    for number, scenario in enumerate(plan, start=1):
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
                template=template.name,
                hard_cases=hard_cases_of(draft, label, locations),
                seed=seed,
            )
        )
    return cases


def write_csv(path: Path, header: tuple[str, ...], rows) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write(cases: list[Case], out_dir: Path) -> None:
    """Write reports.csv, ground_truth.csv, case_features.csv and the corpus card README.md."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(out_dir / "reports.csv", ("report_id", "report_text"), ((case.report_id, case.report_text) for case in cases))
    write_csv(
        out_dir / "ground_truth.csv",
        ("report_id", "extravasation", "locations"),
        ((case.report_id, case.extravasation, join_locations(case.locations)) for case in cases),
    )
    write_csv(
        out_dir / "case_features.csv",
        ("report_id", "template", "hard_cases"),
        ((case.report_id, case.template, ";".join(case.hard_cases)) for case in cases),
    )
    with (out_dir / "README.md").open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(corpus_card(cases))
