"""The development/test split, the stage-1 prompt variants, and decisions from p_yes.

The statistics tests build labels by hand (no model): they test the
comparison code, not a model. The command-line tests ask the real embedded
server with a real small model.
"""

import hashlib
import json
import sqlite3
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from analysis.__main__ import main as analysis_main
from analysis.config import DEMO_DIR
from analysis.data.io import DataError, read_case_features, read_reports, read_split, read_truth, write_table
from analysis.data.split import ALL, assign_split, evaluated, extend_split, make_split
from analysis.data.vocabulary import DEV, TEST
from analysis.evaluation.thresholds import best_threshold, decide_by_threshold, threshold_table
from analysis.evaluation.variants import compare_variants
from analysis.labeling.inputs import prompt_inputs
from analysis.llm.asking import build_request, spare_tokens
from analysis.specs import Bootstrap, SpecError, load_run, load_task, stage1_task_name
from tests.conftest import SMALL_MODEL
from tests.frames import labels_frame

VARIANTS = ["zeroshot", "guideline", "fewshot"]
FAST = Bootstrap(resamples=200, seed=1)


@pytest.fixture(scope="module")
def demo():
    truth = read_truth(DEMO_DIR / "ground_truth.csv")
    return truth, read_split(DEMO_DIR / "split.csv")


# The split of the first 300 demo reports as first published: its bytes and SHA-256. Extending it
# only adds rows after DEMO-0300, so the committed split must still begin with exactly these bytes.
FIRST_SPLIT_BYTES, FIRST_SPLIT_SHA256 = 5620, "e6ebc2967230ba5b465d2c02020d5c851c9d285456c0fde18356e1bcd0aca3f0"


def first_split(truth: pd.DataFrame) -> pd.DataFrame:
    """The split of the core's 300 reports, drawn as it was before the corpus grew."""
    return make_split(truth.iloc[:300], dev_size=100, seed=20240917)


def test_the_committed_split_is_redrawn_byte_for_byte_and_covers_every_report_once(demo, tmp_path):
    truth, split = demo
    write_table(extend_split(truth, first_split(truth), seed=20240917), tmp_path / "split.csv")
    assert (tmp_path / "split.csv").read_bytes() == (DEMO_DIR / "split.csv").read_bytes()
    assert sorted(split.report_id) == sorted(truth.report_id)
    assert split.split.value_counts().to_dict() == {TEST: 260, DEV: 130}


def test_the_split_command_extends_the_first_split_to_the_committed_one(demo, tmp_path):
    truth, _ = demo
    write_table(first_split(truth), tmp_path / "first.csv")
    assert analysis_main(["split", "--extend", str(tmp_path / "first.csv"), "--out", str(tmp_path / "split.csv")]) == 0
    assert (tmp_path / "split.csv").read_bytes() == (DEMO_DIR / "split.csv").read_bytes()


def test_extending_the_split_keeps_the_first_300_reports_parts(demo):
    truth, split = demo
    committed = (DEMO_DIR / "split.csv").read_bytes()
    assert hashlib.sha256(committed[:FIRST_SPLIT_BYTES]).hexdigest() == FIRST_SPLIT_SHA256
    first = first_split(truth)
    assert split.iloc[:300].reset_index(drop=True).equals(first)


def test_extending_a_split_draws_parts_only_for_new_reports_with_its_development_share():
    labels = ["Yes", "No", "No", "Yes", "No", "Undefined"] * 15
    truth = pd.DataFrame({"report_id": [f"r{i:03d}" for i in range(90)], "extravasation": labels, "locations": ""})
    # Parts no draw would give (the first 20 in dev, ignoring the labels) must survive as they are.
    listed = pd.DataFrame({"report_id": truth.report_id[:60], "split": [DEV] * 20 + [TEST] * 40})
    extended = extend_split(truth, listed, seed=1)
    assert extended.report_id.tolist() == truth.report_id.tolist()
    assert extended.iloc[:60].equals(listed)
    new = extended.iloc[60:].merge(truth)
    assert (new.split == DEV).sum() == 10  # a third, as in the listed split
    assert new.groupby("extravasation").split.apply(lambda parts: (parts == DEV).sum()).to_dict() == {"No": 5, "Undefined": 2, "Yes": 3}
    assert extend_split(truth, extended, seed=2).equals(extended)  # nothing new: nothing drawn
    with pytest.raises(DataError, match="empty split"):
        extend_split(truth, listed.iloc[0:0], seed=1)


