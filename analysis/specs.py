"""Tasks and runs: prompts and run settings as versioned data files.

A task (``analysis/tasks/NAME.yaml``) is one question asked of a report: its
prompt template, the allowed answers, the JSON schema of the answer, and a
version that enters the response-cache key. A run (``analysis/runs/NAME.yaml``)
says which models answer it, with which options, and on which servers; it is
read on top of ``analysis/runs/base.yaml``, which holds what every run shares
(its tasks, rules, combination, options and statistics), so that moving the
paper's models to another server keeps every row of the tables.
"""

from pathlib import Path
from typing import Literal

import jinja2
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from analysis.config import RULES_DIR, RUNS_DIR, SITE_CUTS_DIR, TASKS_DIR
from analysis.data.sentences import lettered
from analysis.data.vocabulary import BASELINE, LOCATIONS

# Stage-1 prompt variants are task files named extravasation_<variant>.yaml.
STAGE1_PREFIX = "extravasation_"
_TEMPLATES = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False)


class SpecError(ValueError):
    """A task or run file is missing, malformed, or has an invalid field."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Example(_Spec):
    """A worked example shown in a few-shot prompt, with the report it was taken from."""

    source: str = Field(description="report_id of the development-split report the impression was taken from")
    impression: str = Field(description="the source's impression, or the passage of it that decides the answer")
    answer: str
    why: str = Field(description="the guideline's reason for the answer, in one line")


class Task(_Spec):
    name: str
    version: int = Field(ge=1)
    description: str
    template: str = Field(description="Jinja template of the user message; receives `impression`, `examples` and "
                          "`sentences` (the impression's sentences, one per line after its letter).")
    answers: list[str] = Field(min_length=2)
    answer_schema: dict = Field(alias="schema")
    answer_field: str = "answer"
    multiple: bool = Field(False, description="The answer is a list of allowed answers (stage 2), not one.")
    options: dict = Field({}, description="Ollama options this task needs, over the run's (e.g. a longer num_predict).")
    decision: Literal["first_token", "structured"] = Field(
        "structured",
        description="first_token: the reply starts with `answer_prefix` and the allowed answers' log-probabilities "
                    "at the next token decide, in one forward pass; structured: the model writes the JSON answer.",
    )
    answer_prefix: str = Field('{"answer": "', description="first_token: the start of the reply, given to the model "
                               "(a Jinja template: `probe` names the item asked, for a task with probes).")
    examples: list[Example] = Field([], description="Worked examples for a few-shot template, from the development split only.")
    probes: list[str] = Field([], description="Items asked one at a time about the same report (stage 2's sites): the "
                              "answer prefix names each in turn, so that the requests share the prompt but its end.")
    probe_question: str = Field("", description="structured decision of a task with probes: the question added to the "
                                "user message for each item (a Jinja template with `probe`).")

    @model_validator(mode="after")
    def _decidable(self) -> "Task":
        if self.decision == "first_token" and self.multiple:
            raise ValueError("decision first_token picks one answer; a task with multiple answers needs structured")
        wrong = [e.source for e in self.examples if e.answer not in self.answers]
        if wrong:
            raise ValueError(f"examples {wrong} have an answer outside {self.answers}")
        if self.probes and not self.probe_question:
            raise ValueError("a task with probes needs probe_question, for servers that must be asked for structured answers")
        return self

    def edited(self, template: str, name: str) -> "Task":
        """This task with another template, under another name (so its answers are cached apart).

        An edit that leaves the template as it was is an error, not a
        comparison of a prompt with itself: e.g. a ``str.replace`` whose
        target text no longer occurs in the template.
        """
        if template == self.template:
            raise SpecError(f"the edited template of {name!r} is the same as {self.name!r}'s: the edit changed nothing")
        return self.model_copy(update={"name": name, "template": template})

    @property
    def longest_probe(self) -> str | None:
        """The probe whose request is longest (what a preflight checks against num_ctx), or None without probes."""
        return max(self.probes, key=len) if self.probes else None

    def messages(self, impression: str, probe: str | None = None) -> list[dict]:
        """The request's messages; with ``first_token``, the reply's start as an assistant message to continue.

        ``probe`` is the item asked, for a task with probes: it is named in the
        reply's start (first token), or by a question after the prompt (structured).
        """
        if bool(self.probes) != (probe is not None):
            raise ValueError(f"task {self.name} {'asks about one of ' + str(self.probes) if self.probes else 'has no probes'}")
        prompt = _TEMPLATES.from_string(self.template).render(impression=impression, examples=self.examples,
                                                              sentences=lettered(impression))
        if probe is not None and self.decision == "structured":
            prompt += "\n\n" + _TEMPLATES.from_string(self.probe_question).render(probe=probe)
        user = {"role": "user", "content": prompt}
        if self.decision == "first_token":
            return [user, {"role": "assistant", "content": _TEMPLATES.from_string(self.answer_prefix).render(probe=probe)}]
        return [user]


class ModelSpec(_Spec):
    tag: str
    options: dict = {}


class Localization(_Spec):
    task: str
    gate: str = Field(description="The model whose stage-1 Yes sends a report to stage 2.")
    cut: float = Field(0.5, gt=0, lt=1, description="A task with probes (one question per site): a site is named "
                       "where its probability reaches this cut.")
    evidence: str | None = Field(None, description="The task that asks which sentence of the impression reports "
                                 "the bleeding (its answers: the sentences' letters and `none`); none: no evidence.")
    evidence_share: float = Field(0.5, gt=0, le=1, description="A sentence is evidence where its probability "
                                  "reaches this share of the likeliest sentence's (the likeliest always is).")
    site_probes: str | None = Field(None, description="A task with probes (one yes/no question per site) asked "
                                    "beside `task`: its probabilities fill `p_<site>`; none: not asked.")
    site_cuts: str | None = Field(None, description="A file in analysis/site_cuts: the cut of each site's "
                                  "probability for each label set, chosen on a development split; a site is then "
                                  "named where its probability reaches its cut (`cut_locations`).")

    @property
    def tasks(self) -> list[str]:
        """Every task stage 2 asks, in the order it asks them, each once."""
        return list(dict.fromkeys(name for name in (self.task, self.evidence, self.site_probes) if name))

    @model_validator(mode="after")
    def _cuts_need_probes(self) -> "Localization":
        if self.site_cuts and not self.site_probes:
            raise ValueError("site_cuts cut the probabilities of site_probes: name the site_probes task too")
        return self


class SiteCuts(_Spec):
    """Per-site cuts of the site probabilities, for each label set, chosen on a development split."""

    task: str = Field(description="The task with probes whose probabilities the cuts cut.")
    task_version: int
    chosen_on: str = Field(description="The reports the cuts were chosen on, in words.")
    cuts: dict[str, dict[str, float | None]] = Field(description="Label set -> site -> cut; null where the "
                                                     "development part had no true report of the site (the run's cut).")

    def cuts_of(self, label_set: str, default: float) -> dict[str, float]:
        """Each site's cut for ``label_set``; ``default`` where none was chosen."""
        chosen = self.cuts.get(label_set, {})
        return {site: default if chosen.get(site) is None else chosen[site] for site in LOCATIONS}


