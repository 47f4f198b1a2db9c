"""The benchmark runs from a clean checkout and its numbers hang together (no timing is asserted: the targets
are read from its printed table, not tested)."""

import math

from analysis.bench import bench, table
from tests.conftest import SMALL_MODEL


def test_the_benchmark_measures_limit_pipeline_naive_and_memory():
    results = bench(limit=3, tags=[SMALL_MODEL])
    measured = results["models"][SMALL_MODEL]
    assert results["reports"] == 3
    assert measured["prompt_tokens_per_s"] > 0 and 0 < measured["unique_tokens"] < measured["prompt_tokens"]
    assert math.isclose(measured["least_s"], measured["unique_tokens"] / measured["prompt_tokens_per_s"])
    assert math.isclose(measured["ratio_to_limit"], measured["pipeline_s"] / measured["least_s"])
    assert math.isclose(measured["speedup_vs_naive"], measured["naive_s"] / measured["pipeline_s"])
    assert sum(measured["pipeline_answers"].values()) == sum(measured["naive_answers"].values()) == 3
    assert results["models_loaded"] == [SMALL_MODEL] and results["server_peak_memory_gib"] > 0
    assert "ratio_to_limit" in table(results) and "speedup_vs_naive" in table(results)
