"""The reviewer sheet, from hand-built labels, truth and inputs and a real response cache
filled with hand-written responses in Ollama's shape (no model involved)."""

import base64
import hashlib
import html
import re
import sqlite3
import stat
from contextlib import closing

import pandas as pd
import pytest

from analysis.data.io import parse_list
from analysis.data.vocabulary import BASELINE, ENSEMBLE, Status
from analysis.labeling.labels import read_labels, write_labels
from analysis.llm.cache import ResponseCache
from analysis.reporting.review import budget_marks, column, reviewer_html, reviewer_sheet, write_reviewer_sheet
from tests.frames import SHORT_COLUMNS
from tests.frames import labels_frame as completed_labels

BIG, SMALL, TINY = "qwen2.5-coder:1.5b", "qwen2.5-coder:0.5b", "smollm2:135m"
MODELS = [BIG, SMALL, TINY]
LABEL_SETS = [*MODELS, ENSEMBLE, BASELINE]

# report_id: (truth or None, {label set: (answer, sites)})
CASES = {
    "agree": (("No", ""), {m: ("No", "") for m in LABEL_SETS}),
    "all-wrong": (("No", ""), {**{m: ("Yes", "spleen") for m in [*MODELS, ENSEMBLE]}, BASELINE: ("No", "")}),
    "one-wrong": (("Yes", "spleen"), {**{m: ("Yes", "spleen") for m in LABEL_SETS}, TINY: ("No", "liver")}),
    "sites-differ": (("Yes", "liver"), {**{m: ("Yes", "liver") for m in LABEL_SETS}, SMALL: ("Yes", "spleen;liver")}),
    "not-sent": (("Yes", "kidney"), {m: ("Undefined", "") for m in LABEL_SETS}),
    "script": (("No", ""), {**{m: ("Yes", "") for m in [*MODELS, ENSEMBLE]}, BASELINE: ("No", "")}),
    "rules-wrong": (("No", ""), {**{m: ("No", "") for m in LABEL_SETS}, BASELINE: ("Yes", "")}),
    "no-truth-split": (None, {**{m: ("No", "") for m in LABEL_SETS}, BIG: ("Yes", "")}),
    "no-majority": (None, {BIG: ("Yes", ""), SMALL: ("No", ""), TINY: ("Undefined", ""), ENSEMBLE: ("Undefined", ""),
                           BASELINE: ("No", "")}),
    "no-truth-agree": (None, {m: ("No", "") for m in LABEL_SETS}),
}
IMPRESSIONS = {
    "agree": "Grade II liver laceration. No active extravasation.",
    "all-wrong": "Splenic laceration. Pseudoaneurysm without active extravasation.",
    "one-wrong": "Grade IV splenic laceration with active contrast extravasation.",
    "sites-differ": "Hepatic laceration with active extravasation. Perisplenic fluid.",
    "not-sent": None,
    "script": "Contrast in the <script>window.injected = true; document.title = 'injected'</script> soft tissues.",
    "rules-wrong": "No extravasation. Contrast blush is excluded.",
    "no-truth-split": "Possible blush near the spleen.",
    "no-majority": "Indeterminate hyperdensity, ? blush.",
    "no-truth-agree": "No acute injury.",
}
SPLITS = {"agree": "test", "all-wrong": "dev", "one-wrong": "test", "sites-differ": "dev", "not-sent": "test",
          "script": "test", "rules-wrong": "dev", "no-truth-split": "test", "no-majority": "dev", "no-truth-agree": "test"}
KINDS = {"all-wrong": "pseudoaneurysm_or_contained", "one-wrong": "negated;multi_injury_single_bleed",
         "script": "non_blood_extravasation", "sites-differ": "multi_site", "rules-wrong": "negated"}
# Scores away from the default make close calls: one-wrong and no-truth-split tie at 0.05 from 0.5.
P_YES = {("one-wrong", TINY): 0.45, ("no-truth-split", BIG): 0.55, ("sites-differ", SMALL): 0.7}
CLOSEST_FIRST = ["no-truth-split", "one-wrong", "sites-differ", "all-wrong", "no-majority", "script", "agree",
                 "no-truth-agree", "rules-wrong", "not-sent"]
NEWER_KEY = "one-wrong/smollm2:135m/stage1/newer-prompt"


def response_key(report_id: str, label_set: str) -> str:
    """The key of the stage-1 response behind a label: none for the ensemble, the rules or a report not sent."""
    return f"{report_id}/{label_set}/stage1" if label_set in MODELS and IMPRESSIONS[report_id] else ""


