"""How close stage 1 comes to what this machine allows: ``python -m analysis bench``.

For each embedded model, on the first ``limit`` reports of a corpus (cold cache):

- the limit: the model's prompt-processing rate on one long batch, measured
  in this process, and from it the least time stage 1 could take: the tokens
  each prompt does not share with the prompt before it, divided by that rate
  (the shared instruction prefix costs once);
- the pipeline: ``Labeler.stage1`` through the embedded server, as
  ``make paper`` runs it;
- a naive reference over the same server, as a plain script would do it: the
  same instruction, but after the report (so no prefix is shared), free text
  generated and the answer parsed from it afterwards.

It prints ``ratio_to_limit`` (pipeline time ÷ least time) and
``speedup_vs_naive`` per model, the peak memory of the server with every
model loaded, and writes everything as JSON. Model loading is timed apart
and left out of both.
"""

import json
import re
import tempfile
import time
from pathlib import Path

import httpx
import ollama
import pandas as pd

from analysis.config import BUILD_DIR, DEMO_DIR, MODELS_DIR
from analysis.data.io import read_reports
from analysis.data.vocabulary import LABELS, UNDEFINED
from analysis.labeling.inputs import prompt_inputs
from analysis.labeling.labeler import Labeler
from analysis.labeling.stage1 import label_stage1
from analysis.llm.client import free_loopback_port, start_embedded_server
from analysis.serving.engine import LoadedModel, common_prefix
from analysis.serving.weights import load_registry
from analysis.specs import Task, load_run, load_task

RATE_TOKENS = 512  # one long batch: the rate at which llama.cpp evaluates a prompt on this machine
NAIVE_MAX_TOKENS = 48
GIB = 2**30


def prompt_rate(model: LoadedModel, text: str) -> float:
    """Tokens per second evaluating ``RATE_TOKENS`` tokens of ``text`` at once, best of two."""
    tokens = model.tokenize(text)[:RATE_TOKENS]
    best = 0.0
    for _ in range(2):
        model.llm.reset()
        started = time.perf_counter()
        model.llm.eval(tokens)
        best = max(best, len(tokens) / (time.perf_counter() - started))
    model.llm.reset()
    return best


def unique_tokens(prompts: list[list[int]]) -> list[int]:
    """For each tokenized prompt in turn, the tokens it does not share with the prompt before it."""
    counts, previous = [], []
    for tokens in prompts:
        counts.append(len(tokens) - min(common_prefix(previous, tokens), len(tokens) - 1))
        previous = tokens
    return counts


def _naive_answer(text: str) -> str:
    found = re.search(r"\b(yes|no|undefined)\b", text, re.IGNORECASE)
    return found.group(1).capitalize() if found else UNDEFINED


def naive_prompt(task: Task, text: str) -> str:
    """The task's own instruction, but after the report: no two prompts then share more than the chat header."""
    return f"IMPRESSION:\n{text}\n\n" + task.messages("(the impression above)")[0]["content"]


def naive_run(client: ollama.Client, tag: str, task: Task, texts: list[str], options: dict) -> tuple[float, list[str]]:
    """Seconds for the naive script over ``texts`` (free text, parsed afterwards), and its answers."""
    started, answers = time.perf_counter(), []
    for text in texts:
        reply = client.chat(model=tag, messages=[{"role": "user", "content": naive_prompt(task, text)}],
                            options={**options, "num_predict": NAIVE_MAX_TOKENS})
        answers.append(_naive_answer(reply.message.content))
    return time.perf_counter() - started, answers


def peak_memory_bytes(pid: int) -> int:
    """Peak resident memory of a process (Linux ``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc: peak memory is measured on Linux only")


def bench(reports_file: Path = DEMO_DIR / "reports.csv", limit: int = 40, run_name: str = "embedded",
          tags: list[str] | None = None, models_dir: Path = MODELS_DIR) -> dict:
    run = load_run(run_name)
    tags = tags or run.tags
    inputs = prompt_inputs(read_reports(reports_file), run)
    inputs = inputs[inputs.prompt_text.notna()].head(limit)
    texts = inputs.prompt_text.tolist()
    registry = load_registry()
    task = load_task(run.task)
    results = {"reports": len(texts), "reports_file": str(reports_file), "models": {}}

    limits = {}
    for tag in tags:
        model = LoadedModel(tag, registry[tag].path(models_dir), num_ctx=run.options["num_ctx"])
        prompts = [model.tokenize(model.render_chat(task.messages(text))) for text in texts]
        counts = unique_tokens(prompts)
        rate = prompt_rate(model, "\n".join(texts))
        limits[tag] = {"prompt_tokens_per_s": rate, "unique_tokens": sum(counts),
                       "prompt_tokens": sum(map(len, prompts)),
                       "least_s": sum(counts) / rate}
        del model

    host = f"http://127.0.0.1:{free_loopback_port()}"
    server = start_embedded_server(host)
    try:
        client = ollama.Client(host=host)
        for tag in tags:
            started = time.perf_counter()
            client.chat(model=tag, messages=[{"role": "user", "content": "Hello."}], options={"num_predict": 1,
                        "num_ctx": run.options["num_ctx"]})
            load_s = time.perf_counter() - started
            with tempfile.TemporaryDirectory() as scratch:
                labeler = Labeler(run, models=[tag], host=host, cache_path=Path(scratch) / "cache.sqlite")
                started = time.perf_counter()
                labels, _ = label_stage1(labeler, inputs)
                pipeline_s = time.perf_counter() - started
            naive_s, naive_answers = naive_run(client, tag, task, texts, run.options_for(tag))
            least = limits[tag]["least_s"]
            results["models"][tag] = {
                **limits[tag], "load_s": load_s, "pipeline_s": pipeline_s, "naive_s": naive_s,
                "pipeline_reports_per_s": len(texts) / pipeline_s,
                "pipeline_unique_tokens_per_s": limits[tag]["unique_tokens"] / pipeline_s,
                "ratio_to_limit": pipeline_s / least, "speedup_vs_naive": naive_s / pipeline_s,
                "pipeline_answers": labels.extravasation.value_counts().reindex(LABELS, fill_value=0).to_dict(),
                "naive_answers": pd.Series(naive_answers).value_counts().reindex(LABELS, fill_value=0).to_dict(),
            }
        results["server_peak_memory_gib"] = peak_memory_bytes(server.pid) / GIB
        results["models_loaded"] = [m["name"] for m in httpx.get(f"{host}/api/ps").json()["models"]]
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


def table(results: dict) -> str:
    rows = [{
        "model": tag, "prompt tok/s": f"{m['prompt_tokens_per_s']:.1f}",
        "unique tokens": m["unique_tokens"], "least s": f"{m['least_s']:.1f}", "pipeline s": f"{m['pipeline_s']:.1f}",
        "reports/s": f"{m['pipeline_reports_per_s']:.2f}", "unique tok/s": f"{m['pipeline_unique_tokens_per_s']:.1f}",
        "naive s": f"{m['naive_s']:.1f}", "ratio_to_limit": f"{m['ratio_to_limit']:.2f}",
        "speedup_vs_naive": f"{m['speedup_vs_naive']:.2f}",
    } for tag, m in results["models"].items()]
    memory = (f"server peak memory with {', '.join(results['models_loaded'])} loaded: "
              f"{results['server_peak_memory_gib']:.2f} GiB")
    return f"{results['reports']} reports, cold cache\n" + pd.DataFrame(rows).to_string(index=False) + "\n" + memory


def write(results: dict, path: Path = BUILD_DIR / "bench.json") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path
