"""The synthetic demo corpus: deterministic, committed as generated, labeled by the guideline."""

import ast
import csv
import hashlib
import random
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

from analysis import corpus
from analysis.corpus.__main__ import main
from analysis.corpus.model import VASCULAR_ACTIVE, VENOUS
from analysis.corpus.scenarios import (
    scenario_hedged_addendum,
    scenario_non_blood_with_bleed,
    scenario_venous_and_arterial_bleed,
    scenario_venous_bleed,
)
from analysis.corpus.templates import TEMPLATES
from analysis.corpus.truth import HARD_CASES, label_of
from analysis.data.io import parse_list
from analysis.data.vocabulary import LABELS, LOCATIONS
from analysis.labeling.impression import extract_impression

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / "data" / "demo"
CORPUS_PACKAGE = ROOT / "analysis" / "corpus"
CORPUS_FILES = ("reports.csv", "ground_truth.csv", "case_features.csv", "evidence.csv", "README.md")
N_CORE, N_EXTENSION = corpus.DEFAULT_N_REPORTS, corpus.DEFAULT_N_EXTENSION
# The three CSV files as first published, before the extension: (bytes, SHA-256). The extension only
# appends rows, so each committed file must still begin with exactly these bytes.
CORE_FILES = {
    "reports.csv": (644396, "c32fa20da3b045dab01981b91711fc2bddc8c82a559930e5c43060f0ad6bc480"),
    "ground_truth.csv": (5566, "4c5f68ecaa06a521365063b0a7536af5699885155d1590fa4e9f030b1c8338ba"),
    "case_features.csv": (14650, "65864b3624ee8b254cd16043debe904bd3cb74878b825313ec39c457b0fa027c"),
}
# The extension's categories and the labels the guideline gives them; a non-blood leak is Yes only
# beside genuine bleeding elsewhere (non_blood_with_bleeding).
EXTENSION_CATEGORIES = {
    "urine_or_bladder_contrast": {"No", "Yes"},
    "bile_leak": {"No", "Yes"},
    "enteric_contrast_or_air": {"No", "Yes"},
    "drain_contrast": {"No"},
    "non_blood_with_bleeding": {"Yes"},
    "venous_bleeding": {"Yes"},
    "hedged_addendum": {"Undefined"},
}
NON_BLOOD_KINDS = ("urine_or_bladder_contrast", "bile_leak", "enteric_contrast_or_air", "drain_contrast", "non_blood_with_bleeding")
IMPRESSION_HEADER = re.compile(r"^\s*(impression|conclusion|findings/impression)\b", re.IGNORECASE | re.MULTILINE)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def cases():
    return corpus.generate()


@pytest.fixture(scope="module")
def reports():
    return read_csv(DEMO_DIR / "reports.csv")


@pytest.fixture(scope="module")
def truth():
    return read_csv(DEMO_DIR / "ground_truth.csv")


@pytest.fixture(scope="module")
def features():
    return read_csv(DEMO_DIR / "case_features.csv")


@pytest.fixture(scope="module")
def card():
    return (DEMO_DIR / "README.md").read_text(encoding="utf-8")


# ------------------------------------------------------------- determinism


def test_same_seed_gives_identical_cases(cases):
    assert corpus.generate() == cases


def test_another_seed_gives_other_reports_with_the_same_mix(cases):
    other = corpus.generate(seed=7)
    assert [case.report_text for case in other] != [case.report_text for case in cases]
    assert Counter(case.extravasation for case in other) == Counter(case.extravasation for case in cases)


def test_generation_leaves_the_global_random_state_alone():
    random.seed(12345)
    state = random.getstate()
    corpus.generate(n_reports=40, n_extension=12)
    assert random.getstate() == state


