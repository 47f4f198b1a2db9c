"""Stage 2 as one yes/no question per site (``analysis/tasks/location_probes.yaml``): the site probabilities,
the cut, the ensemble's mean, and the cache. The tests that ask a model use the real embedded server."""

import math

import numpy as np
import pandas as pd
import pytest

from analysis.data.vocabulary import ENSEMBLE, LOCATIONS, Status, site_score_column
from analysis.labeling.stage2 import sites_from_probes
from analysis.llm.asking import Answer, build_request
from analysis.llm.cache import ResponseCache
from analysis.specs import Localization, load_run, load_task
from tests.frames import run_labels

PROBES = load_task("location_probes")
GATE = "qwen2.5-coder:1.5b"
MODELS = [GATE, "smollm2:135m"]
SCORES = [site_score_column(site) for site in LOCATIONS]
REPORTS = pd.DataFrame({
    "report_id": ["spleen", "none"],
    "report_text": [
        "IMPRESSION: Grade IV splenic laceration with active contrast extravasation from the spleen. "
        "Moderate hemoperitoneum.",
        "IMPRESSION: Grade II liver laceration. No active extravasation.",
    ],
})


def probes_run(cut: float = 0.5):
    run = load_run("embedded")
    return run.model_copy(update={"localization": Localization(task=PROBES.name, gate=GATE, cut=cut)})


def test_the_probes_share_the_prompt_but_the_site_named_at_its_end():
    requests = [build_request("m", PROBES, "Active extravasation from the spleen.", {"num_ctx": 4096}, probe=site)
                for site in PROBES.probes]
    users = {request["messages"][0]["content"] for request in requests}
    replies = [request["messages"][1]["content"] for request in requests]
    assert len(users) == 1 and "Active extravasation from the spleen." in users.pop()
    assert replies == [f'Active extravasation by site:\n{{"{site}": "' for site in PROBES.probes]
    assert all(request["options"]["num_predict"] == 1 for request in requests)
    with pytest.raises(ValueError, match="asks about one of"):
        PROBES.messages("text")  # a task with probes cannot be asked without one


def test_a_report_takes_the_sites_that_reach_the_cut_and_keeps_every_key():
    """No model: per-site answers built by hand, to check how they make one report's sites."""
    scores = {"bowel": 0.1, "liver": 0.5, "spleen": 0.93, "kidney": None, "abdominal wall": 0.49,
              "gluteal/thigh": 0.0, "retroperitoneal": 0.2, "other": 0.7}
    answers = {("r", site): Answer("Yes" if site == "kidney" else "No", p_yes=score, key=f"k-{site}", cached=True)
               for site, score in scores.items()}
    answers["r", "other"] = Answer(None, Status.INVALID, ["not an answer"], p_yes=0.7, key="k-other")
    combined = sites_from_probes(answers, PROBES.probes, dict.fromkeys(PROBES.probes, 0.5))["r"]
    # liver at the cut counts; kidney has no probability, so its written answer decides; other has a score.
    assert combined.value == ["liver", "spleen", "kidney", "other"]
    assert combined.status == Status.INVALID and combined.reasons == ["other: not an answer"]
    assert combined.keys == [f"k-{site}" for site in PROBES.probes]
    assert math.isnan(combined.site_scores[PROBES.probes.index("kidney")])
    assert combined.site_scores[PROBES.probes.index("spleen")] == 0.93
    assert not combined.cached  # one site was asked anew
    assert sites_from_probes(answers, PROBES.probes, dict.fromkeys(PROBES.probes, 0.95))["r"].value == ["kidney"]
    # A cut of its own for each site.
    assert sites_from_probes(answers, PROBES.probes, {**dict.fromkeys(PROBES.probes, 0.95), "bowel": 0.1})["r"].value == ["bowel", "kidney"]


def test_every_model_gives_a_probability_per_site_and_the_ensemble_their_mean(use_server, tmp_path, capsys):
    cache_path = tmp_path / "cache.sqlite"
    labels, manifest = run_labels(REPORTS, tmp_path / "first", run=probes_run(), models=MODELS, cache_path=cache_path)
    gated = set(labels[(labels.model == GATE) & (labels.extravasation == "Yes")].report_id)
    assert "spleen" in gated, labels[labels.model == GATE]
    asked = labels[labels.report_id.isin(gated) & labels.model.isin(MODELS)]
    # The gate model answers every site; the 135M model's first token sometimes begins neither Yes nor No (NaN).
    assert asked[asked.model == GATE][SCORES].notna().all().all()
    assert asked[SCORES].stack().dropna().between(0, 1).all()
    for row in asked[asked[SCORES].notna().all(axis=1)].itertuples():
        named = [site for site, column in zip(LOCATIONS, SCORES) if getattr(row, column) >= 0.5]
        assert row.locations == named
        assert len(row.locations_keys) == len(LOCATIONS)
    gate_row = asked[(asked.model == GATE) & (asked.report_id == "spleen")].iloc[0]
    assert gate_row[SCORES].astype(float).idxmax() == site_score_column("spleen"), gate_row[SCORES]
    ensemble = labels[(labels.model == ENSEMBLE) & labels.report_id.isin(gated)].set_index("report_id")[SCORES]
    mean = asked.groupby("report_id")[SCORES].mean()
    np.testing.assert_allclose(ensemble.loc[mean.index].to_numpy(float), mean.to_numpy(float))
    not_asked = labels[~labels.report_id.isin(gated) & labels.model.isin(MODELS)]
    assert not_asked[SCORES].isna().all().all() and (not_asked.locations_status == Status.NOT_ASKED).all()

    cache = ResponseCache(cache_path, read_only=True)
    try:
        assert all(cache.get(key) is not None for key in gate_row.locations_keys)
    finally:
        cache.close()
    capsys.readouterr()
    again, _ = run_labels(REPORTS, tmp_path / "again", run=probes_run(), models=MODELS, cache_path=cache_path)
    assert f"{GATE} / location_probes: {len(gated)} reports, {len(gated)} from the cache" in capsys.readouterr().out
    pd.testing.assert_frame_equal(again, labels)

    # Another cut names other sites from the same cached answers: nothing is asked again.
    strict, _ = run_labels(REPORTS, tmp_path / "strict", run=probes_run(cut=0.99), models=MODELS, cache_path=cache_path)
    assert f"{len(gated)} from the cache" in capsys.readouterr().out
    pd.testing.assert_frame_equal(strict[SCORES], labels[SCORES])
