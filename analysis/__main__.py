"""Command line: ``python -m analysis COMMAND``. The notebooks call the same functions."""

import argparse
import sys
from pathlib import Path

from analysis.config import BUILD_DIR, DEMO_DIR, FIGURES_DIR, MODELS_DIR, PROCESSED_DIR, RESPONSE_CACHE_FILE, run_dir


def _serve(args) -> int:
    from analysis.serving.as_ollama import load_behaviour
    from analysis.serving.server import serve

    behaviour = load_behaviour(args.as_ollama) if args.as_ollama else None
    serve(host=args.host, port=args.port, models_dir=args.models_dir, threads=args.threads, behaviour=behaviour)
    return 0


def _provision(args) -> int:
    from analysis.serving.weights import provision

    provision(args.models or None, models_dir=args.models_dir)
    return 0


def _with_server(args) -> int:
    from analysis.llm.client import with_server

    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        raise SystemExit("with-server: give the command to run after --")
    return with_server(command)


def _label(args) -> int:
    from analysis.config import RunFiles
    from analysis.data.io import read_reports
    from analysis.labeling.pipeline import label_reports
    from analysis.labeling.session import Session

    reports = read_reports(args.reports, id_column=args.id_column, text_column=args.text_column)
    session = Session(args.run, models=args.models or None, host=args.host, cache_path=args.cache,
                      refresh=args.refresh, workers=args.workers, task=args.task, allow_raw=args.allow_raw)
    files = RunFiles(args.out)
    labels, _ = label_reports(session, files, reports.head(args.limit) if args.limit else reports)
    print(f"{labels.report_id.nunique()} reports, {labels.model.nunique()} label sets. Wrote {files.labels} and "
          f"{files.manifest} (every step's file in {files.directory}), every raw response in "
          f"{Path(args.cache).with_suffix('.csv')}")
    return 0


def _check(args) -> int:
    from analysis.config import ROOT
    from analysis.data.io import read_reports
    from analysis.labeling.inputs import prompt_inputs
    from analysis.labeling.session import Session

    session = Session(args.run, models=args.models or None, host=args.host, task=args.task, allow_raw=args.allow_raw)
    if not session.tags:
        raise SystemExit("check: the models chosen ask no LLM server (the rules need none)")
    inputs = prompt_inputs(read_reports(args.reports, id_column=args.id_column, text_column=args.text_column), session.run)
    texts = inputs.prompt_text.dropna()
    reports = args.reports.resolve()
    shown = reports.relative_to(ROOT) if reports.is_relative_to(ROOT) else reports
    print(f"Preflight of run '{session.run.name}', task {session.task.name} v{session.task.version}, "
          f"with the longest of {len(texts)} impressions in {shown}:")
    session.check(session.task, texts)
    return 0


def _ollama_import(args) -> int:
    """Each embedded model of the run, put into the Ollama at --host (or OLLAMA_HOST) from its GGUF file."""
    import ollama

    from analysis.config import normalize_host, ollama_host
    from analysis.llm.backend import warn_if_remote
    from analysis.llm.modelfile import import_model, modelfile
    from analysis.serving.weights import load_registry
    from analysis.specs import load_run

    run, registry = load_run(args.run), load_registry()
    host = normalize_host(args.host or ollama_host())
    warn_if_remote(host)
    client = ollama.Client(host=host)
    args.out.mkdir(parents=True, exist_ok=True)
    for tag in (tag for tag in run.tags if tag in registry):
        model, options = registry[tag], run.options_for(tag)
        gguf = model.path(args.models_dir)
        if not gguf.is_file():
            raise SystemExit(f"ollama-import: {gguf} is missing; run `make setup` first")
        written = args.out / f"{tag.replace(':', '-')}.Modelfile"
        written.write_text(modelfile(gguf, model.chat_format, model.system, options))
        print(f"{tag}: creating it on {host} from {gguf.name} (its Modelfile: {written}) ...", flush=True)
        import_model(client, tag, gguf, model.chat_format, model.system, options)
    print(f"Done. `python -m analysis check --run {args.run}` shows how Ollama asks each model.")
    return 0


