"""The benchmark runs from a clean checkout and its numbers hang together (no timing is asserted: the targets
are read from its printed table, not tested)."""

import math
from statistics import median

import pytest

from analysis.bench import MEASUREMENT_FLOOR, RATE_REPEATS, bench, paper_ratio, table
from analysis.specs import load_run
from tests.conftest import SMALL_MODEL


@pytest.mark.llm  # starts its own server
def test_the_benchmark_measures_limit_pipeline_naive_and_memory():
    results = bench(limit=3, tags=[SMALL_MODEL])
    measured = results["models"][SMALL_MODEL]
    run = load_run("embedded")
    assert results["reports"] == 3 and results["tasks"] == {"stage1": [run.task], "stage2": run.localization.tasks}
    assert len(results["tasks"]["stage2"]) == 3  # the sites, the evidence, the per-site questions
    assert len(measured["rates"]) == 2 * RATE_REPEATS and measured["prompt_tokens_per_s"] == median(measured["rates"])
    for stage in ("stage1", "stage2"):
        figures = measured[stage]
        assert figures["unique_tokens"] > 0
        assert math.isclose(figures["least_s"], figures["unique_tokens"] / measured["prompt_tokens_per_s"])
        assert math.isclose(figures["ratio_to_limit"], figures["pipeline_s"] / figures["least_s"])
        assert figures["measurement_error"] == (figures["ratio_to_limit"] < MEASUREMENT_FLOOR)
    assert math.isclose(measured["speedup_vs_naive"], measured["naive_s"] / measured["stage1"]["pipeline_s"])
    assert math.isclose(measured["stage2_to_stage1"], measured["stage2"]["pipeline_s"] / measured["stage1"]["pipeline_s"])
    assert sum(measured["pipeline_answers"].values()) == sum(measured["naive_answers"].values()) == 3
    assert results["models_loaded"] == [SMALL_MODEL] and results["server_peak_memory_gib"] > 0
    assert "ratio_to_limit" in table(results) and "speedup_vs_naive" in table(results)


def test_a_paper_run_is_set_against_the_sum_of_its_stages_least_times():
    """No model: the figures of a run built by hand, to check the arithmetic."""
    models = {"a": {"stage1": {"least_s": 10.0, "pipeline_s": 12.0}, "stage2": {"least_s": 2.0, "pipeline_s": 5.0}},
              "b": {"stage1": {"least_s": 20.0, "pipeline_s": 21.0}}}
    whole = paper_ratio(models, wall_s=45.0)
    assert whole["stages"]["stage1"] == {"least_s": 30.0, "pipeline_s": 33.0, "ratio_to_limit": 1.1}
    assert whole["stages"]["stage2"]["ratio_to_limit"] == 2.5
    assert whole["least_s"] == 32.0 and whole["ratio_to_limit"] == 45.0 / 32.0
    assert whole["stage2_to_stage1"] == 5.0 / 33.0
