"""The reviewer sheet, from hand-built labels, truth and inputs and a real response cache
filled with hand-written responses in Ollama's shape (no model involved)."""

import json
import sqlite3
import stat
from contextlib import closing

import pandas as pd
import pytest

from analysis.cache import ResponseCache
from analysis.review import column, reviewer_sheet, write_reviewer_sheet

BIG, SMALL, TINY, ENSEMBLE = "qwen2.5-coder:1.5b", "qwen2.5-coder:0.5b", "smollm2:135m", "ensemble"
MODELS = [BIG, SMALL, TINY]
STAGE1, STAGE2 = "extravasation_zeroshot", "extravasation_location"
ALL_WRONG = f"disagrees with truth: {BIG}, {SMALL}, {TINY}, {ENSEMBLE}"

# report_id: (truth or None, {model: (answer, locations)} for the three models and the ensemble)
CASES = {
    "agree": (("No", ""), {m: ("No", "") for m in [*MODELS, ENSEMBLE]}),
    "all-wrong": (("No", ""), {m: ("Yes", "spleen") for m in [*MODELS, ENSEMBLE]}),
    "one-wrong": (("Yes", "spleen"), {BIG: ("Yes", "spleen"), SMALL: ("Yes", "spleen"), TINY: ("No", "liver"),
                                      ENSEMBLE: ("Yes", "spleen")}),
    "sites-differ": (("Yes", "liver"), {BIG: ("Yes", "liver"), SMALL: ("Yes", "liver;spleen"), TINY: ("Yes", "liver"),
                                        ENSEMBLE: ("Yes", "liver")}),
    "not-sent": (("Yes", "kidney"), {m: ("Undefined", "") for m in [*MODELS, ENSEMBLE]}),
    "script": (("No", ""), {m: ("Yes", "") for m in [*MODELS, ENSEMBLE]}),
    "no-truth-split": (None, {BIG: ("Yes", ""), SMALL: ("No", ""), TINY: ("No", ""), ENSEMBLE: ("No", "")}),
    "no-truth-agree": (None, {m: ("No", "") for m in [*MODELS, ENSEMBLE]}),
}
IMPRESSIONS = {
    "agree": "Grade II liver laceration. No active extravasation.",
    "all-wrong": "Splenic laceration. Pseudoaneurysm without active extravasation.",
    "one-wrong": "Grade IV splenic laceration with active contrast extravasation.",
    "sites-differ": "Hepatic laceration with active extravasation. Perisplenic fluid.",
    "not-sent": None,
    "script": "Contrast in the <script>alert('x')</script> soft tissues at the IV site.",
    "no-truth-split": "Possible blush near the spleen.",
    "no-truth-agree": "No acute injury.",
}


def labels_frame() -> pd.DataFrame:
    rows = [
        {"report_id": report_id, "model": model, "extravasation": answer, "locations": sites,
         "p_yes": None if model == ENSEMBLE or IMPRESSIONS[report_id] is None else (0.91234 if answer == "Yes" else 0.04321),
         "reason": "no impression section" if IMPRESSIONS[report_id] is None else ""}
        for model in [*MODELS, ENSEMBLE] for report_id, (_, answers) in CASES.items()
        for answer, sites in [answers[model]]
    ]
    return pd.DataFrame(rows)


def truth_frame() -> pd.DataFrame:
    known = {report_id: truth for report_id, (truth, _) in CASES.items() if truth}
    return pd.DataFrame([{"report_id": r, "extravasation": e, "locations": s} for r, (e, s) in known.items()])


def inputs_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "report_id": list(IMPRESSIONS),
        "prompt_text": pd.Series(list(IMPRESSIONS.values()), dtype=object),
        "reason": ["no impression section" if text is None else "" for text in IMPRESSIONS.values()],
        "impression_method": ["none" if text is None else "header 'IMPRESSION'" for text in IMPRESSIONS.values()],
    })


def ollama_response(content: str) -> dict:
    return {"model": BIG, "created_at": "2025-01-01T00:00:00Z", "message": {"role": "assistant", "content": content},
            "done": True, "done_reason": "stop", "prompt_eval_count": 120, "eval_count": 6}


def store(cache: ResponseCache, report_id: str, model: str, task: str, content: str, created_at: str) -> tuple[str, str]:
    """Put one response in the cache; the key and the time it should carry."""
    key = f"{report_id}/{model}/{task}/{created_at}"
    request = {"model": model, "messages": [{"role": "user", "content": IMPRESSIONS[report_id]}]}
    cache.put(key, model=model, digest="sha256:test", task=task, task_version=1, report_id=report_id,
              server="test", request=request, response=ollama_response(content))
    return created_at, key