def _evaluate(args) -> int:
    from analysis.config import RunFiles
    from analysis.data.io import read_case_features, read_split, read_truth
    from analysis.labeling.inputs import truth_step
    from analysis.labeling.labels import read_labels
    from analysis.reporting.tables import table1a_step, table1b_step
    from analysis.specs import load_run

    run = load_run(args.run)
    gate = run.localization.gate if run.localization else None
    labels = read_labels(args.labels, gate=gate)
    files = RunFiles(args.out)
    truth_step(files, read_truth(args.truth, args.evidence), read_split(args.split) if args.split else None)
    if args.split:
        print(f"Evaluated on the test split of {args.split} ({files.truth}; the development part, in "
              f"{files.truth_dev}, chooses the p_yes cut)")
    features = read_case_features(args.case_features) if args.case_features else None
    first = table1a_step(files, run, args.out, features, labels=labels)
    if gate in set(labels.model) and labels.gated.any():
        table1b_step(files, run, args.out, labels=labels)
    else:
        print(f"Table 1B skipped: no report of these labels went to stage 2 (the run's gate model is {gate}).")
    print(first.table1a[["model", "precision", "recall", "f1", "accuracy", "n", "n_undefined"]].to_string(index=False))
    print(f"{len(first.undefined_truth)} reports whose truth is Undefined were left out of the scored set "
          f"(listed in {files.undefined_truth}).")
    print(f"Wrote the tables in {args.out}")
    return 0


def _adjudicate(args) -> int:
    from analysis.reporting.adjudication import adjudicate_step

    done = adjudicate_step(args.decisions, args.labels, args.out, args.truth, args.split)
    verdicts = done.decisions.verdict.value_counts()
    print(f"{len(done.decisions)} decisions ({verdicts.get('right', 0)} right, {verdicts.get('wrong', 0)} wrong) on "
          f"{done.decisions.report_id.nunique()} reports, label set(s) {', '.join(done.decisions.label_set.unique())}")
    if done.scores is not None:
        print(done.scores.to_string(index=False, float_format="{:.3f}".format))
    print("Wrote " + ", ".join(map(str, done.written)))
    return 0


def _site_cuts(args) -> int:
    import math

    from analysis.config import SITE_CUTS_DIR, RunFiles, run_dir
    from analysis.data.io import read_truth
    from analysis.data.vocabulary import Role
    from analysis.evaluation.thresholds import site_cuts
    from analysis.labeling.labels import read_labels
    from analysis.specs import SiteCuts, load_run, load_task

    run = load_run(args.run)
    if not (run.localization and run.localization.site_probes):
        raise SystemExit(f"site-cuts: run '{run.name}' asks no per-site questions (localization.site_probes)")
    task = load_task(run.localization.site_probes)
    files = RunFiles(run_dir(run.name, args.processed))
    labels = read_labels(files.labels)
    development = read_truth(files.truth_dev)
    if development.empty:
        raise SystemExit(f"site-cuts: {files.truth_dev} is empty: cuts are chosen on a development part only")
    voting = labels[labels.role.isin([Role.MODEL, Role.ENSEMBLE])]
    chosen = {model: {site: None if math.isnan(cut) else round(cut, 6) for site, cut in cuts.items()}
              for model, cuts in site_cuts(voting, development).items()}
    gated = labels.report_id[labels.gated].unique()
    n = int((development.report_id.isin(gated) & (development.extravasation == "Yes")).sum())
    cuts = SiteCuts(task=task.name, task_version=task.version, cuts=chosen,
                    chosen_on=f"the {n} development reports (truth_dev.csv of run {run.name}) that the gate model "
                              f"{run.localization.gate} called Yes and whose truth is Yes: the best F1 per site")
    out = _write_chosen(args.out or SITE_CUTS_DIR / f"{run.name}.yaml", cuts,
                        f"Written by `python -m analysis site-cuts --run {run.name}` from the development split only; "
                        f"a run names this file as localization.site_cuts.")
    print(f"Wrote {out}: cuts for {len(chosen)} label sets, chosen on {n} development reports")
    return 0


def _write_chosen(out: Path, chosen, provenance: str) -> Path:
    """A choice made on a development split (a pydantic model), as the versioned YAML file a run names, headed by
    where it came from."""
    import yaml

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(f"# {provenance}\n" + yaml.safe_dump(chosen.model_dump(), sort_keys=False, allow_unicode=True, width=120))
    return out