class Bootstrap(_Spec):
    resamples: int = Field(2000, ge=100, description="Bootstrap resamples of the reports for each interval.")
    seed: int = Field(20240917, description="Seed of the resampling: the same seed gives the same intervals.")
    confidence: float = Field(0.95, gt=0, lt=1)


class Requests(_Spec):
    timeout_s: float = Field(600, gt=0, description="Seconds to wait for one answer; a 70B model on a busy GPU is slow.")
    retries: int = Field(3, ge=0, description="Tries after the first when the server fails, times out or is unreachable.")
    backoff_s: float = Field(1.0, ge=0, description="Wait before the first retry; doubled before each next one.")


class Host(_Spec):
    """One server of a run; several serve the same models, and the reports are spread over them."""

    url: str = Field(description="An Ollama host (http://gpu1:11434) or an OpenAI-compatible base URL "
                                 "(http://gpu1:8000/v1), as the run's backend speaks.")
    workers: int | None = Field(None, ge=1, description="Requests in flight to this server at once (its parallel "
                                                        "slots); default: the run's workers.")
    models: list[str] | None = Field(None, description="The run's models this server serves (vLLM and llama-server "
                                                       "serve one model each); default: every one.")


class Review(_Spec):
    """What the review priority of a run estimates, and with which fitted model."""

    priority: str | None = Field(None, description="A file in analysis/review_priority: the model that estimates, "
                                 "per report, the probability that `label_set`'s label is wrong; none: no priority.")
    label_set: str | None = Field(None, description="The label set whose errors the priority estimates; none: the "
                                  "one the priority file was fitted for (the best on its development split).")