def p_yes(report_id: str, label_set: str, answer: str) -> float | None:
    if label_set == BASELINE or not IMPRESSIONS[report_id]:
        return None
    return P_YES.get((report_id, label_set), 0.91234 if answer == "Yes" else 0.04321)


def status(report_id: str, label_set: str) -> Status:
    if not IMPRESSIONS[report_id] and label_set != BASELINE:
        return Status.NOT_SENT
    if label_set == ENSEMBLE:
        return Status.NO_MAJORITY if report_id == "no-majority" else Status.VOTED
    return Status.ANSWERED


def labels_frame() -> pd.DataFrame:
    reason = {report_id: "" if text else "no impression section" for report_id, text in IMPRESSIONS.items()}
    return completed_labels(
        [(report_id, label_set, answer, sites, p_yes(report_id, label_set, answer), reason[report_id],
          response_key(report_id, label_set), status(report_id, label_set))
         for label_set in LABEL_SETS for report_id, (_, answers) in CASES.items() for answer, sites in [answers[label_set]]],
        columns=[*SHORT_COLUMNS, "response_key"],
    )


def truth_frame() -> pd.DataFrame:
    known = {report_id: truth for report_id, (truth, _) in CASES.items() if truth}
    return pd.DataFrame([{"report_id": r, "extravasation": e, "locations": parse_list(s)} for r, (e, s) in known.items()])


def inputs_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "report_id": list(IMPRESSIONS),
        "prompt_text": pd.Series(list(IMPRESSIONS.values()), dtype=object),
        "reason": ["no impression section" if text is None else "" for text in IMPRESSIONS.values()],
        "impression_method": ["none" if text is None else "header 'IMPRESSION'" for text in IMPRESSIONS.values()],
        "note": "",
        "split": [SPLITS[report_id] for report_id in IMPRESSIONS],
    })


def case_features_frame() -> pd.DataFrame:
    return pd.DataFrame({"report_id": list(IMPRESSIONS), "template": "numbered_impression",
                         "hard_cases": [parse_list(KINDS.get(report_id, "")) for report_id in IMPRESSIONS]})


def ollama_response(model: str, answer: str) -> dict:
    """The biggest model answers by its first token, with log-probabilities; the others in JSON."""
    response = {"model": model, "created_at": "2025-01-01T00:00:00Z", "done": True, "done_reason": "stop",
                "prompt_eval_count": 120, "eval_count": 1}
    if model != BIG:
        return response | {"message": {"role": "assistant", "content": f'{{"answer": "{answer}"}}'}}
    alternatives = [("Yes", -0.0512), ("No", -3.1), (" Undefined", -5.2), ("yes", -7.0)]
    alternatives.sort(key=lambda alternative: alternative[0].strip() != answer)
    top = [{"token": token, "logprob": logprob, "bytes": list(token.encode())} for token, logprob in alternatives]
    return response | {"message": {"role": "assistant", "content": answer},
                       "logprobs": [{**top[0], "top_logprobs": top}]}


def fill_cache(path) -> None:
    """A cache holding the response behind every model label, and decoys no label names."""
    cache = ResponseCache(path)

    def store(key, report_id, model, task, response, created_at):
        request = {"model": model, "messages": [{"role": "user", "content": IMPRESSIONS[report_id]}]}
        cache.put(key, model=model, digest="sha256:test", task=task, task_version=1, report_id=report_id,
                  server="test", request=request, response=response)
        return created_at, key

    stamps = [
        store(response_key(report_id, model), report_id, model, "extravasation_zeroshot",
              ollama_response(model, answers[model][0]), "2025-03-01T10:00:00+00:00")
        for report_id, (_, answers) in CASES.items() for model in MODELS if response_key(report_id, model)
    ]
    # A later run with a changed prompt answered differently, but the labels were not read from it.
    stamps.append(store(NEWER_KEY, "one-wrong", TINY, "extravasation_zeroshot", ollama_response(TINY, "Yes"),
                        "2025-04-01T10:00:00+00:00"))
    stamps.append(store("one-wrong/smollm2:135m/stage2", "one-wrong", TINY, "extravasation_location",
                        ollama_response(TINY, "liver"), "2025-04-02T10:00:00+00:00"))
    cache.close()
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.executemany("UPDATE responses SET created_at = ? WHERE key = ?", stamps)