def _review_priority(args) -> int:
    from analysis.config import REVIEW_PRIORITY_DIR, RunFiles, run_dir
    from analysis.data.io import read_truth
    from analysis.evaluation.review_budget import choose_label_set, fit_priority
    from analysis.labeling.labels import read_labels
    from analysis.labeling.priority import FEATURES
    from analysis.specs import load_run

    run = load_run(args.run)
    files = RunFiles(run_dir(run.name, args.processed))
    # Stage 2's labels hold the evidence; before stage 2 has run, the ensemble's stage-1 labels hold the rest.
    source = next((path for path in (files.labels, files.ensemble) if path.is_file()), None)
    if source is None:
        raise SystemExit(f"review-priority: neither {files.labels} nor {files.ensemble} exists: label the run first")
    labels = read_labels(source)
    development = read_truth(files.truth_dev)
    if development.empty:
        raise SystemExit(f"review-priority: {files.truth_dev} is empty: the priority is fitted on a development part only")
    if run.review.label_set:
        label_set, why = run.review.label_set, f"named in run {run.name}'s file (review.label_set)"
    else:
        label_set, why = choose_label_set(labels, development)
    model = fit_priority(labels, development, label_set, why, FEATURES)
    out = _write_chosen(args.out or REVIEW_PRIORITY_DIR / f"{run.name}.yaml", model,
                        f"Written by `python -m analysis review-priority --run {run.name}` from the development split "
                        f"only ({source.name}); a run names this file as review.priority.")
    print(f"Wrote {out}: the priority of {label_set}'s errors, fitted on {model.fitted_on} from {source}")
    return 0


def _split(args) -> int:
    from analysis.data.io import read_split, read_truth, write_table
    from analysis.data.split import extend_split, make_split

    if args.out.exists() and not args.force and args.extend != args.out:
        raise SystemExit(f"split: {args.out} exists (the committed split of the demo corpus is data/demo/split.csv); "
                         f"write elsewhere with --out, extend it with --extend {args.out}, or replace it with --force")
    truth = read_truth(args.truth)
    split = extend_split(truth, read_split(args.extend), args.seed) if args.extend else make_split(truth, args.dev, args.seed)
    write_table(split, args.out)
    print(split.split.value_counts().to_string(header=False) + f"\nWrote {args.out}")
    return 0


def _tasks(args) -> int:
    from analysis.config import TASKS_DIR, ROOT
    from analysis.specs import load_run

    run = load_run(args.run)
    stages = {1: [run.task], 2: run.localization.tasks if run.localization else []}
    print(" ".join(f"{stage}:{(TASKS_DIR / f'{name}.yaml').relative_to(ROOT)}" for stage, names in stages.items()
                   for name in names))
    return 0


def _bench(args) -> int:
    from analysis.bench import bench, bench_hosts, hosts_table, table, write

    if args.hosts:
        results = bench_hosts(args.hosts, args.reports, args.limit, args.run, args.models or None)
        print(hosts_table(results))
    else:
        made = run_dir(args.run)
        paper_dir = made if (made / "manifest.json").is_file() and (made / "labels.csv").is_file() else None
        results = bench(args.reports, args.limit, args.run, args.models or None, paper_dir=paper_dir)
        print(table(results))
    out = args.out or BUILD_DIR / ("bench_hosts.json" if args.hosts else "bench.json")
    print(f"Wrote {write(results, out)}")
    return 0


def _reproduce(args) -> int:
    from analysis.labeling.labels import read_labels
    from analysis.reporting.reproduction import run_numerics, write_reference, write_reproduction

    if args.write_reference:
        paths = write_reference(read_labels(args.labels), args.reference, run_numerics(args.labels))
        print("Wrote " + ", ".join(map(str, paths)))
        return 0
    print(write_reproduction(args.labels, args.reference, args.out, args.figures))
    print(f"Wrote {args.out}")
    return 0