def test_the_extended_split_puts_each_new_category_in_both_parts(demo):
    _, split = demo
    features = read_case_features(DEMO_DIR / "case_features.csv").merge(split)
    new = features[features.report_id > "DEMO-0300"]
    for category in ("urine_or_bladder_contrast", "bile_leak", "enteric_contrast_or_air", "drain_contrast",
                     "non_blood_with_bleeding", "venous_bleeding", "hedged_addendum"):
        parts = new.split[[category in names for names in new.hard_cases]]
        assert len(parts) >= 6 and set(parts) == {DEV, TEST}, category


def test_the_split_keeps_the_labels_proportions_in_both_parts(demo):
    truth, split = demo
    shares = truth.merge(split).groupby("split").extravasation.value_counts(normalize=True).unstack()
    assert (shares.loc[DEV] - shares.loc[TEST]).abs().max() < 0.02


def test_a_bad_split_file_is_a_clear_error(tmp_path):
    path = tmp_path / "split.csv"
    pd.DataFrame({"report_id": ["a", "b"], "split": ["dev", "train"]}).to_csv(path, index=False)
    with pytest.raises(DataError, match="split must be 'dev' or 'test'; found \\['train'\\]"):
        read_split(path)
    pd.DataFrame({"report_id": ["a", "a"], "split": ["dev", "test"]}).to_csv(path, index=False)
    with pytest.raises(DataError, match="listed twice"):
        read_split(path)


def test_every_report_gets_a_part_or_none_is_lost(demo):
    _, split = demo
    ids = pd.Series(["DEMO-0001", "DEMO-0084"])
    assert assign_split(ids, split).tolist() == [TEST, DEV]
    assert evaluated(assign_split(ids, split)) == TEST
    assert assign_split(ids, None).tolist() == [ALL, ALL] and evaluated(assign_split(ids, None)) == ALL
    with pytest.raises(DataError, match="no part for 1 report"):
        assign_split(pd.Series(["DEMO-0001", "not-in-the-split"]), split)


def test_variant_names_and_files():
    assert [stage1_task_name(v) for v in VARIANTS] == [f"extravasation_{v}" for v in VARIANTS]
    assert stage1_task_name("extravasation_location") == "extravasation_location"
    with pytest.raises(SpecError, match="available: .*extravasation_fewshot"):
        load_task(stage1_task_name("chain_of_thought"))
    tasks = [load_task(stage1_task_name(v)) for v in VARIANTS]
    assert {t.decision for t in tasks} == {"first_token"}
    assert all(t.answers == ["Yes", "No", "Undefined"] for t in tasks)
    # Different prompts for the same impression: each variant has its own cache keys.
    prompts = {t.messages("Grade 2 splenic laceration.")[0]["content"] for t in tasks}
    assert len(prompts) == 3 and all(p.endswith("IMPRESSION:\nGrade 2 splenic laceration.") for p in prompts)


def test_every_variant_sends_every_demo_impression_within_its_context():
    # The byte bound of asking.spare_tokens decides whether a prompt is sent: a prompt too long for it
    # would be Undefined for that variant only, and the comparison would not be like for like.
    run = load_run("embedded")
    impressions = prompt_inputs(read_reports(DEMO_DIR / "reports.csv"), run).prompt_text.dropna()
    for variant in VARIANTS:
        task = load_task(stage1_task_name(variant))
        for tag in run.tags:
            options = run.options_for(tag, task)
            assert min(spare_tokens(build_request(tag, task, text, options)) for text in impressions) >= 0, (variant, tag)


def test_the_guideline_variant_states_what_is_not_active_extravasation():
    template = load_task("extravasation_guideline").template
    for phrase in ("pseudoaneurysm", "contained vascular injury", "oral contrast", "urine", "IV injection site",
                   "prior", "cannot exclude", "addendum"):
        assert phrase in template