@pytest.mark.parametrize(("n_reports", "n_extension"), [(1, 0), (17, 5), (50, 13), (0, 20)])
def test_other_sizes_give_valid_corpora(n_reports, n_extension):
    generated = corpus.generate(n_reports=n_reports, seed=3, n_extension=n_extension)
    assert [case.report_id for case in generated] == [f"DEMO-{number:04d}" for number in range(1, n_reports + n_extension + 1)]
    assert [case.in_extension for case in generated] == [False] * n_reports + [True] * n_extension
    assert all(case.extravasation in LABELS for case in generated)


def test_the_extension_leaves_the_core_unchanged(cases):
    # Any extension size, none included, gives the same core reports.
    for n_extension in (0, 7):
        assert corpus.generate(n_extension=n_extension)[:N_CORE] == cases[:N_CORE]
    assert [case.in_extension for case in cases] == [False] * N_CORE + [True] * N_EXTENSION


def test_committed_files_equal_a_fresh_generation(tmp_path, cases):
    corpus.write(cases, tmp_path)
    for name in CORPUS_FILES:
        assert (tmp_path / name).read_bytes() == (DEMO_DIR / name).read_bytes(), name


def test_command_line_regenerates_the_committed_files(tmp_path, capsys):
    main(["--out", str(tmp_path), "--n", str(N_CORE), "--extension", str(N_EXTENSION), "--seed", str(corpus.DEFAULT_SEED)])
    assert f"{N_CORE + N_EXTENSION} reports" in capsys.readouterr().out
    for name in CORPUS_FILES:
        assert (tmp_path / name).read_bytes() == (DEMO_DIR / name).read_bytes(), name


def test_the_first_300_reports_are_byte_identical_to_those_first_published(tmp_path, capsys):
    for name, (size, digest) in CORE_FILES.items():
        assert hashlib.sha256((DEMO_DIR / name).read_bytes()[:size]).hexdigest() == digest, name
    # The core alone, generated without the extension, is the file first published, to the byte.
    main(["--out", str(tmp_path), "--extension", "0"])
    assert f"{N_CORE} reports" in capsys.readouterr().out
    for name, (size, digest) in CORE_FILES.items():
        written = (tmp_path / name).read_bytes()
        assert len(written) == size and hashlib.sha256(written).hexdigest() == digest, name


def test_files_use_unix_line_endings():
    for name in CORPUS_FILES:
        assert b"\r" not in (DEMO_DIR / name).read_bytes(), name


def test_generator_uses_only_the_standard_library_and_no_clock():
    trees = [ast.parse(path.read_text(encoding="utf-8")) for path in CORPUS_PACKAGE.glob("*.py")]
    nodes = [node for tree in trees for node in ast.walk(tree)]
    imported = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    project = {module for module in imported if module.split(".")[0] == "analysis"}
    assert {module.split(".")[0] for module in imported - project} <= set(sys.stdlib_module_names)
    # Of the project, only the output directory and the labels and sites: the pipeline's dependencies stay out.
    assert {module for module in project if not module.startswith("analysis.corpus")} == {"analysis.config", "analysis.data.vocabulary"}
    attributes = {node.attr for node in nodes if isinstance(node, ast.Attribute)}
    assert not attributes & {"now", "today", "utcnow", "time_ns"}


# ------------------------------------------------------------ the CSV files


def test_ids_are_unique_ordered_and_aligned(reports, truth, features):
    expected = [f"DEMO-{number:04d}" for number in range(1, N_CORE + N_EXTENSION + 1)]
    for rows in (reports, truth, features):
        assert [row["report_id"] for row in rows] == expected
    assert list(reports[0]) == ["report_id", "report_text"]
    assert list(truth[0]) == ["report_id", "extravasation", "locations"]
    assert list(features[0]) == ["report_id", "template", "hard_cases"]


def test_the_core_label_mix_matches_the_study(truth):
    labels = Counter(row["extravasation"] for row in truth[:N_CORE])
    assert set(labels) == set(LABELS)
    assert 121 <= labels["Yes"] <= 127  # the study had 123-125 positives among 300
    assert 9 <= labels["Undefined"] <= 18  # 3-6%
    assert labels["No"] == 300 - labels["Yes"] - labels["Undefined"]


