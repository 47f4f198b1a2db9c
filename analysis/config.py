"""Every path and default location of the project, and the LLM server's address, defined once.

Environment variables override the locations that depend on the machine
rather than on the repository (where weights and built wheels are kept,
which LLM server to talk to). Standard library only: every layer may import it.
"""

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent

DATA_DIR = ROOT / "data"
RAW_DIR = DATA_DIR / "raw"  # private reports; read-only, never committed
DEMO_DIR = DATA_DIR / "demo"  # the shipped synthetic corpus
INTERIM_DIR = DATA_DIR / "interim"  # response cache and raw responses
PROCESSED_DIR = DATA_DIR / "processed"  # labels
FIGURES_DIR = ROOT / "figures"
BUILD_DIR = ROOT / "build"  # executed notebooks and their HTML
NOTEBOOKS_DIR = ROOT / "notebooks"
DOCS_DIR = ROOT / "docs"  # one page per topic; the README links them

TASKS_DIR = PACKAGE_DIR / "tasks"
RUNS_DIR = PACKAGE_DIR / "runs"
SITE_CUTS_DIR = PACKAGE_DIR / "site_cuts"  # per-site cuts chosen on a development split (python -m analysis site-cuts)
# Models of the review priority fitted on a development split (python -m analysis review-priority)
REVIEW_PRIORITY_DIR = PACKAGE_DIR / "review_priority"
RULES_DIR = PACKAGE_DIR / "rules"  # rule files of the rule-based baseline
MODEL_REGISTRY_FILE = PACKAGE_DIR / "models.yaml"
CHAT_TEMPLATES_FILE = PACKAGE_DIR / "chat_templates.yaml"  # Ollama TEMPLATEs that leave the reply's turn open
PUBLISHED_FILE = PACKAGE_DIR / "published.yaml"  # the study's Tables 1A and 1B

# Overridable so that tests and experiments need not touch the project's cache.
RESPONSE_CACHE_FILE = Path(os.environ.get("EXTRAVASATION_RESPONSE_CACHE", INTERIM_DIR / "responses.sqlite"))

# Weights are large and shared by every checkout on the machine.
CACHE_HOME = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "extravasation-llm"
MODELS_DIR = Path(os.environ.get("EXTRAVASATION_MODELS_DIR", CACHE_HOME / "models"))

DEFAULT_PORT = 11434
DEFAULT_OLLAMA_HOST = f"http://127.0.0.1:{DEFAULT_PORT}"


def run_dir(run_name: str, processed_dir: str = "") -> Path:
    """Where a run's labels and intermediate files go: ``processed_dir`` (relative to the
    repository) if given, else ``data/processed/<run_name>``."""
    return ROOT / processed_dir if processed_dir else PROCESSED_DIR / run_name


@dataclass(frozen=True)
class RunFiles:
    """The files of one run, each written by one step (a ``*_step`` function) and read by the next.

    ``shared`` is the run a variant of it belongs to: a variant (another
    prompt, the prompt lab's edit) reads that run's inputs and truth and
    writes its own labels in a folder of its own.
    """

    directory: Path
    shared: "RunFiles | None" = None

    @property
    def source(self) -> "RunFiles":
        return self.shared or self

    @property
    def inputs(self) -> Path:  # what each report sends to the models, and its part of the split
        return self.source.directory / "inputs.csv"

    @property
    def truth(self) -> Path:  # the ground truth of the reports the tables score (the test part)
        return self.source.directory / "truth.csv"

    @property
    def truth_dev(self) -> Path:  # the ground truth of the development part
        return self.source.directory / "truth_dev.csv"

    @property
    def stage1(self) -> Path:  # every model's (and the rules') stage-1 labels
        return self.directory / "stage1.csv"

    @property
    def ensemble(self) -> Path:  # the stage-1 labels with the ensemble's and the combination's
        return self.directory / "stage1_ensemble.csv"

    @property
    def labels(self) -> Path:  # every label set's labels, with the stage-2 sites
        return self.directory / "labels.csv"

    @property
    def manifest(self) -> Path:
        return self.directory / "manifest.json"

    @property
    def variants(self) -> Path:  # every prompt variant's labels in one table
        return self.directory / "variants.csv"

    @property
    def undefined_truth(self) -> Path:  # the scored part's reports whose truth is Undefined, left out of the tables
        return self.directory / "undefined_truth.csv"

    def variant(self, name: str) -> "RunFiles":
        """The files of a variant of this run, in ``variants/<name>/``, sharing its inputs and truth."""
        return RunFiles(self.directory / "variants" / name, shared=self)


def ollama_host() -> str:
    """The LLM server the pipeline talks to, as the official client reads it."""
    return os.environ.get("OLLAMA_HOST") or DEFAULT_OLLAMA_HOST


def openai_base_url() -> str | None:
    """The OpenAI-compatible server the pipeline talks to when a run names none, as the official client reads it."""
    return os.environ.get("OPENAI_BASE_URL") or None


def normalize_host(host: str) -> str:
    """``OLLAMA_HOST`` as a URL with scheme and port, as the ollama client reads it."""
    if "://" not in host:
        host = f"http://{host}"
    parts = urlsplit(host)
    hostname = parts.hostname or "127.0.0.1"
    if hostname in ("0.0.0.0", "::"):  # a bind-all address means "this machine" to a client
        hostname = "127.0.0.1"
    if ":" in hostname:
        hostname = f"[{hostname}]"
    return f"{parts.scheme}://{hostname}:{parts.port or DEFAULT_PORT}"


def is_local(host: str) -> bool:
    hostname = urlsplit(normalize_host(host)).hostname
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False
