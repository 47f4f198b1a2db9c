"""The labeling engine against the real embedded server: validation, cache keys,
resuming, the localization gate, the paper run with its models swapped in."""

import json

import httpx
import ollama
import pandas as pd
import pytest

from analysis.data.vocabulary import COMBINATION, LOCATIONS, Status
from analysis.llm import asking
from analysis.llm.asking import Asker
from analysis.llm.cache import ResponseCache
from analysis.llm.client import connect, describe_models
from analysis.llm.ollama_api import OllamaBackend
from analysis.llm.backend import ModelNotLoaded, Refused, ServerLost
from analysis.specs import Requests, load_run, load_task
from tests.conftest import SMALL_MODEL
from tests.frames import run_labels

IMPRESSIONS = {
    "a": "Grade IV splenic laceration with active contrast extravasation. Moderate hemoperitoneum.",
    "b": "Grade II liver laceration. No active extravasation.",
    "c": "Active extravasation from a jejunal mesenteric branch with mesenteric hematoma.",
    "d": "Left renal laceration with perinephric hematoma. No active extravasation.",
}
TASK = load_task("extravasation_zeroshot")
OPTIONS = {"temperature": 0, "seed": 42, "num_ctx": 2048, "num_predict": 32}


def asker_for(tmp_path, task=TASK, options=OPTIONS, **kwargs):
    server = connect()
    digest = describe_models(server, [SMALL_MODEL])[SMALL_MODEL]["digest"]
    return Asker(server, ResponseCache(tmp_path / "cache.sqlite"), SMALL_MODEL, digest, task, options, **kwargs)


def test_an_interrupted_run_resumes_and_a_changed_prompt_is_asked_again(use_server, tmp_path):
    first, summary = asker_for(tmp_path).ask_all({k: IMPRESSIONS[k] for k in "ab"})
    assert summary.from_cache == 0
    # Resuming: the two already answered come from the cache, only the rest is asked.
    resumed, summary = asker_for(tmp_path).ask_all(IMPRESSIONS)
    assert (summary.asked, summary.from_cache) == (4, 2)
    assert [resumed[k].value for k in "ab"] == [first[k].value for k in "ab"]
    edited = TASK.model_copy(update={"template": TASK.template.replace("Read the IMPRESSION", "Read this IMPRESSION")})
    _, summary = asker_for(tmp_path, task=edited).ask_all(IMPRESSIONS)
    assert summary.from_cache == 0
    _, summary = asker_for(tmp_path, refresh=True).ask_all(IMPRESSIONS)
    assert summary.from_cache == 0


def test_the_first_token_decides_in_one_forward_pass(use_server, tmp_path):
    answers, _ = asker_for(tmp_path).ask_all(IMPRESSIONS)
    for answer in answers.values():
        assert answer.value in TASK.answers and 0 <= answer.p_yes <= 1 and not answer.reasons
    exported = pd.read_csv(ResponseCache(tmp_path / "cache.sqlite").export(tmp_path / "responses.csv"))
    assert (exported.eval_count == 1).all()  # one token sampled, from the prompt's own last logits
    assert exported.prompt.str.contains("IMPRESSION").all()


def test_first_token_and_structured_answers_agree_on_clear_reports(use_server, tmp_path):
    server = connect()
    tag = "qwen2.5-coder:1.5b"
    digest = describe_models(server, [tag])[tag]["digest"]
    clear = {k: IMPRESSIONS[k] for k in "ab"}
    said = {}
    for decision in ("first_token", "structured"):
        task = TASK.model_copy(update={"decision": decision})
        asker = Asker(server, ResponseCache(tmp_path / f"{decision}.sqlite"), tag, digest, task, OPTIONS)
        said[decision] = {k: a.value for k, a in asker.ask_all(clear)[0].items()}
    assert said["first_token"] == said["structured"] == {"a": "Yes", "b": "No"}