class Run(_Spec):
    name: str
    description: str
    backend: Literal["ollama", "openai"] = Field(
        "ollama", description="The API the servers speak: Ollama's, or OpenAI's chat completions (vLLM, SGLang, "
                              "llama.cpp's llama-server), through each one's official client.")
    hosts: list[Host] = Field(
        [], description="The servers that answer, each with its own workers. None listed: one server, at "
                        "OLLAMA_HOST (ollama) or OPENAI_BASE_URL (openai).")
    task: str
    localization: Localization | None = None
    models: list[ModelSpec] = Field(min_length=1)
    baseline: str | None = Field(
        None, description="Rule file in analysis/rules whose labels stand beside the models as `rules` (not in the ensemble)."
    )
    options: dict = Field(description="Ollama options shared by every model; a model's own options override them. "
                                      "The openai backend sends their equivalents (num_predict as max_tokens).")
    keep_alive: str = Field("30m", description="How long the server keeps each model loaded between requests.")
    workers: int = Field(1, ge=1, description="Requests in flight to each server at once; match its parallel slots "
                                              "(OLLAMA_NUM_PARALLEL, vLLM's max-num-seqs, llama-server's --parallel).")
    requests: Requests = Requests()
    ensemble: Literal["majority"] = "majority"
    combination: Literal["context_veto"] | None = Field(
        None, description="context_veto: a label set beside the ensemble, its answer unless the baseline's ConText finds "
                          "every mention of extravasation hedged or excluded (analysis.labeling.combination).")
    bootstrap: Bootstrap = Bootstrap()
    review: Review = Review()
    no_impression: Literal["undefined", "full_report"] = Field(
        "undefined", description="A report without an impression is Undefined (no model call) or sent whole."
    )
    over_long: Literal["undefined", "truncate"] = Field(
        "undefined", description="A prompt that may not fit num_ctx is not sent (Undefined) or its text is cut to fit."
    )

    @model_validator(mode="after")
    def _consistent(self) -> "Run":
        for required in ("num_ctx", "temperature", "seed"):
            if required not in self.options:
                raise ValueError(f"options.{required} must be pinned: servers differ in their defaults")
        if self.localization and self.localization.gate not in self.tags:
            raise ValueError(f"localization.gate {self.localization.gate!r} is not one of the run's models {self.tags}")
        if self.combination and not self.baseline:
            raise ValueError(f"combination {self.combination} reads the baseline's ConText: the run needs a baseline")
        urls = [host.url for host in self.hosts]
        if len(set(urls)) < len(urls):
            raise ValueError(f"hosts lists a server twice: {urls}")
        for host in self.hosts:
            if unknown := sorted(set(host.models or []) - set(self.tags)):
                raise ValueError(f"hosts: {host.url} serves {unknown}, which are not models of the run {self.tags}")
        if self.hosts and (unserved := [tag for tag in self.tags if not self.hosts_of(tag)]):
            raise ValueError(f"hosts: no server serves {unserved}")
        return self

    def hosts_of(self, tag: str) -> list[Host]:
        """The servers of the run file that serve ``tag``."""
        return [host for host in self.hosts if host.models is None or tag in host.models]

    @property
    def tags(self) -> list[str]:
        return [m.tag for m in self.models]

    @property
    def labelers(self) -> list[str]:
        """The model tags, then the rule-based baseline's name when the run has one."""
        return self.tags + ([BASELINE] if self.baseline else [])

    def options_for(self, tag: str, task: Task | None = None) -> dict:
        """The run's options, then the task's, then the model's own."""
        own = next(m.options for m in self.models if m.tag == tag)
        return {**self.options, **(task.options if task else {}), **own}


def _merged(base: dict, changes: dict) -> dict:
    """``base`` with ``changes`` on top: a mapping merged key by key, anything else replaced whole."""
    merged = dict(base)
    for key, value in changes.items():
        merged[key] = _merged(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return merged


def load_spec(model: type[BaseModel], path: Path, base: Path | None = None):
    """The spec in ``path``, read on top of the file ``base`` where one is given."""
    if not path.is_file():
        available = sorted(p.stem for p in path.parent.glob("*.yaml") if p != base)
        raise SpecError(f"{path}: no such file; available: {', '.join(available)}")
    try:
        data = yaml.safe_load(path.read_text())
        if base is not None:
            data = _merged(yaml.safe_load(base.read_text()), data)
        return model.model_validate(data)
    except yaml.YAMLError as error:
        raise SpecError(f"{path}: not valid YAML: {error}") from None
    except ValidationError as error:
        problems = "; ".join(
            f"field '{'.'.join(str(p) for p in e['loc']) or '(top level)'}': {e['msg']}" for e in error.errors()
        )
        raise SpecError(f"{path}: {problems}") from None


RUN_BASE = "base.yaml"  # what every run file shares


def load_task(name: str, directory: Path = TASKS_DIR) -> Task:
    return load_spec(Task, Path(directory) / f"{name}.yaml")


def stage1_task_name(variant: str, directory: Path = TASKS_DIR) -> str:
    """The task file a short variant name means: ``guideline`` is ``extravasation_guideline``.

    A full task file name is taken as it is.
    """
    return variant if (Path(directory) / f"{variant}.yaml").is_file() else f"{STAGE1_PREFIX}{variant}"


def load_run(name: str, directory: Path = RUNS_DIR) -> Run:
    """The run file ``name``, read on top of what every run shares (``base.yaml`` beside it)."""
    base = Path(directory) / RUN_BASE
    if name == base.stem:
        raise SpecError(f"{base}: what every run shares, not a run; name one of the files beside it")
    return load_spec(Run, Path(directory) / f"{name}.yaml", base if base.is_file() else None)


def load_site_cuts(name: str, directory: Path = SITE_CUTS_DIR) -> SiteCuts:
    return load_spec(SiteCuts, Path(directory) / f"{name}.yaml")


def rules_developed_on(name: str, directory: Path = RULES_DIR) -> list[str]:
    """The parts of the split (``dev``, ``test``) read while a rule file was written, by its ``developed_on``."""
    path = Path(directory) / f"{name}.yaml"
    if not path.is_file():
        raise SpecError(f"{path}: no such rule file")
    return list(yaml.safe_load(path.read_text()).get("developed_on", []))
