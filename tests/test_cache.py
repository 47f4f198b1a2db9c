"""Cache keys and the SQLite response cache (no model involved)."""

import stat

from analysis.llm.cache import ResponseCache, cache_key

REQUEST = {
    "model": "qwen2.5-coder:1.5b",
    "messages": [{"role": "user", "content": "IMPRESSION: splenic laceration with active extravasation."}],
    "format": {"type": "object"},
    "options": {"temperature": 0, "seed": 42, "num_ctx": 4096},
    "logprobs": True,
    "top_logprobs": 20,
}


def test_key_changes_with_everything_that_determines_the_answer():
    base = cache_key("sha256:a", 1, REQUEST)
    assert cache_key("sha256:a", 1, dict(REQUEST)) == base
    assert cache_key("sha256:b", 1, REQUEST) != base  # other weights
    assert cache_key("sha256:a", 2, REQUEST) != base  # new task version
    changed_prompt = {**REQUEST, "messages": [{"role": "user", "content": "IMPRESSION: no active extravasation."}]}
    assert cache_key("sha256:a", 1, changed_prompt) != base
    assert cache_key("sha256:a", 1, {**REQUEST, "options": {**REQUEST["options"], "seed": 1}}) != base
    assert cache_key("sha256:a", 1, {**REQUEST, "format": "json"}) != base


def test_key_ignores_where_the_model_runs_and_how_an_over_long_prompt_is_handled():
    # num_gpu and the like decide where a model runs, not what it answers: lowering num_gpu keeps every answer.
    placed = {**REQUEST, "options": {**REQUEST["options"], "num_gpu": 999, "num_thread": 8, "main_gpu": 1},
              "keep_alive": "30m", "truncate": False}
    assert cache_key("sha256:a", 1, placed) == cache_key("sha256:a", 1, REQUEST)
    assert cache_key("sha256:a", 1, {**REQUEST, "options": {**REQUEST["options"], "num_ctx": 8192}}) != cache_key("sha256:a", 1, REQUEST)


def test_key_ignores_the_tag_when_the_weights_are_the_same():
    # Two tags for one digest are one model: its answers are shared.
    assert cache_key("sha256:a", 1, {**REQUEST, "model": "alias:latest"}) == cache_key("sha256:a", 1, REQUEST)


def test_cache_persists_across_connections_and_is_private(tmp_path):
    path = tmp_path / "responses.sqlite"
    cache = ResponseCache(path)
    key = cache_key("sha256:a", 1, REQUEST)
    assert cache.get(key) is None
    metadata = dict(model="m", digest="sha256:a", task="t", task_version=1, report_id="r1", server="test")
    cache.put(key, **metadata, request=REQUEST, response={"message": {"content": '{"answer": "Yes"}'}})
    cache.put(key, **metadata, request=REQUEST, response={"message": {"content": "second write ignored"}})
    cache.close()
    reopened = ResponseCache(path)
    assert reopened.get(key) == {"message": {"content": '{"answer": "Yes"}'}}
    assert len(reopened) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