@pytest.fixture
def cache_path(tmp_path):
    path = tmp_path / "responses.sqlite"
    cache = ResponseCache(path)
    stamps = [
        store(cache, report_id, model, STAGE1, json.dumps({"answer": answers[model][0]}), "2025-03-01T10:00:00+00:00")
        for report_id, (_, answers) in CASES.items() for model in MODELS
        if IMPRESSIONS[report_id] is not None  # nothing was sent, so nothing was cached
    ]
    # A changed prompt left a second, newer answer: stored first so row order cannot pass for recency.
    stamps.append(store(cache, "one-wrong", TINY, STAGE1, '{"answer": "No"} (newer prompt)', "2025-03-02T10:00:00+00:00"))
    stamps.append(store(cache, "one-wrong", TINY, STAGE1, '{"answer": "Yes"} (older prompt)', "2025-02-01T10:00:00+00:00"))
    # Stage 2 is newer still, and must not stand in for the stage-1 response.
    stamps.append(store(cache, "one-wrong", TINY, STAGE2, '{"locations": ["liver"]}', "2025-03-03T10:00:00+00:00"))
    cache.close()
    # The cache stamps rows with its own clock; set the times so the test does not depend on timing.
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.executemany("UPDATE responses SET created_at = ? WHERE key = ?", stamps)
    return path


@pytest.fixture
def sheet(cache_path):
    return reviewer_sheet(labels_frame(), truth_frame(), inputs_frame(), cache_path).set_index("report_id", drop=False)


def test_only_reports_with_an_error_or_a_disagreement_are_listed(sheet):
    assert list(sheet.report_id) == ["all-wrong", "one-wrong", "sites-differ", "not-sent", "script", "no-truth-split"]


def test_each_report_says_why_it_is_listed(sheet):
    assert sheet.at["all-wrong", "listed_because"] == ALL_WRONG
    assert sheet.at["one-wrong", "listed_because"] == f"disagrees with truth: {TINY}; models disagree"
    assert sheet.at["sites-differ", "listed_because"] == f"disagrees with truth: {SMALL}; models disagree"
    assert sheet.at["no-truth-split", "listed_because"] == "models disagree"


def test_truth_answers_and_scores_sit_side_by_side_in_label_order(sheet):
    row = sheet.loc["one-wrong"]
    assert (row.truth_extravasation, row.truth_locations) == ("Yes", "spleen")
    assert row[column("answer", TINY)] == "No" and row[column("locations", TINY)] == "liver"
    assert row[column("p_yes", BIG)] == 0.912
    answer_columns = [name for name in sheet.columns if name.startswith("answer[")]
    assert answer_columns == [column("answer", m) for m in [*MODELS, ENSEMBLE]]
    assert column("raw", ENSEMBLE) not in sheet.columns  # the ensemble calls no model
    assert sheet.at["no-truth-split", "truth_extravasation"] == ""


def test_a_report_not_sent_shows_why_and_has_no_raw_response(sheet):
    row = sheet.loc["not-sent"]
    assert row.impression == "" and row.not_sent_because == "no impression section"
    assert row[column("raw", BIG)] == ""
    assert sheet.at["script", "impression"] == IMPRESSIONS["script"]


def test_the_raw_response_is_the_most_recent_stage_one_response(sheet):
    assert sheet.at["one-wrong", column("raw", TINY)] == '{"answer": "No"} (newer prompt)'
    assert sheet.at["one-wrong", column("raw", BIG)] == '{"answer": "Yes"}'


def test_the_cache_is_only_read(cache_path):
    def contents():
        with closing(sqlite3.connect(cache_path)) as connection:
            return connection.execute("SELECT * FROM responses ORDER BY key").fetchall()

    before = contents()
    reviewer_sheet(labels_frame(), truth_frame(), inputs_frame(), cache_path)
    assert contents() == before
    with pytest.raises(FileNotFoundError):
        reviewer_sheet(labels_frame(), truth_frame(), inputs_frame(), cache_path.with_name("missing.sqlite"))


def test_labels_read_back_from_csv_give_the_same_sheet(sheet, cache_path, tmp_path):
    labels_frame().to_csv(tmp_path / "labels.csv", index=False)
    reread = pd.read_csv(tmp_path / "labels.csv")  # empty cells come back as NaN
    again = reviewer_sheet(reread, truth_frame(), inputs_frame(), cache_path)
    pd.testing.assert_frame_equal(again, sheet.reset_index(drop=True), check_dtype=False)


def test_written_files_are_private_escaped_and_one_row_per_report(sheet, tmp_path):
    paths = write_reviewer_sheet(sheet.reset_index(drop=True), tmp_path / "review")
    assert [p.name for p in paths] == ["reviewer_sheet.csv", "reviewer_sheet.html"]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in paths)
    written = pd.read_csv(paths[0], keep_default_na=False)
    assert len(written) == len(sheet) and list(written.report_id) == list(sheet.report_id)
    page = paths[1].read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "http://" not in page and "https://" not in page and "src=" not in page
    assert "<strong>6</strong> reports listed" in page
    assert "disagrees with truth: <strong>5</strong>" in page and "models disagree: <strong>3</strong>" in page
    assert "Nothing sent to the models: no impression section" in page
    assert page.count('class="wrong"') > 0


def test_an_existing_file_is_made_private_when_rewritten(sheet, tmp_path):
    out_dir = tmp_path / "review"
    out_dir.mkdir()
    (out_dir / "reviewer_sheet.csv").write_text("old")
    (out_dir / "reviewer_sheet.csv").chmod(0o644)
    paths = write_reviewer_sheet(sheet.reset_index(drop=True), out_dir)
    assert stat.S_IMODE(paths[0].stat().st_mode) == 0o600
