"""How close stages 1 and 2 come to what this machine allows: ``python -m analysis bench``.

For each embedded model, on the first ``limit`` reports of a corpus (cold cache):

- the limit: the model's prompt-processing rate on a long batch, measured in
  this process with the server's thread settings, ``RATE_REPEATS`` times
  before and as many after the model's pipeline runs, so that both see the same
  machine: the median is the rate, the spread is printed. From it, the least
  time each stage could take: the tokens each prompt does not share with the
  prompt before it, divided by that rate (a shared prefix costs once);
- the pipeline: the run's labeling steps (``analysis.labeling.pipeline``) through the embedded
  server, as ``make paper`` runs them, with the model as its own gate: stage 1
  on every report, stage 2 (each of its tasks: the sites, the evidence, the
  per-site questions) on those it called Yes;
- a naive reference over the same server, as a plain script would do it: the
  same instruction, but after the report (so no prefix is shared), free text
  generated and the answer parsed from it afterwards.

It prints ``ratio_to_limit`` (pipeline time ÷ least time) per stage,
``speedup_vs_naive`` per model, stage 2's time over stage 1's (``stage2 ÷ stage1``), the peak memory of the server with every
model loaded, and writes everything as JSON. A ratio below ``MEASUREMENT_FLOOR``
means the limit was under-measured (the machine was busier while the rate
was taken than while the pipeline ran), and is flagged as such. Model loading
is timed apart and left out. A stage that generates text (a written answer)
has generation in its pipeline time that its least time does not count.

``paper_ratio`` sets the whole of a ``make paper`` run against its least time:
the manifest's time per model and stage, over the least times of exactly the
prompts that run sent (``sent_prompts``: its inputs, and the reports its gate
sent to stage 2), at the rates a bench measured.

``bench_hosts`` measures spreading the reports over several servers already
running (``--hosts``): stage 1 of each model through the first server alone,
then through all of them, each from a cold response cache and after the
preflight has loaded the model everywhere: reports per second each way, and
whether the answers are the same.
"""

import json
import re
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx
import ollama
import pandas as pd

from analysis.config import BUILD_DIR, DEMO_DIR, MODELS_DIR, RunFiles
from analysis.data.io import read_reports
from analysis.data.vocabulary import LABELS, UNDEFINED
from analysis.labeling.inputs import inputs_step, prompt_inputs, read_inputs
from analysis.labeling.labels import gated_reports, read_labels
from analysis.labeling.manifest import Manifest
from analysis.labeling.pipeline import label_reports
from analysis.labeling.session import Session
from analysis.labeling.stage1 import stage1_step
from analysis.llm.client import free_loopback_port, start_embedded_server
from analysis.serving.engine import LoadedModel, common_prefix
from analysis.serving.weights import load_registry
from analysis.specs import Host, Task, load_run, load_task

RATE_TOKENS = 512  # one long batch: the rate at which llama.cpp evaluates a prompt on this machine
RATE_REPEATS = 3  # long batches timed before, and as many after, a model's pipeline runs
MEASUREMENT_FLOOR = 0.95  # a pipeline faster than this share of its least time means a mis-measured limit
NAIVE_MAX_TOKENS = 48
GIB = 2**30


def prompt_rates(model: LoadedModel, text: str, repeats: int = RATE_REPEATS) -> list[float]:
    """Tokens per second evaluating ``RATE_TOKENS`` tokens of ``text`` at once, ``repeats`` times."""
    tokens = model.tokenize(text)[:RATE_TOKENS]
    rates = []
    for _ in range(repeats):
        model.llm.reset()
        started = time.perf_counter()
        model.llm.eval(tokens)
        rates.append(len(tokens) / (time.perf_counter() - started))
    model.llm.reset()
    return rates


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


def first_sent(reports_file: Path, run, limit: int) -> pd.DataFrame:
    """The first ``limit`` reports of ``reports_file`` that send a prompt (those with an impression)."""
    reports = read_reports(reports_file)
    inputs = prompt_inputs(reports, run)
    return reports[reports.report_id.isin(inputs.report_id[inputs.prompt_text.notna()].head(limit))]


def sent_prompts(files: RunFiles) -> dict[str, list[str]]:
    """The texts a run sent, by stage, read from its files: every report's that sent one, then the gated ones'."""
    inputs = read_inputs(files.inputs)
    texts = dict(zip(inputs.report_id, inputs.prompt_text))
    texts = {report_id: text for report_id, text in texts.items() if isinstance(text, str)}
    gated = gated_reports(read_labels(files.labels)) if files.labels.is_file() else []
    return {"stage1": list(texts.values()), "stage2": [texts[i] for i in gated if i in texts]}