@pytest.fixture
def cache_path(tmp_path):
    path = tmp_path / "responses.sqlite"
    fill_cache(path)
    return path


@pytest.fixture
def sheet(cache_path):
    return reviewer_sheet(labels_frame(), truth_frame(), inputs_frame(), cache_path, case_features_frame())


def by_report(sheet: pd.DataFrame) -> pd.DataFrame:
    return sheet.set_index("report_id", drop=False)


def test_every_report_is_in_the_queue_once_and_flagged_only_for_an_error_or_a_disagreement(sheet):
    assert set(sheet.report_id) == set(CASES) and sheet.report_id.is_unique
    assert sheet.queue_rank.tolist() == list(range(1, len(CASES) + 1))
    assert set(sheet.report_id[sheet.listed_because == ""]) == {"agree", "no-truth-agree"}
    assert sheet.review_priority.isna().all()  # these labels have no priority


def test_each_report_says_why_it_is_listed(sheet):
    why = by_report(sheet).listed_because
    assert why["all-wrong"] == f"disagrees with truth: {BIG}, {SMALL}, {TINY}, {ENSEMBLE}"
    assert why["one-wrong"] == f"disagrees with truth: {TINY}; models disagree: {TINY}"
    assert why["sites-differ"] == f"disagrees with truth: {SMALL}; models disagree: {SMALL}"
    assert why["not-sent"] == f"disagrees with truth: {', '.join(LABEL_SETS)}"
    assert why["rules-wrong"] == f"disagrees with truth: {BASELINE}"
    assert why["no-truth-split"] == f"models disagree: {BIG}"
    assert why["no-majority"] == f"models disagree: {BIG}, {SMALL}, {TINY}"  # no majority: none is in it


def test_closest_calls_come_first_ties_by_report_and_reports_without_a_score_last(sheet):
    assert list(sheet.report_id) == CLOSEST_FIRST
    closeness = by_report(sheet).closeness
    assert closeness["one-wrong"] == closeness["no-truth-split"] == 0.05
    assert closeness["sites-differ"] == 0.2  # the ensemble's mean p_yes does not count
    assert pd.isna(closeness["not-sent"])


def test_split_and_kinds_come_from_the_inputs_and_the_case_features(sheet, cache_path):
    rows = by_report(sheet)
    assert rows.at["all-wrong", "split"] == "dev" and rows.at["script", "split"] == "test"
    assert rows.at["one-wrong", "kinds"] == ["negated", "multi_injury_single_bleed"]
    assert rows.at["no-majority", "kinds"] == []
    without_features = reviewer_sheet(labels_frame(), truth_frame(), inputs_frame(), cache_path)
    assert (without_features.kinds.str.len() == 0).all()
    assert without_features.drop(columns="kinds").equals(sheet.drop(columns="kinds"))


def test_truth_answers_statuses_and_scores_sit_side_by_side_in_label_order(sheet):
    row = by_report(sheet).loc["one-wrong"]
    assert (row.truth_extravasation, row.truth_locations) == ("Yes", "spleen")
    assert row[column("answer", TINY)] == "No" and row[column("locations", TINY)] == "liver"
    assert row[column("p_yes", BIG)] == 0.912 and pd.isna(row[column("p_yes", BASELINE)])
    assert row[column("status", ENSEMBLE)] == Status.VOTED
    assert by_report(sheet).at["no-majority", column("status", ENSEMBLE)] == Status.NO_MAJORITY
    assert [name for name in sheet.columns if name.startswith("answer[")] == [column("answer", m) for m in LABEL_SETS]
    assert [name for name in sheet.columns if name.startswith("raw[")] == [column("raw", m) for m in MODELS]
    assert by_report(sheet).at["no-truth-split", "truth_extravasation"] == ""


def test_a_report_not_sent_shows_why_and_has_no_raw_response(sheet):
    row = by_report(sheet).loc["not-sent"]
    assert row.impression == "" and row.not_sent_because == "no impression section"
    assert row[column("status", BIG)] == Status.NOT_SENT
    assert row[column("raw", BIG)] == "" and row[column("logprobs", BIG)] == ""
    assert by_report(sheet).at["script", "impression"] == IMPRESSIONS["script"]


def test_the_raw_response_is_the_one_the_label_names_not_the_newest(sheet):
    row = by_report(sheet).loc["one-wrong"]
    assert row[column("raw", TINY)] == '{"answer": "No"}'  # the newer response says Yes
    assert row[column("raw", BIG)] == "Yes"