def test_the_extension_holds_every_new_category_with_its_guideline_label(truth, features):
    label_of_report = {row["report_id"]: row["extravasation"] for row in truth}
    seen = {name: Counter() for name in EXTENSION_CATEGORIES}
    for row in features:
        names = parse_list(row["hard_cases"])
        if int(row["report_id"].removeprefix("DEMO-")) <= N_CORE:
            assert not set(names) & set(EXTENSION_CATEGORIES), row  # the core keeps the categories it was published with
            continue
        for name in set(names) & set(EXTENSION_CATEGORIES):
            seen[name][label_of_report[row["report_id"]]] += 1
        # Each new kind stays in its broad category too.
        if set(names) & set(NON_BLOOD_KINDS):
            assert "non_blood_extravasation" in names, row
            assert (label_of_report[row["report_id"]] == "Yes") == ("non_blood_with_bleeding" in names), row
        if "hedged_addendum" in names:
            assert "hedged" in names, row
    for name, labels in EXTENSION_CATEGORIES.items():
        assert set(seen[name]) == labels, name
    assert sum(seen["urine_or_bladder_contrast"].values()) >= 12
    assert sum(seen["bile_leak"].values()) >= 10
    assert sum(seen["enteric_contrast_or_air"].values()) >= 16
    assert sum(seen["venous_bleeding"].values()) >= 15
    assert sum(seen["hedged_addendum"].values()) >= 10


@pytest.mark.parametrize(
    ("scenario", "label"),
    [(scenario_non_blood_with_bleed, "Yes"), (scenario_venous_bleed, "Yes"), (scenario_venous_and_arterial_bleed, "Yes"), (scenario_hedged_addendum, "Undefined")],
)
def test_new_scenarios_give_the_guideline_label_and_only_the_bleeding_locations(scenario, label):
    for number in range(40):
        rng = random.Random(number)
        draft = corpus.new_draft(rng)
        scenario(rng, draft)
        found, locations = label_of(draft)
        assert found == label, (scenario.__name__, number)
        if label == "Yes":
            # Urine, bile, enteric contrast or air at another injury adds no location; a venous bleed does.
            bleeding = {injury.location for injury in draft.injuries if injury.vascular == VASCULAR_ACTIVE}
            assert set(locations) == bleeding, (scenario.__name__, number)
        if scenario in (scenario_venous_bleed, scenario_venous_and_arterial_bleed):
            assert any(injury.phrasing == VENOUS and injury.location in locations for injury in draft.injuries)


def test_locations_are_valid_present_only_for_yes_and_in_canonical_order(truth):
    for row in truth:
        locations = parse_list(row["locations"])
        assert bool(locations) == (row["extravasation"] == "Yes"), row
        assert set(locations) <= set(LOCATIONS), row
        assert locations == sorted(set(locations), key=LOCATIONS.index), row


def test_every_location_appears_and_the_main_sites_dominate(truth):
    locations = Counter(location for row in truth for location in parse_list(row["locations"]))
    assert set(locations) == set(LOCATIONS)
    assert {name for name, _ in locations.most_common(4)} == {"bowel", "spleen", "liver", "kidney"}
    assert sum(len(parse_list(row["locations"])) >= 2 for row in truth) >= 15


def test_every_hard_case_category_is_well_represented(features):
    counts = Counter(name for row in features for name in parse_list(row["hard_cases"]))
    assert set(counts) == set(HARD_CASES)
    for name in HARD_CASES:
        if name == "no_impression":
            assert 3 <= counts[name] <= 5
        else:
            assert counts[name] >= (5 if name == "drain_contrast" else 8), name
    for row in features:
        names = parse_list(row["hard_cases"])
        assert names == sorted(set(names), key=list(HARD_CASES).index), row