def _own_gate(run, tag: str):
    """``run`` with ``tag`` as its gate, so that a model benchmarked alone runs its own stage 2."""
    if not run.localization:
        return run
    return run.model_copy(update={"localization": run.localization.model_copy(update={"gate": tag})})


def stage_prompts(model: LoadedModel, task: Task, texts: list[str]) -> list[list[int]]:
    """The tokenized prompts ``task`` sends about ``texts``, in the order they are sent (a report's probes together)."""
    messages = ([task.messages(text, probe) for text in texts for probe in task.probes] if task.probes
                else [task.messages(text) for text in texts])
    return [model.tokenize(model.render_chat(each)) for each in messages]


def stage_tasks(run) -> dict[str, list[Task]]:
    """The run's tasks by stage: stage 1's, and where the run has a localization, every task stage 2 asks (the
    sites, the evidence, the per-site questions)."""
    return {"stage1": [load_task(run.task)],
            **({"stage2": [load_task(name) for name in run.localization.tasks]} if run.localization else {})}


def stage_unique_tokens(model: LoadedModel, tasks: list[Task], texts: list[str]) -> int:
    """The tokens a stage's prompts about ``texts`` do not share with the prompt before, task after task."""
    return sum(sum(unique_tokens(stage_prompts(model, task, texts))) for task in tasks)


def stage_seconds(seconds: dict, tag: str, tasks: list[Task]) -> float | None:
    """A stage's time for ``tag``: the manifest's seconds of its tasks, summed; None where it ran none."""
    times = [seconds[tag, task.name] for task in tasks if (tag, task.name) in seconds]
    return sum(times) if times else None


def _limit(unique: int, pipeline_s: float, rate: float) -> dict:
    least = unique / rate
    ratio = pipeline_s / least
    return {"unique_tokens": unique, "least_s": least, "pipeline_s": pipeline_s, "ratio_to_limit": ratio,
            "measurement_error": ratio < MEASUREMENT_FLOOR}


def bench(reports_file: Path = DEMO_DIR / "reports.csv", limit: int = 40, run_name: str = "embedded",
          tags: list[str] | None = None, models_dir: Path = MODELS_DIR, paper_dir: Path | None = None) -> dict:
    """The figures of the module's docstring; with ``paper_dir`` (a ``make paper`` run's folder), that run's
    stages against their least times too."""
    run = load_run(run_name)
    tags = tags or run.tags
    reports = first_sent(reports_file, run, limit)
    registry = load_registry()
    tasks = stage_tasks(run)
    results = {"reports": len(reports), "reports_file": str(reports_file), "models": {},
               "tasks": {stage: [task.name for task in asked] for stage, asked in tasks.items()}}
    paper = paper_sent(paper_dir) if paper_dir else None
    host = f"http://127.0.0.1:{free_loopback_port()}"
    server = start_embedded_server(host)
    try:
        client = ollama.Client(host=host)
        for tag in tags:
            model = LoadedModel(tag, registry[tag].path(models_dir), num_ctx=run.options["num_ctx"])
            started = time.perf_counter()
            client.chat(model=tag, messages=[{"role": "user", "content": "Hello."}], options={"num_predict": 1,
                        "num_ctx": run.options["num_ctx"]})
            load_s = time.perf_counter() - started
            with tempfile.TemporaryDirectory() as scratch:
                files = RunFiles(Path(scratch))
                session = Session(_own_gate(run, tag), models=[tag], host=host, cache_path=Path(scratch) / "cache.sqlite")
                inputs_step(files, session.run, reports)
                texts = sent_prompts(files)["stage1"]
                sample = "\n".join(texts)
                rates = prompt_rates(model, sample)
                labels, manifest = label_reports(session, files, reports)
                sent, seconds = sent_prompts(files), manifest.seconds()
            pipeline = {stage: stage_seconds(seconds, tag, asked) for stage, asked in tasks.items()
                        if sent[stage]}
            unique = {stage: stage_unique_tokens(model, tasks[stage], sent[stage]) for stage in pipeline}
            naive_s, naive_answers = naive_run(client, tag, tasks["stage1"][0], texts, run.options_for(tag))
            rates += prompt_rates(model, sample)
            rate = statistics.median(rates)
            results["models"][tag] = {
                "prompt_tokens_per_s": rate, "rates": rates, "load_s": load_s, "naive_s": naive_s,
                "reports_sent": {stage: len(sent[stage]) for stage in pipeline},
                **{stage: _limit(unique[stage], pipeline[stage], rate) for stage in pipeline},
                "pipeline_reports_per_s": len(texts) / pipeline["stage1"],
                **({"stage2_to_stage1": pipeline["stage2"] / pipeline["stage1"]} if "stage2" in pipeline else {}),
                "speedup_vs_naive": naive_s / pipeline["stage1"],
                "pipeline_answers": labels.extravasation[labels.model == tag].value_counts().reindex(LABELS, fill_value=0).to_dict(),
                "naive_answers": pd.Series(naive_answers).value_counts().reindex(LABELS, fill_value=0).to_dict(),
            }
            if paper:
                results.setdefault("paper", {"run_dir": str(paper["run_dir"]), "models": {}})["models"][tag] = {
                    stage: {"unique_tokens": stage_unique_tokens(model, tasks[stage], sent)}
                    for stage, sent in paper["texts"].items() if stage in tasks}
                for stage, entry in results["paper"]["models"][tag].items():
                    entry["least_s"] = entry["unique_tokens"] / rate
                    entry["pipeline_s"] = stage_seconds(paper["seconds"], tag, tasks[stage])
            del model
        results["server_peak_memory_gib"] = peak_memory_bytes(server.pid) / GIB
        results["models_loaded"] = [m["name"] for m in httpx.get(f"{host}/api/ps").json()["models"]]
    finally:
        server.terminate()
        server.wait(timeout=30)
    if paper:
        results["paper"] |= paper_ratio(results["paper"]["models"], paper["wall_s"]) | {"from_cache": paper["from_cache"]}
    return results