def test_an_answer_that_ignores_the_schema_is_kept_raw_and_undefined(use_server, tmp_path, monkeypatch):
    # Some Ollama runners ignore `format`; simulate one by not sending it.
    real_build = asking.build_request
    monkeypatch.setattr(asking, "build_request", lambda *a, **k: {**real_build(*a, **k), "format": None})
    structured = TASK.model_copy(update={"decision": "structured"})
    answers, _ = asker_for(tmp_path, task=structured, options={**OPTIONS, "num_predict": 12}).ask_all(
        {"a": IMPRESSIONS["a"]})
    assert answers["a"].value is None
    assert answers["a"].reasons[0].startswith("invalid answer")
    cache = ResponseCache(tmp_path / "cache.sqlite")
    raw = cache.export(tmp_path / "responses.csv")
    assert pd.read_csv(raw).answer.iloc[0] and len(cache) == 1


def test_a_prompt_that_may_not_fit_follows_the_declared_rule(use_server, tmp_path):
    long_text = "Splenic laceration with active extravasation. " * 60
    tight = {**OPTIONS, "num_ctx": 1024}
    refused, _ = asker_for(tmp_path, options=tight).ask_all({"x": long_text})
    assert refused["x"].value is None and refused["x"].reasons == ["prompt may not fit num_ctx 1024: not sent"]
    cut, _ = asker_for(tmp_path, options=tight, over_long="truncate").ask_all({"x": long_text})
    assert cut["x"].value in ("Yes", "No", "Undefined")
    assert "text cut by" in cut["x"].reasons[0] and "to fit num_ctx 1024" in cut["x"].reasons[0]


def reports_frame():
    return pd.DataFrame({"report_id": list(IMPRESSIONS),
                         "report_text": [f"FINDINGS: see below.\nIMPRESSION: {text}" for text in IMPRESSIONS.values()]})


def test_stage_two_asks_every_model_about_the_gate_models_yes_reports(use_server, tmp_path):
    labels, manifest = run_labels(reports_frame(), tmp_path / "out")
    gate = load_run("embedded").localization.gate
    gated = set(labels[(labels.model == gate) & (labels.extravasation == "Yes")].report_id)
    assert manifest.stage2.sent == len(gated) > 0 and manifest.stage2.gate == gate
    assert set(labels.report_id[labels.gated]) == gated
    for row in labels.itertuples():
        assert set(row.locations) <= set(LOCATIONS)
        if row.report_id not in gated and row.model != "rules":  # the baseline finds its sites itself
            assert row.locations == []
    models = labels[labels.model.isin(load_run("embedded").tags)]
    asked = models[models.report_id.isin(gated)]
    assert (asked.locations.str.len() > 0).mean() > 0.5  # most models name a site for most gated reports
    written = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert [m["tag"] for m in written["models"]] == load_run("embedded").tags
    localization = load_run("embedded").localization
    locator = localization.task
    assert written["models"][0]["digest"] and written["tasks"][1]["name"] == locator
    assert {t["task"] for t in written["timing"]} == {
        "extravasation_zeroshot", locator, localization.evidence, localization.site_probes,
        f"rules extravasation v{written['baseline']['version']}"}
    # The per-site cuts applied are recorded as the file held them.
    assert written["stage2"]["site_cuts"]["task"] == localization.site_probes
    assert written["counts"]["ensemble"] and written["server"]["version"].startswith("extravasation-llm embedded")


def test_the_paper_run_works_with_the_embedded_models_swapped_in(use_server, tmp_path):
    paper = load_run("paper")
    swap = dict(zip(paper.tags, load_run("embedded").tags))
    models = [m.model_copy(update={"tag": swap[m.tag]}) for m in paper.models]
    localization = paper.localization.model_copy(update={"gate": swap[paper.localization.gate]})
    swapped = paper.model_copy(update={"models": models, "localization": localization})
    labels, manifest = run_labels(reports_frame(), tmp_path / "out", run=swapped)
    assert labels.groupby("model").size().to_dict() == {tag: 4 for tag in [*swap.values(), "ensemble", "rules", COMBINATION]}
    assert manifest.run["name"] == "paper"
    decided = {row["tag"]: row["decision"] for row in manifest.preflight["extravasation_zeroshot"]["models"]}
    assert decided == {tag: "first_token" for tag in swap.values()}  # the embedded server leaves the reply open