def test_fewshot_examples_come_from_development_reports_with_their_ground_truth(demo):
    truth, split = demo
    task = load_task("extravasation_fewshot")
    assert len(task.examples) >= 4 and {e.answer for e in task.examples} == {"Yes", "No", "Undefined"}
    parts = split.set_index("report_id").split
    impressions = prompt_inputs(read_reports(DEMO_DIR / "reports.csv"), load_run("embedded")).set_index("report_id").prompt_text
    answers = truth.set_index("report_id").extravasation
    for example in task.examples:
        assert parts[example.source] == DEV, f"{example.source} is not in the development split"
        assert example.impression in impressions[example.source]
        assert example.answer == answers[example.source]
    prompt = task.messages("the report")[0]["content"]
    assert all(example.impression in prompt for example in task.examples)


def test_an_example_with_an_answer_outside_the_task_is_refused(tmp_path):
    text = (load_task("extravasation_fewshot").model_dump(by_alias=True, mode="json"))
    text["examples"][0]["answer"] = "Maybe"
    (tmp_path / "bad.yaml").write_text(json.dumps(text))
    with pytest.raises(SpecError, match="answer outside"):
        load_task("bad", tmp_path)


# ---- statistics around the model (hand-made labels, no model) ----

def _labels(model: str, answers: list[str], scores: list[float | None] | None = None) -> pd.DataFrame:
    ids = [f"r{i}" for i in range(len(answers))]
    return labels_frame(zip(ids, [model] * len(ids), answers, [""] * len(ids), scores or [None] * len(ids), [""] * len(ids)))


def _truth(answers: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"report_id": [f"r{i}" for i in range(len(answers))], "extravasation": answers, "locations": ""})


def test_best_threshold_maximises_f1_and_counts_a_missing_score_as_no():
    actual = np.array([True, True, False, False, True])
    assert best_threshold([0.9, 0.6, 0.5, 0.1, np.nan], actual) == 0.6
    assert best_threshold([0.9, 0.8, 0.3, 0.2, 0.7], actual) == 0.7  # perfect split: the lowest positive's score
    assert best_threshold([0.5, 0.5, 0.5, 0.5, 0.5], actual) == 0.5
    assert np.isnan(best_threshold([0.9, 0.2], np.array([False, False])))  # no positive: no cut
    assert np.isnan(best_threshold([np.nan, np.nan], np.array([True, False])))  # no score: no cut
    assert decide_by_threshold(pd.DataFrame({"p_yes": [0.7, 0.69, np.nan]}), 0.7).tolist() == ["Yes", "No", "No"]


def test_identical_variants_differ_by_exactly_zero_and_f1_matches_scikit_learn():
    truth = _truth(["Yes", "No", "Yes", "No", "Undefined", "Yes"])
    zeroshot = _labels("m", ["Yes", "Yes", "No", "No", "Yes", "Yes"])
    better = _labels("m", ["Yes", "No", "Yes", "No", "Undefined", "Yes"])
    table = compare_variants({"zeroshot": zeroshot, "copy": zeroshot, "better": better}, truth, FAST)
    rows = table.set_index("variant")
    assert rows.loc["copy", ["difference", "difference_lo", "difference_hi"]].tolist() == [0, 0, 0]
    scored = (truth.extravasation != "Undefined").to_numpy()  # report 4's truth is Undefined: not scored
    expected = f1_score(truth.extravasation[scored] == "Yes", zeroshot.extravasation[scored] == "Yes")
    assert rows.loc["zeroshot", "f1"] == pytest.approx(expected) and np.isnan(rows.loc["zeroshot", "difference"])
    assert rows.loc["better", "f1"] == 1.0
    assert rows.loc["better", "difference"] == pytest.approx(1.0 - expected)
    assert rows.loc["better", "difference_lo"] <= rows.loc["better", "difference"] <= rows.loc["better", "difference_hi"]