def test_the_answer_tokens_likeliest_alternatives_are_readable(sheet):
    row = by_report(sheet).loc["one-wrong"]
    assert row[column("logprobs", BIG)] == "Yes −0.05 · No −3.10 · Undefined −5.20"
    assert row[column("logprobs", SMALL)] == ""  # a JSON answer carries no log-probabilities


def test_the_cache_is_only_read(cache_path):
    def contents():
        with closing(sqlite3.connect(cache_path)) as connection:
            return connection.execute("SELECT * FROM responses ORDER BY key").fetchall()

    before = contents()
    reviewer_sheet(labels_frame(), truth_frame(), inputs_frame(), cache_path)
    assert contents() == before
    with pytest.raises(FileNotFoundError):
        reviewer_sheet(labels_frame(), truth_frame(), inputs_frame(), cache_path.with_name("missing.sqlite"))
    assert not cache_path.with_name("missing.sqlite").exists()


def test_labels_read_back_from_csv_give_the_same_sheet(sheet, cache_path, tmp_path):
    reread = read_labels(write_labels(labels_frame(), tmp_path / "labels.csv"))
    again = reviewer_sheet(reread, truth_frame(), inputs_frame(), cache_path, case_features_frame())
    pd.testing.assert_frame_equal(again, sheet, check_dtype=False)


def the_inline_script(page: str) -> str:
    scripts = re.findall(r"<script>(.*?)</script>", page, flags=re.DOTALL)
    assert len(scripts) == 1 and page.lower().count("<script") == 1
    return scripts[0]


def content_security_policy(page: str) -> str:
    return html.unescape(re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page).group(1))


def test_the_policy_lets_only_the_pages_own_script_run(sheet):
    page = reviewer_html(sheet)
    digest = base64.b64encode(hashlib.sha256(the_inline_script(page).encode("utf-8")).digest()).decode()
    policy = content_security_policy(page)
    assert policy.startswith("default-src 'none'; style-src 'unsafe-inline'; ")
    script_sources = re.search(r"script-src ([^;]*)", policy).group(1).split()
    assert script_sources == [f"'sha256-{digest}'"]
    assert '<meta name="referrer" content="no-referrer">' in page


def test_the_page_shows_every_card_in_order_without_script_and_filters_what_is_present(sheet, cache_path):
    page = reviewer_html(sheet)
    assert re.findall(r"<h2>([^<]*)</h2>", page) == CLOSEST_FIRST
    assert page.count('<article class="card"') == len(sheet) and "<article hidden" not in page
    assert '<form id="filters" hidden>' in page  # the filters need the script
    assert re.findall(r'<option value="(dev|test|all)">', page) == ["dev", "test"]
    assert '<option value="multi_injury_single_bleed">' in page
    without_kinds = reviewer_html(reviewer_sheet(labels_frame(), truth_frame(), inputs_frame(), cache_path))
    assert 'name="kind"' not in without_kinds and 'name="model"' in without_kinds


def test_written_files_are_private_escaped_and_one_row_per_report(sheet, tmp_path):
    paths = write_reviewer_sheet(sheet, tmp_path / "review")
    assert [p.name for p in paths] == ["reviewer_sheet.csv", "reviewer_sheet.html"]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in paths)
    written = pd.read_csv(paths[0], keep_default_na=False)
    assert len(written) == len(sheet) and list(written.report_id) == list(sheet.report_id)
    page = paths[1].read_text(encoding="utf-8")
    assert "&lt;script&gt;window.injected = true; document.title = &#39;injected&#39;&lt;/script&gt;" in page
    assert "injected" not in the_inline_script(page)
    assert "http://" not in page and "https://" not in page and "src=" not in page and "<link" not in page
    assert "<strong>10</strong> reports in the queue" in page
    assert "Nothing sent to the models: no impression section" in page
    assert "Contains report text, which may hold protected health information" in page
    assert page.count('class="wrong"') > 0


def test_an_existing_file_is_made_private_when_rewritten(sheet, tmp_path):
    out_dir = tmp_path / "review"
    out_dir.mkdir()
    (out_dir / "reviewer_sheet.csv").write_text("old")
    (out_dir / "reviewer_sheet.csv").chmod(0o644)
    paths = write_reviewer_sheet(sheet, out_dir)
    assert stat.S_IMODE(paths[0].stat().st_mode) == 0o600


