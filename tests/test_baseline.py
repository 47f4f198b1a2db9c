"""The rule-based baseline (medspaCy target rules and ConText); no model server involved."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from analysis.config import DEMO_DIR
from analysis.data.io import read_reports, read_truth
from analysis.data.vocabulary import BASELINE, LOCATIONS
from analysis.evaluation.metrics import RULES_UNGATED, binary_metrics, table1b
from analysis.labeling.baseline import (
    RULES_FILE,
    RuleError,
    build_pipeline,
    label_impression,
    label_with_rules,
    read_rules,
    with_added_rules,
)
from analysis.labeling.inputs import prompt_inputs
from analysis.labeling.session import Session
from analysis.labeling.labels import COLUMNS, read_labels
from analysis.specs import Bootstrap, SpecError, load_run

# Measured on the 390-report demo corpus with rules version 1.2.0: stage-1 F1
# 1.000 and every location's F1 1.000. The rules were written while reading that
# corpus, so these are training-set figures; the floors leave room for a rule
# change that trades one demo report for generality, not for a broken rule file.
DEMO_STAGE1_F1_FLOOR = 0.97
DEMO_LOCATION_F1_FLOOR = 0.90


def label(text: str) -> tuple[str, str]:
    result = label_impression(text)
    return result.extravasation, ";".join(result.locations)


@pytest.mark.parametrize(
    "text",
    [
        "No active extravasation.",
        "Grade II splenic laceration without evidence of active contrast extravasation.",
        "Negative for active extravasation.",
        "NO ACTIVE HEMORRHAGE.",
        "Grade 4 splenic laceration with a pseudoaneurysm measuring 9 mm.",
        "Contrast blush without extravasation on delayed images, consistent with pseudoaneurysm.",
        "Moderate hemoperitoneum. Grade 3 liver laceration.",
    ],
)
def test_negated_or_absent_extravasation_and_pseudoaneurysm_alone_are_no(text):
    assert label(text) == ("No", "")


@pytest.mark.parametrize(
    "text",
    [
        "Cannot exclude active extravasation.",
        "Active extravasation from an intrasplenic arterial branch cannot be excluded.",
        "Questionable focus of active extravasation within the mesenteric hematoma.",
        "A punctate hyperdense focus that may represent active extravasation versus pseudoaneurysm.",
        "Subtle focus suspicious for, but not diagnostic of, active extravasation.",
    ],
)
def test_hedged_extravasation_is_undefined(text):
    assert label(text) == ("Undefined", "")


@pytest.mark.parametrize(
    "text",
    [
        "Previously seen active extravasation has resolved.",
        "The active extravasation reported on the outside hospital CT is not seen on this examination.",
        "Grade 2 liver laceration, with resolution of the previously seen contrast extravasation.",
        "Previously reported active bleeding from the liver is no longer demonstrated.",
    ],
)
def test_extravasation_on_a_prior_study_is_no(text):
    assert label(text) == ("No", "")


@pytest.mark.parametrize(
    "text",
    [
        "Extravasation of oral contrast consistent with bowel perforation.",
        "Urine extravasation from the renal collecting system.",
        "Grade 4 renal laceration with extravasation of excreted contrast from the collecting system.",
        "Extraperitoneal bladder rupture with extravasation of contrast-opacified urine into the perivesical space.",
        "Contrast infiltration (extravasation) at the right forearm IV site.",
    ],
)
def test_extravasation_of_something_other_than_blood_is_no(text):
    assert label(text) == ("No", "")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Grade IV splenic laceration with active extravasation.", ("Yes", "spleen")),
        ("active extravasation from the splenic laceration; no active extravasation from the liver",
         ("Yes", "spleen")),
        ("No active bleeding from the liver, but active extravasation of IV contrast is present within the left renal "
         "laceration.", ("Yes", "kidney")),
        ("Active arterial bleeding is seen within the mesenteric hematoma but not within the right rectus sheath "
         "hematoma.", ("Yes", "bowel")),
        ("AAST grade 4 right renal laceration with a large focus of active contrast extravasation, and AAST grade 1 "
         "splenic laceration without active bleeding.", ("Yes", "kidney")),
        ("Grade IV right renal laceration with arterial contrast extravasation beyond Gerota's fascia into the "
         "retroperitoneum.", ("Yes", "kidney")),
        ("Right proximal thigh hematoma. There is arterial contrast extravasation from a branch of the right profunda "
         "femoris artery.", ("Yes", "gluteal/thigh")),
        ("Brisk active extravasation from a right L2 lumbar artery in the setting of a right iliopsoas hematoma.",
         ("Yes", "retroperitoneal")),
        ("Compared with the previous CT, there is new active extravasation from the spleen.", ("Yes", "spleen")),
        ("No interval change in the active extravasation from the spleen.", ("Yes", "spleen")),
    ],
)
def test_positive_mentions_take_the_sites_of_their_own_clause(text, expected):
    assert label(text) == expected


def test_every_site_of_a_multi_site_mention_is_reported_in_canonical_order():
    text = ("Multifocal active extravasation: the right flank muscle hematoma, the right gluteal hematoma and the "
            "ileocolic mesentery.\nAAST grade 4 splenic laceration with active contrast extravasation.\n"
            "Pelvic ring fractures with extraperitoneal pelvic hematoma, complicated by active hemorrhage.")
    assert label(text) == ("Yes", "bowel;spleen;abdominal wall;gluteal/thigh;other")


def test_list_items_keep_their_sites_apart():
    text = ("• AAST grade 5 splenic laceration, complicated by active arterial bleeding.\n"
            "• Left lower chest wall hematoma with displaced rib fractures.\n"
            "• AAST grade 3 hepatic laceration. No active bleeding from the liver.")
    assert label(text) == ("Yes", "spleen")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1. Grade 4 splenic laceration, complicated by active contrast extravasation.\n\nAddendum (12/27/2020):\n"
         "On review, the focus represents streak artifact and not active extravasation.", ("No", "")),
        ("Grade 2 splenic injury without active hemorrhage.\n\n*** ADDENDUM ***\nDelayed images show active arterial "
         "bleeding from a segmental splenic artery branch.", ("Yes", "spleen")),
        ("IMPRESSION: No active extravasation.\n\nADDENDUM: On review, active extravasation from the spleen.",
         ("Yes", "spleen")),
        ("Grade IV hepatic laceration with active arterial extravasation.\n\nADDENDUM:\nCoronal reformations were "
         "reviewed. No change to the impression.\nAddendum electronically signed by A. Reader, MD.", ("Yes", "liver")),
    ],
)
def test_an_addendum_that_mentions_extravasation_decides(text, expected):
    assert label(text) == expected


def test_findings_appended_to_a_combined_impression_are_not_read():
    text = ("1. Right retroperitoneal hematoma.\n\nAdditional findings:\nPeritoneum and retroperitoneum: a contrast "
            "blush enlarges on delayed images, consistent with active hemorrhage.")
    assert label(text) == ("No", "")


def test_label_with_rules_gives_every_input_row_once_in_the_label_columns():
    inputs = pd.DataFrame({
        "report_id": ["r1", "r2", "r3", "r4"],
        "prompt_text": pd.Series(["Splenic laceration with active extravasation.", None, "No active extravasation.",
                                  "Cannot exclude active extravasation."], dtype=object),
        "reason": ["", "no impression section", "", ""],
    })
    labels = label_with_rules(inputs)
    assert list(labels.columns) == COLUMNS
    assert labels.report_id.tolist() == ["r1", "r2", "r3", "r4"]
    assert set(labels.model) == {BASELINE}
    assert labels.p_yes.map(math.isnan).all()
    assert labels.extravasation.tolist() == ["Yes", "Undefined", "No", "Undefined"]
    assert labels.locations.tolist() == [["spleen"], [], [], []]
    assert labels.reasons.tolist() == [[], ["no impression section"], [], ["the rules found only a hedged mention of extravasation"]]


def test_the_rule_file_loads_with_a_version_and_sites_for_every_location():
    rules = read_rules()
    assert rules.path == RULES_FILE
    assert rules.version == yaml.safe_load(RULES_FILE.read_text())["version"]
    assert set(rules.site_of_category.values()) == set(LOCATIONS)
    assert build_pipeline(rules).pipe_names == ["medspacy_pyrush", "medspacy_target_matcher", "medspacy_context"]


def _write_rules(tmp_path, change) -> Path:
    spec = yaml.safe_load(RULES_FILE.read_text())
    change(spec)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.mark.parametrize(
    "change, complaint",
    [
        (lambda spec: spec.pop("version"), "'version' is a required property"),
        (lambda spec: spec["sites"].update({"pancreas": ["pancreas"]}), "'pancreas' is not one of"),
        (lambda spec: spec["context"].append({"literal": "maybe", "category": "MAYBE", "direction": "FORWARD"}),
         "'MAYBE' is not one of"),
        (lambda spec: spec["sections"].update({"item_break": "(unclosed"}), "bad regular expression"),
    ],
)
def test_a_malformed_rule_file_fails_naming_the_file(tmp_path, change, complaint):
    path = _write_rules(tmp_path, change)
    with pytest.raises(RuleError, match="broken.yaml") as error:
        read_rules(path)
    assert complaint in str(error.value)


def test_a_missing_or_unparsable_rule_file_fails_naming_the_file(tmp_path):
    with pytest.raises(RuleError, match="absent.yaml"):
        read_rules(tmp_path / "absent.yaml")
    unparsable = tmp_path / "unparsable.yaml"
    unparsable.write_text("version: [1.0\n")
    with pytest.raises(RuleError, match="unparsable.yaml"):
        read_rules(unparsable)


def test_a_rule_with_an_invalid_spacy_pattern_fails_naming_the_file(tmp_path):
    path = _write_rules(tmp_path, lambda spec: spec["targets"].append({"literal": "x", "pattern": [{"NOT_AN_ATTR": 1}]}))
    with pytest.raises(RuleError, match="broken.yaml"):
        build_pipeline(read_rules(path))


def test_the_rules_reach_their_measured_f1_on_the_demo_corpus():
    reports = read_reports(DEMO_DIR / "reports.csv")
    truth = read_truth(DEMO_DIR / "ground_truth.csv")
    labels = label_with_rules(prompt_inputs(reports, load_run("embedded")))
    assert labels.report_id.tolist() == reports.report_id.tolist()
    paired = truth.merge(labels, on="report_id", suffixes=("_true", "_rules"), validate="one_to_one")
    stage1 = binary_metrics(paired.extravasation_rules, paired.extravasation_true)
    assert stage1["f1"] >= DEMO_STAGE1_F1_FLOOR, stage1
    sites = table1b(labels, truth, gate=BASELINE, cut=0.5, bootstrap=Bootstrap(resamples=100))
    own_sites = sites[sites.design == RULES_UNGATED]
    assert set(own_sites.location) == set(LOCATIONS)
    assert (own_sites.f1 >= DEMO_LOCATION_F1_FLOOR).all(), own_sites[["location", "f1", "support", "predicted"]]


def test_the_baseline_alone_runs_from_the_command_line_with_no_llm_server(tmp_path, monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")  # discard port: nothing listens
    reports = tmp_path / "reports.csv"
    pd.DataFrame({"report_id": ["a", "b", "c"], "report_text": [
        "IMPRESSION: Grade IV splenic laceration with active contrast extravasation.",
        "IMPRESSION: Previously seen extravasation has resolved.",
        "CT ABDOMEN\nFINDINGS: Normal.",
    ]}).to_csv(reports, index=False)
    result = subprocess.run([sys.executable, "-m", "analysis", "label", "--reports", str(reports), "--models", "rules",
                             "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache.sqlite")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    labels = read_labels(tmp_path / "out" / "labels.csv")
    assert labels[["report_id", "model", "extravasation", "locations", "reasons"]].values.tolist() == [
        ["a", "rules", "Yes", ["spleen"], []], ["b", "rules", "No", [], []], ["c", "rules", "Undefined", [], ["no impression section"]],
    ]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["server"] is None and manifest["baseline"] == {"rule_file": "extravasation.yaml", "version": read_rules().version}


def test_a_run_without_a_baseline_refuses_rules_by_name():
    run = load_run("embedded").model_copy(update={"baseline": None})
    with pytest.raises(SpecError, match="no model"):
        Session(run, models=["rules"])


def test_trying_a_rule_leaves_the_file_alone_and_changes_the_label():
    text = "Active extravasation within the omentum."
    rules = read_rules()
    trial = with_added_rules(rules, sites={"other": ["omentum"]})
    assert label_impression(text, rules).locations == ()
    assert label_impression(text, trial).locations == ("other",)
    assert trial.version == rules.version + "+trial" and read_rules().spec == rules.spec