def test_the_threshold_is_chosen_on_development_reports_and_measured_on_test_reports():
    development = _truth(["Yes", "Yes", "No", "No"])
    test = _truth(["Yes", "No", "Yes", "No"]).assign(report_id=lambda f: "t" + f.report_id)
    # p_yes separates the development reports at 0.4; the plain answers miss one Yes on each part.
    on_dev = _labels("m", ["Yes", "No", "No", "No"], [0.9, 0.45, 0.2, 0.1])
    on_test = _labels("m", ["Yes", "No", "No", "No"], [0.8, 0.3, 0.5, 0.05]).assign(report_id=lambda f: "t" + f.report_id)
    labels = pd.concat([on_dev, on_test, _labels("rules", ["Yes", "No", "No", "No"])], ignore_index=True)
    table = threshold_table(labels, development, test, FAST)
    assert table.model.tolist() == ["m"]  # the baseline has no p_yes: no cut
    row = table.iloc[0]
    assert row.threshold == 0.45 and row.n_development == 4 and row.n_test == 4
    assert row.f1_answer == pytest.approx(2 / 3) and row.f1_threshold == 1.0
    assert row.difference == pytest.approx(1 / 3)
    assert threshold_table(labels, development.iloc[0:0], test, FAST).empty  # no development split


# ---- the variants from the command line, with the real embedded server ----

@pytest.mark.parametrize("variant", ["guideline", "fewshot"])
def test_label_with_a_prompt_variant_from_the_command_line(variant, use_server, tmp_path):
    reports = tmp_path / "reports.csv"
    pd.DataFrame({"report_id": ["a", "b"], "report_text": [
        "IMPRESSION: Grade 4 splenic laceration with active contrast extravasation.",
        "IMPRESSION: Renal laceration with a blush that fades on delayed images, compatible with pseudoaneurysm.",
    ]}).to_csv(reports, index=False)
    cache = tmp_path / "cache.sqlite"
    subprocess.run([sys.executable, "-m", "analysis", "label", "--reports", str(reports), "--out", str(tmp_path / "out"),
                    "--task", variant, "--models", SMALL_MODEL, "--cache", str(cache)], check=True)
    labels = pd.read_csv(tmp_path / "out" / "labels.csv", dtype=str, keep_default_na=False)
    assert labels.report_id.tolist() == ["a", "b"] and set(labels.extravasation) <= {"Yes", "No", "Undefined"}
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["run"]["task"] == manifest["tasks"][0]["name"] == f"extravasation_{variant}"
    with sqlite3.connect(cache) as db:
        asked = db.execute("SELECT task, request FROM responses").fetchall()
    assert {task for task, _ in asked} == {f"extravasation_{variant}"}
    impressions = prompt_inputs(read_reports(reports), load_run("embedded")).prompt_text
    expected = {load_task(f"extravasation_{variant}").messages(text)[0]["content"] for text in impressions}
    assert {json.loads(request)["messages"][0]["content"] for _, request in asked} == expected


def test_evaluate_on_the_test_part_of_a_split(tmp_path):
    truth = _truth(["Yes", "No", "Yes"])
    labels = _labels("m", ["Yes", "Yes", "No"])
    truth.to_csv(tmp_path / "truth.csv", index=False)
    write_table(labels, tmp_path / "labels.csv")
    pd.DataFrame({"report_id": ["r0", "r1", "r2"], "split": ["test", "test", "dev"]}).to_csv(tmp_path / "split.csv", index=False)
    subprocess.run([sys.executable, "-m", "analysis", "evaluate", "--labels", str(tmp_path / "labels.csv"),
                    "--truth", str(tmp_path / "truth.csv"), "--split", str(tmp_path / "split.csv"),
                    "--out", str(tmp_path / "tables")], check=True)
    assert pd.read_csv(tmp_path / "tables" / "table1a.csv").n.tolist() == [2]
    # A report with ground truth in neither part would drop out of the tables silently: refused.
    pd.DataFrame({"report_id": ["r0", "r1"], "split": ["test", "dev"]}).to_csv(tmp_path / "split.csv", index=False)
    refused = subprocess.run([sys.executable, "-m", "analysis", "evaluate", "--labels", str(tmp_path / "labels.csv"),
                              "--truth", str(tmp_path / "truth.csv"), "--split", str(tmp_path / "split.csv"),
                              "--out", str(tmp_path / "tables")], capture_output=True, text=True)
    assert refused.returncode == 1 and "the split file has no part for 1 report(s), e.g. ['r2']" in refused.stderr