def paper_sent(directory: Path) -> dict:
    """What the ``make paper`` run in ``directory`` sent (``sent_prompts``), each model's seconds per task (its
    manifest), the time from its start to its end, and how many answers it took from the cache."""
    files = RunFiles(Path(directory))
    manifest = Manifest.read(files.manifest)
    started, finished = (datetime.fromisoformat(moment) for moment in (manifest.started_at, manifest.finished_at))
    # Answers the run took from the cache cost it nothing: its times are then no cold run's.
    cached = sum(entry.from_cache for entry in manifest.timing if entry.model in manifest.determinism["digests"])
    return {"run_dir": directory, "seconds": manifest.seconds(), "wall_s": (finished - started).total_seconds(),
            "from_cache": cached, "texts": sent_prompts(files)}


def paper_ratio(models: dict, wall_s: float) -> dict:
    """Each stage's time in the paper's run (summed over models) against its least time, and the labeling's
    whole time (first request to last answer, model loading and the stages between included) against the sum."""
    stages = {}
    for entry in models.values():
        for stage, figures in entry.items():
            total = stages.setdefault(stage, {"least_s": 0.0, "pipeline_s": 0.0})
            total["least_s"] += figures["least_s"]
            total["pipeline_s"] += figures["pipeline_s"] or 0.0
    for total in stages.values():
        total["ratio_to_limit"] = total["pipeline_s"] / total["least_s"]
    least = sum(total["least_s"] for total in stages.values())
    return {"stages": stages, "labeling_wall_s": wall_s, "least_s": least, "ratio_to_limit": wall_s / least,
            **({"stage2_to_stage1": stages["stage2"]["pipeline_s"] / stages["stage1"]["pipeline_s"]}
               if {"stage1", "stage2"} <= set(stages) else {})}


def _stage1_through(run, hosts: list[str], tag: str, reports: pd.DataFrame) -> tuple[float, dict]:
    """Seconds stage 1 of ``tag`` takes spread over ``hosts`` (cold response cache, the model loaded by the
    preflight; the manifest's time, which the preflight is not part of), and its answers:
    ``{report_id: (answer, p_yes)}``."""
    spread_run = run.model_copy(update={"hosts": [Host(url=url) for url in hosts]})
    with tempfile.TemporaryDirectory() as scratch:
        files = RunFiles(Path(scratch))
        session = Session(spread_run, models=[tag], cache_path=Path(scratch) / "cache.sqlite")
        inputs_step(files, session.run, reports)
        labels = stage1_step(session, files)
        seconds = Manifest.read(files.manifest).seconds()[tag, session.task.name]
    answered = labels[labels.model == tag]
    return seconds, {row.report_id: (row.extravasation, row.p_yes) for row in answered.itertuples()}