# Each report's estimated probability that the chosen label set's label is wrong; sums to 3.67 errors.
PRIORITY = {"all-wrong": 0.9, "script": 0.7, "agree": 0.6, "no-majority": 0.5, "one-wrong": 0.3, "sites-differ": 0.3,
            "no-truth-split": 0.2, "not-sent": 0.1, "no-truth-agree": 0.05, "rules-wrong": 0.02}
PRIORITY_FIRST = list(PRIORITY)  # one-wrong and sites-differ tie: by report id


def prioritized_labels() -> pd.DataFrame:
    """The labels with a review priority, the same on every row of a report, as a run with a priority model has."""
    labels = labels_frame()
    return labels.assign(review_priority=labels.report_id.map(PRIORITY))


@pytest.fixture
def queue(cache_path):
    return reviewer_sheet(prioritized_labels(), truth_frame(), inputs_frame(), cache_path, case_features_frame(),
                          chosen=ENSEMBLE)


def test_the_queue_follows_the_review_priority_highest_first_ties_by_report(queue, tmp_path):
    assert queue.report_id.tolist() == PRIORITY_FIRST
    assert queue.queue_rank.tolist() == list(range(1, len(PRIORITY) + 1))
    assert queue.review_priority.tolist() == list(PRIORITY.values())
    assert queue.attrs["chosen"] == ENSEMBLE
    written = pd.read_csv(write_reviewer_sheet(queue, tmp_path)[0])
    assert written[["report_id", "queue_rank", "review_priority"]].values.tolist() == [
        [report_id, rank, priority] for rank, (report_id, priority) in enumerate(PRIORITY.items(), start=1)]


def test_without_a_priority_for_any_report_the_queue_is_closest_calls_first(cache_path):
    labels = labels_frame().assign(review_priority=float("nan"))
    sheet = reviewer_sheet(labels, truth_frame(), inputs_frame(), cache_path)
    assert sheet.report_id.tolist() == CLOSEST_FIRST
    assert "class=\"budget\"" not in reviewer_html(sheet) and budget_marks(sheet.review_priority) == []


def test_budget_marks_sum_the_priorities_of_the_first_reports(queue):
    marks = budget_marks(queue.review_priority)
    # 5% and 10% of ten reports both come to the first report: marked once.
    assert [(mark["reports"], mark["share"]) for mark in marks] == [(1, 0.05), (2, 0.2)]
    assert [mark["expected"] for mark in marks] == pytest.approx([0.9, 1.6])
    assert all(mark["total"] == pytest.approx(3.67) for mark in marks)
    page = reviewer_html(queue)
    after_first, after_second = page.split('<p class="budget">')[1:]
    assert after_first.startswith("Above: the first 1 report (5% of the queue), with an estimated 0.9 of the "
                                  "3.7 estimated errors.")
    assert re.findall(r"<h2>([^<]*)</h2>", after_first) == ["script"]  # the second card stands between the marks
    assert "The first 2 reports (20% of the queue) hold an estimated 1.6 of the 3.7 errors estimated" in page


def test_the_header_counts_each_label_set_on_its_own(queue):
    page = reviewer_html(queue)
    # answers ≠ truth, sites ≠ truth (where the truth is Yes), outside the models' majority (models only)
    assert f"<tr><th>{BIG}<td>3<td>1<td>2\n" in page
    assert f"<tr><th>{TINY}<td>4<td>2<td>2\n" in page
    assert f"<tr><th>{BASELINE}<td>2<td>1<td>\n" in page


def test_the_reviewer_decides_the_chosen_label_set_or_every_one_without_a_choice(queue, sheet, cache_path):
    decided = re.findall(r'<fieldset class="decision" data-label-set="([^"]*)" data-answer="([^"]*)" '
                         r'data-locations="([^"]*)" hidden>', reviewer_html(queue))
    assert [label_set for label_set, _, _ in decided] == [ENSEMBLE] * len(PRIORITY)
    assert decided[0] == (ENSEMBLE, "Yes", "spleen")  # all-wrong: the label as it stands, its sites ;-separated
    assert reviewer_html(sheet).count('<fieldset class="decision"') == len(CASES) * len(LABEL_SETS)
    assert reviewer_html(sheet, chosen=TINY).count(f'data-label-set="{TINY}"') == len(CASES)
    with pytest.raises(ValueError, match="not one of"):
        reviewer_sheet(labels_frame(), truth_frame(), inputs_frame(), cache_path, chosen="gpt-5")
