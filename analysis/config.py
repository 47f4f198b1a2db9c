"""Every path and default location of the project, defined once.

Environment variables override the locations that depend on the machine
rather than on the repository (where weights and built wheels are kept,
which LLM server to talk to).
"""

import os
from pathlib import Path

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

TASKS_DIR = PACKAGE_DIR / "tasks"
RUNS_DIR = PACKAGE_DIR / "runs"
RULES_DIR = PACKAGE_DIR / "rules"  # rule files of the rule-based baseline
MODEL_REGISTRY_FILE = PACKAGE_DIR / "models.yaml"
PUBLISHED_FILE = PACKAGE_DIR / "published.yaml"  # the study's Tables 1A and 1B

# Overridable so that tests and experiments need not touch the project's cache.
RESPONSE_CACHE_FILE = Path(os.environ.get("EXTRAVASATION_RESPONSE_CACHE", INTERIM_DIR / "responses.sqlite"))

# Weights are large and shared by every checkout on the machine.
CACHE_HOME = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "extravasation-llm"
MODELS_DIR = Path(os.environ.get("EXTRAVASATION_MODELS_DIR", CACHE_HOME / "models"))

DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"


def run_dir(run_name: str, processed_dir: str = "") -> Path:
    """Where a run's labels and intermediate files go: ``processed_dir`` (relative to the
    repository) if given, else ``data/processed/<run_name>``."""
    return ROOT / processed_dir if processed_dir else PROCESSED_DIR / run_name


def ollama_host() -> str:
    """The LLM server the pipeline talks to, as the official client reads it."""
    return os.environ.get("OLLAMA_HOST") or DEFAULT_OLLAMA_HOST