def test_hard_cases_agree_with_the_guideline_labels(truth, features):
    label_of = {row["report_id"]: row for row in truth}
    expected = {
        "negated": {"No"},
        "injury_without_extravasation": {"No"},
        "findings_only": {"No"},
        "prior_or_resolved": {"No"},
        "non_blood_extravasation": {"No", "Yes"},  # Yes only beside genuine bleeding elsewhere
        "pseudoaneurysm_or_contained": {"No"},
        "no_impression": {"Undefined"},
        "multi_site": {"Yes"},
        "multi_injury_single_bleed": {"Yes"},
        "mixed_sentence_negation": {"Yes"},
        "hedged": {"Undefined", "Yes"},  # Yes only when an addendum settles the hedge
        "post_embolization": {"Yes", "No"},
        "addendum_changes_conclusion": {"Yes", "No"},
    } | EXTENSION_CATEGORIES
    seen = {name: set() for name in expected}
    for row in features:
        truth_row = label_of[row["report_id"]]
        for name in parse_list(row["hard_cases"]):
            if name in expected:
                seen[name].add(truth_row["extravasation"])
        if "multi_site" in row["hard_cases"]:
            assert len(parse_list(truth_row["locations"])) >= 2
        if "multi_injury_single_bleed" in row["hard_cases"]:
            assert len(parse_list(truth_row["locations"])) == 1
    assert seen == expected


def test_several_templates_are_used(features):
    templates = Counter(row["template"] for row in features)
    assert set(templates) == {template.name for template in TEMPLATES}
    assert len(templates) >= 6
    assert min(templates.values()) >= 10


# ------------------------------------------------------- the report texts


def test_reports_are_whole_multiline_reports(reports):
    for row in reports:
        text = row["report_text"]
        assert text.count("\n") >= 10, row["report_id"]
        assert re.search(r"^(exam|examination|procedure)\b", text, re.IGNORECASE), row["report_id"]
        assert re.search(r"^\s*(findings|report|additional findings)\b", text, re.IGNORECASE | re.MULTILINE), row["report_id"]


def test_reports_have_an_impression_unless_they_are_meant_not_to(reports, features):
    hard_cases = {row["report_id"]: parse_list(row["hard_cases"]) for row in features}
    missing = []
    for row in reports:
        has_header = bool(IMPRESSION_HEADER.search(row["report_text"]))
        if "no_impression" not in hard_cases[row["report_id"]]:
            assert has_header, row["report_id"]
        elif not has_header:
            missing.append(row["report_id"])
    assert missing, "some no_impression report should be truncated before any impression"


NON_BLOOD_WORDS = {
    "urine_or_bladder_contrast": ("urin", "excreted", "cystogra", "bladder"),
    "bile_leak": ("bile", "bilom", "biliary"),
    "enteric_contrast_or_air": ("oral contrast", "rectal contrast", "enteric contrast", "air", "gas"),
    "drain_contrast": ("drain",),
}


def test_texts_loosely_match_their_labels(reports, truth, features):
    """A sanity check from outside: the labels themselves never come from the text."""
    text_of = {row["report_id"]: row["report_text"].lower() for row in reports}
    hard_cases = {row["report_id"]: parse_list(row["hard_cases"]) for row in features}
    bleeding_words = ("extravasat", "active bleeding", "active hemorrhage", "active arterial")
    hedge_words = ("possibl", "questionable", "cannot be excluded", "cannot exclude", "versus", "indeterminate", "equivocal", "not diagnostic")
    for row in truth:
        text = text_of[row["report_id"]]
        if row["extravasation"] == "Yes":
            assert any(word in text for word in bleeding_words), row["report_id"]
        if row["extravasation"] == "Yes" and "blush_without_word" in hard_cases[row["report_id"]]:
            assert "blush" in text and "extravasat" not in text, row["report_id"]
        if "hedged" in hard_cases[row["report_id"]]:
            assert any(word in text for word in hedge_words), row["report_id"]
        if "addendum_changes_conclusion" in hard_cases[row["report_id"]]:
            assert "addendum" in text, row["report_id"]
        if "hedged_addendum" in hard_cases[row["report_id"]]:
            addendum = text[text.index("addendum") :]
            assert any(word in addendum for word in hedge_words), row["report_id"]
        if "venous_bleeding" in hard_cases[row["report_id"]]:
            assert "venous" in text, row["report_id"]
        for name, words in NON_BLOOD_WORDS.items():
            if name in hard_cases[row["report_id"]]:
                assert any(word in text for word in words), (name, row["report_id"])