ALLOW_RAW_HELP = ("ask models whose template puts no chat structure around the messages (a GGUF file imported "
                  "without a TEMPLATE), which the check otherwise refuses; the manifest records it")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__)
    commands = parser.add_subparsers(dest="name", required=True)

    serve = commands.add_parser("serve", help="serve the embedded models with the Ollama API")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    serve.add_argument("--port", type=int, default=11434)
    serve.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    serve.add_argument("--threads", type=int, default=None, help="CPU threads per model (default: all cores)")
    serve.add_argument("--as-ollama", type=Path, metavar="FILE",
                       help="behave as Ollama does where the two differ, as the YAML file says (analysis/serving/as_ollama.py)")
    serve.set_defaults(handler=_serve)

    provision = commands.add_parser("provision", help="assemble and verify the embedded models")
    provision.add_argument("models", nargs="*", help="tags (default: all)")
    provision.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    provision.set_defaults(handler=_provision)

    with_server = commands.add_parser(
        "with-server", help="run a command while an LLM server answers at OLLAMA_HOST (starting the embedded one if needed)"
    )
    with_server.add_argument("command", nargs=argparse.REMAINDER)
    with_server.set_defaults(handler=_with_server)

    label = commands.add_parser("label", help="label reports with every model of a run, plus the ensemble")
    label.add_argument("--reports", type=Path, required=True, help="CSV or Parquet file of reports")
    label.add_argument("--id-column", default="report_id", help="column of report ids (default: report_id)")
    label.add_argument("--text-column", default="report_text", help="column of report texts (default: report_text)")
    label.add_argument("--out", type=Path, required=True, help="folder for labels.csv")
    label.add_argument("--run", default="embedded", help="run file name in analysis/runs (default: embedded)")
    label.add_argument("--task", help="stage-1 prompt variant: zeroshot, guideline, fewshot (analysis/tasks/extravasation_NAME.yaml) "
                       "or any task file name (default: the run file's)")
    label.add_argument("--models", nargs="+", help="only these model tags of the run; `rules` is the rule-based baseline (needs no server)")
    label.add_argument("--limit", type=int, help="only the first N reports")
    label.add_argument("--cache", type=Path, default=RESPONSE_CACHE_FILE, help="response cache (SQLite)")
    label.add_argument("--refresh", action="store_true", help="ask again even what the cache has answered")
    label.add_argument("--host", help="one LLM server in place of the run file's hosts and OLLAMA_HOST (an Ollama host, "
                       "or an OpenAI-compatible base URL for a run whose backend is openai)")
    label.add_argument("--workers", type=int, help="requests in flight to each server at once (default: the run file's)")
    label.add_argument("--allow-raw", action="store_true", help=ALLOW_RAW_HELP)
    label.set_defaults(handler=_label)

    check = commands.add_parser("check", help="before a run: the server, its version, and how each model must be "
                                "asked (whether its template leaves the reply's start open), whether the longest prompt fits")
    check.add_argument("--run", default="embedded", help="run file name in analysis/runs (default: embedded)")
    check.add_argument("--task", help="stage-1 prompt variant or task file name (default: the run file's)")
    check.add_argument("--models", nargs="+", help="only these model tags of the run")
    check.add_argument("--host", help="one LLM server in place of the run file's hosts and OLLAMA_HOST")
    check.add_argument("--reports", type=Path, default=DEMO_DIR / "reports.csv", help="reports whose longest impression is checked")
    check.add_argument("--id-column", default="report_id")
    check.add_argument("--text-column", default="report_text")
    check.add_argument("--allow-raw", action="store_true", help=ALLOW_RAW_HELP)
    check.set_defaults(handler=_check)

    imports = commands.add_parser("ollama-import", help="put the run's embedded models into a running Ollama from "
                                  "their GGUF files, each with a chat template that leaves the reply's turn open")
    imports.add_argument("--run", default="embedded", help="run file whose embedded models and options to use")
    imports.add_argument("--host", help="the Ollama server (default: OLLAMA_HOST, else 127.0.0.1:11434)")
    imports.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    imports.add_argument("--out", type=Path, default=BUILD_DIR / "ollama", help="folder for the Modelfiles written")
    imports.set_defaults(handler=_ollama_import)

    evaluate = commands.add_parser("evaluate", help="Tables 1A and 1B, with intervals, from any labeler's labels "
                                   "(report_id, model, extravasation; locations, p_yes, reason if it has them) and ground truth")
    evaluate.add_argument("--labels", type=Path, required=True)
    evaluate.add_argument("--truth", type=Path, required=True)
    evaluate.add_argument("--out", type=Path, required=True)
    evaluate.add_argument("--split", type=Path, help="split file (report_id, split): evaluate on its test part only")
    evaluate.add_argument("--evidence", type=Path, help="each Yes report's true evidence statements (report_id, "
                          "evidence; as data/demo/evidence.csv), to score the labels' evidence spans")
    evaluate.add_argument("--run", default="embedded", help="run file whose bootstrap settings and gate model to use")
    evaluate.add_argument("--case-features", type=Path, help="each report's kinds (report_id, template, hard_cases), "
                          "for accuracy by kind of report")
    evaluate.set_defaults(handler=_evaluate)

    adjudicate = commands.add_parser("adjudicate", help="apply a reviewer's decisions (saved by the reviewer sheet) "
                                     "to a run's labels: labels_reviewed.csv, scored before and after review")
    adjudicate.add_argument("--decisions", type=Path, required=True, help="the decisions file the reviewer sheet saved")
    adjudicate.add_argument("--labels", type=Path, required=True, help="the labels the sheet was written from")
    adjudicate.add_argument("--truth", type=Path, help="ground truth, to score the decided label sets before and after")
    adjudicate.add_argument("--split", type=Path, help="split file (report_id, split): score its test part only")
    adjudicate.add_argument("--out", type=Path, help="the reviewed labels (default: labels_reviewed.csv beside --labels)")
    adjudicate.set_defaults(handler=_adjudicate)

    split = commands.add_parser("split", help="draw a development/test split of reports with ground truth, or extend one to new reports")
    split.add_argument("--truth", type=Path, default=DEMO_DIR / "ground_truth.csv")
    split.add_argument("--out", type=Path, default=DEMO_DIR / "split.csv")
    size = split.add_mutually_exclusive_group()
    size.add_argument("--dev", type=int, default=100, help="reports in the development part (default 100)")
    size.add_argument("--extend", type=Path, metavar="SPLIT",
                      help="keep this split file's parts and draw parts only for the reports it does not list, with its development share")
    split.add_argument("--seed", type=int, default=20240917)
    split.add_argument("--force", action="store_true", help="replace --out if it exists")
    split.set_defaults(handler=_split)

    cuts = commands.add_parser("site-cuts", help="choose each site's cut of the per-site probabilities on the "
                               "development split of a run's labels, and write analysis/site_cuts/RUN.yaml")
    cuts.add_argument("--run", default="embedded")
    cuts.add_argument("--processed", default="", help="the run's files (default data/processed/RUN)")
    cuts.add_argument("--out", type=Path, help="default analysis/site_cuts/RUN.yaml")
    cuts.set_defaults(handler=_site_cuts)

    priority = commands.add_parser("review-priority", help="fit the review priority (the probability that the chosen "
                                   "label set is wrong on a report) on the development split of a run's labels, and "
                                   "write analysis/review_priority/RUN.yaml")
    priority.add_argument("--run", default="embedded")
    priority.add_argument("--processed", default="", help="the run's files (default data/processed/RUN): its "
                          "labels.csv, or before stage 2 its stage1_ensemble.csv, and truth_dev.csv")
    priority.add_argument("--out", type=Path, help="default analysis/review_priority/RUN.yaml")
    priority.set_defaults(handler=_review_priority)

    tasks = commands.add_parser("tasks", help="the task files a run asks, as STAGE:PATH (what the Makefile's stages depend on)")
    tasks.add_argument("--run", default="embedded")
    tasks.set_defaults(handler=_tasks)

    bench = commands.add_parser("bench", help="stage-1 speed of each embedded model against this machine's limit; "
                                "with --hosts, reports per second through one server and through all of them")
    bench.add_argument("--reports", type=Path, default=DEMO_DIR / "reports.csv")
    bench.add_argument("--limit", type=int, default=40, help="the first N reports with an impression (default 40)")
    bench.add_argument("--run", default="embedded")
    bench.add_argument("--models", nargs="+", help="only these embedded model tags")
    bench.add_argument("--hosts", nargs="+", metavar="URL",
                       help="servers already answering, of the run's backend: stage 1 through the first alone, then "
                            "spread over all of them, with the same labels")
    bench.add_argument("--out", type=Path, help="default: build/bench.json, with --hosts build/bench_hosts.json")
    bench.set_defaults(handler=_bench)

    reproduce = commands.add_parser("reproduce", help="this run's labels and tables beside the committed reference's, "
                                    "and whether this machine should give identical ones")
    reproduce.add_argument("--labels", type=Path, default=PROCESSED_DIR / "embedded" / "labels.csv")
    reproduce.add_argument("--reference", type=Path, default=DEMO_DIR / "reference_labels.csv",
                           help="reference labels, with the machine that labeled them beside them (.json)")
    reproduce.add_argument("--figures", type=Path, default=FIGURES_DIR, help="folder of this run's table1a.csv and table1b.csv")
    reproduce.add_argument("--out", type=Path, default=FIGURES_DIR / "reproduction.md")
    reproduce.add_argument("--write-reference", action="store_true",
                           help="write --reference from --labels (and the numerics their manifest recorded) instead of comparing")
    reproduce.set_defaults(handler=_reproduce)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from analysis.data.io import DataError
    from analysis.llm.backend import (
        ModelMissing,
        ModelNotLoaded,
        RequestRefused,
        ServerUnavailable,
    )
    from analysis.llm.preflight import RawTemplate
    from analysis.serving.weights import ProvisioningError
    from analysis.specs import SpecError

    try:
        return args.handler(args)
    except (ServerUnavailable, ModelMissing, ModelNotLoaded, RequestRefused, RawTemplate, DataError, SpecError,
            ProvisioningError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