def bench_hosts(hosts: list[str], reports_file: Path = DEMO_DIR / "reports.csv", limit: int = 40,
                run_name: str = "embedded", tags: list[str] | None = None) -> dict:
    """Reports per second of stage 1 through the first of ``hosts`` alone and through all of them."""
    run = load_run(run_name)
    reports = first_sent(reports_file, run, limit)
    results = {"reports": len(reports), "reports_file": str(reports_file), "hosts": hosts, "models": {}}
    for tag in tags or run.tags:
        one_s, one = _stage1_through(run, hosts[:1], tag, reports)
        all_s, every = _stage1_through(run, hosts, tag, reports)
        results["models"][tag] = {
            "one_server_s": one_s, "one_server_reports_per_s": len(reports) / one_s,
            "all_servers_s": all_s, "all_servers_reports_per_s": len(reports) / all_s,
            "speedup": one_s / all_s, "same_answers": one == every,
        }
    return results


def hosts_table(results: dict) -> str:
    rows = [{
        "model": tag, "1 server s": f"{m['one_server_s']:.1f}", "1 server reports/s": f"{m['one_server_reports_per_s']:.2f}",
        f"{len(results['hosts'])} servers s": f"{m['all_servers_s']:.1f}",
        f"{len(results['hosts'])} servers reports/s": f"{m['all_servers_reports_per_s']:.2f}",
        "speedup": f"{m['speedup']:.2f}", "same answers": "yes" if m["same_answers"] else "no",
    } for tag, m in results["models"].items()]
    return (f"{results['reports']} reports, cold cache, through {', '.join(results['hosts'])}\n"
            + pd.DataFrame(rows).to_string(index=False))


def table(results: dict) -> str:
    rows = []
    for tag, m in results["models"].items():
        for stage in ("stage1", "stage2"):
            if stage not in m:
                continue
            figures = m[stage]
            rows.append({
                "model": tag, "stage": stage, "tasks": ", ".join(results["tasks"][stage]),
                "prompt tok/s": f"{m['prompt_tokens_per_s']:.1f} ({min(m['rates']):.1f}-{max(m['rates']):.1f})",
                "unique tokens": figures["unique_tokens"], "least s": f"{figures['least_s']:.1f}",
                "pipeline s": f"{figures['pipeline_s']:.1f}",
                "ratio_to_limit": f"{figures['ratio_to_limit']:.2f}" + (" (limit under-measured)"
                                                                       if figures["measurement_error"] else ""),
                "speedup_vs_naive": f"{m['speedup_vs_naive']:.2f}" if stage == "stage1" else "",
                "stage2 ÷ stage1": f"{m['stage2_to_stage1']:.2f}" if stage == "stage2" else "",
            })
    memory = (f"server peak memory with {', '.join(results['models_loaded'])} loaded: "
              f"{results['server_peak_memory_gib']:.2f} GiB")
    text = (f"{results['reports']} reports, cold cache; prompt tok/s: the median of {2 * RATE_REPEATS} long batches "
            f"(their range), half before and half after the model's pipeline runs\n"
            + pd.DataFrame(rows).to_string(index=False) + "\n" + memory)
    if paper := results.get("paper"):
        lines = [f"{stage}: {t['pipeline_s'] / 60:.1f} min against a least {t['least_s'] / 60:.1f} min "
                 f"(ratio {t['ratio_to_limit']:.2f})" for stage, t in paper["stages"].items()]
        cold = ("" if not paper["from_cache"] else
                f" [not a cold run: {paper['from_cache']} answers came from the cache, so these ratios understate]")
        text += (f"\nthe last make paper ({paper['run_dir']}){cold}, at these rates: " + "; ".join(lines)
                 + (f"; stage 2 took {paper['stage2_to_stage1']:.2f} times stage 1's time"
                    if "stage2_to_stage1" in paper else "")
                 + f"; labeling from first request to last answer {paper['labeling_wall_s'] / 60:.1f} min against "
                 f"{paper['least_s'] / 60:.1f} (ratio {paper['ratio_to_limit']:.2f})")
    return text


def write(results: dict, path: Path = BUILD_DIR / "bench.json") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path