class ScriptedClient:
    """Stands in for the ollama client in tests of the retry logic around it (no model involved): raises the
    given errors in turn, then answers."""

    def __init__(self, *errors):
        self.errors, self.calls = list(errors), 0

    def _request_raw(self, method, path, json, timeout):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return httpx.Response(200, json={"model": json["model"], "message": {"role": "assistant", "content": "Yes"},
                                         "done": True})


@pytest.mark.parametrize("error, retried", [
    (ollama.ResponseError("model runner has unexpectedly stopped", 500), True),
    (ollama.ResponseError("server busy, please try again.  maximum pending requests exceeded", 503), True),
    (ollama.ResponseError("too many requests", 429), True),
    (httpx.ConnectError("connection refused"), True),
    (httpx.ReadError("connection reset"), True),
    (ConnectionError("connection lost"), True),
    (ollama.ResponseError('model "x" not found, try pulling it first', 404), False),
    (ollama.ResponseError("invalid format", 400), False),
    (ValueError("a bug, not the server"), False),
    (ollama.ResponseError("llama-server process has terminated: cudaMalloc failed: out of memory", 500), False),
])
def test_only_failures_of_the_server_or_the_network_are_retried(error, retried):
    server = OllamaBackend("http://127.0.0.1:9", client=ScriptedClient(error), version="test")
    asker = Asker(server, cache=None, tag="m", digest="d", task=TASK, options=OPTIONS,
                  requests=Requests(retries=2, backoff_s=0))
    if retried:
        assert asker._chat({"model": "m", "messages": []}, server)["message"]["content"] == "Yes"
        assert server.client.calls == 2
    else:
        with pytest.raises((Refused, ModelNotLoaded, ValueError)):
            asker._chat({"model": "m", "messages": []}, server)
        assert server.client.calls == 1


def test_a_failure_on_every_try_stops_the_run_with_a_resume_hint():
    server = OllamaBackend("http://127.0.0.1:9", client=ScriptedClient(*[ollama.ResponseError("overloaded", 503)] * 3),
                          version="test")
    asker = Asker(server, cache=None, tag="m", digest="d", task=TASK, options=OPTIONS,
                  requests=Requests(retries=2, backoff_s=0))
    with pytest.raises(ServerLost, match="failed 3 times in a row .* run the same command again to resume"):
        asker._chat({"model": "m", "messages": []}, server)


def test_a_prompt_the_server_refuses_as_too_long_is_undefined_and_not_cached(use_server, tmp_path):
    # The byte bound never lets such a prompt through; without it the server's own check answers 400.
    asker = asker_for(tmp_path, options={**OPTIONS, "num_ctx": 256}, template_bytes=-10_000)
    answer = asker.ask("long", "The spleen is lacerated. " * 200)
    assert (answer.value, answer.status) == (None, Status.REFUSED)
    assert answer.reasons == ["prompt does not fit num_ctx 256: refused by the server"]
    assert len(asker.cache) == 0 and answer.key == ""


def test_without_its_gate_model_stage_two_is_skipped_and_says_so(use_server, tmp_path, capsys):
    reports = pd.DataFrame({"report_id": list(IMPRESSIONS), "report_text": [f"IMPRESSION: {t}" for t in IMPRESSIONS.values()]})
    labels, manifest = run_labels(reports, tmp_path / "out", models=[SMALL_MODEL])
    assert "Stage 2 skipped: the gate model qwen2.5-coder:1.5b is not among the models asked (smollm2:135m)" in capsys.readouterr().err
    assert (labels.locations_status == Status.NOT_ASKED).all() and (labels.locations.str.len() == 0).all()
    assert not labels.gated.any() and (manifest.stage2.ran, manifest.stage2.sent) == (False, 0)
    assert manifest.stage2.skipped_because.startswith("the gate model qwen2.5-coder:1.5b")