def test_reports_use_many_templates_of_wording(reports):
    sentences = Counter(sentence for row in reports for sentence in re.split(r"(?<=\.)\s+", row["report_text"]) if "extravasat" in sentence.lower())
    assert len(sentences) >= 150


# ---------------------------------------------------------- the corpus card


def card_tables(card: str) -> dict[str, dict[str, int]]:
    tables = {}
    for block in re.split(r"^## ", card, flags=re.MULTILINE)[1:]:
        title = block.splitlines()[0]
        tables[title] = {match[1]: int(match[2]) for match in re.finditer(r"^\| ([^|]+?) \| (\d+) \|", block, re.MULTILINE)}
    return tables


def table(tables: dict[str, dict[str, int]], prefix: str) -> dict[str, int]:
    (title,) = [title for title in tables if title.startswith(prefix)]
    return tables[title]


def test_card_numbers_match_the_csvs(card, truth, features):
    tables = card_tables(card)
    labels = Counter(row["extravasation"] for row in truth)
    locations = Counter(location for row in truth for location in parse_list(row["locations"]))
    hard_cases = Counter(name for row in features for name in parse_list(row["hard_cases"]))
    templates = Counter(row["template"] for row in features)
    assert table(tables, "Stage 1 labels") == dict(labels)
    assert table(tables, "Stage 2 locations") == dict(locations)
    assert table(tables, "Hard cases") == dict(hard_cases)
    assert table(tables, "Templates") == dict(templates)
    for label, count in labels.items():
        assert f"| {label} | {count} | {100 * count / len(truth):.1f}% |" in card
    assert f"- Reports: {len(truth)} ({N_CORE} in the core, {N_EXTENSION} in the extension)" in card
    core_labels = Counter(row["extravasation"] for row in truth[:N_CORE])
    extension_labels = Counter(row["extravasation"] for row in truth[N_CORE:])
    for label in LABELS:
        assert f"| {label} | {core_labels[label]} | {extension_labels[label]} |" in card
    assert f"({labels['Yes']} Yes reports" in card
    multi_site = sum(len(parse_list(row["locations"])) >= 2 for row in truth)
    assert f"Multi-site reports (two or more locations): {multi_site}" in card


def test_card_says_what_the_corpus_is_and_how_to_rebuild_it(card):
    assert "synthetic" in card
    assert "no real patient" in card
    assert "labeling guideline" in card
    assert f"- Seed: {corpus.DEFAULT_SEED}" in card
    assert f"`python -m analysis.corpus --out data/demo --n 300 --extension 90 --seed {corpus.DEFAULT_SEED}`" in card
    assert "## The extension (DEMO-0301 to DEMO-0390)" in card
    assert "Categories only the extension has: " + ", ".join(name for name in HARD_CASES if name in EXTENSION_CATEGORIES) + "." in card


def test_every_yes_report_has_its_evidence_verbatim_in_its_impression_and_no_other_report_has_any():
    """evidence.csv: the statements whose claims make a report Yes, as typed; the addendum's where it decides."""
    evidence = read_csv(DEMO_DIR / "evidence.csv")
    reports = {row["report_id"]: row["report_text"] for row in read_csv(DEMO_DIR / "reports.csv")}
    labels = {row["report_id"]: row["extravasation"] for row in read_csv(DEMO_DIR / "ground_truth.csv")}
    by_report: dict[str, list[str]] = {}
    for row in evidence:
        by_report.setdefault(row["report_id"], []).append(row["evidence"])
    assert set(by_report) == {report_id for report_id, label in labels.items() if label == "Yes"}
    for report_id, statements in by_report.items():
        impression = extract_impression(reports[report_id]).text
        assert all(statement and statement in impression for statement in statements), report_id
