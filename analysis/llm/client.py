"""Talking to the LLM server named by ``OLLAMA_HOST``: a real Ollama or the embedded server.

Every model call of the pipeline goes through the official ``ollama`` client.
This module adds what a labeling run needs around it: one clear line when the
server is down or lacks a model, a warning when reports would leave the
machine, and starting the embedded server for the length of a command.
"""

import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import ollama

from analysis.config import is_local, normalize_host, ollama_host

SERVER_START_TIMEOUT_S = 60


class ServerUnavailable(RuntimeError):
    pass


class ServerLost(ServerUnavailable):
    """The server stopped answering part-way through a run, after every retry."""


class ModelMissing(RuntimeError):
    pass


class ModelNotLoaded(RuntimeError):
    """The server could not load a model (e.g. more layers asked on the GPU than fit): retrying cannot help."""


class RequestRefused(RuntimeError):
    """The server refused a request for a reason another try cannot change (HTTP 400 or 404)."""


def warn_if_remote(host: str) -> None:
    if not is_local(host):
        print(
            f"WARNING: OLLAMA_HOST is {host}, not this machine: report text will be sent there. "
            f"Reports are protected health information; use a server you are allowed to send them to.",
            file=sys.stderr,
        )


@dataclass
class Server:
    host: str
    client: ollama.Client
    version: str  # what the server calls itself, e.g. "ollama 0.12.11"
    number: str = ""  # its version number alone, as /api/version gives it


def connect(host: str | None = None) -> Server:
    """The server at ``host`` (default ``OLLAMA_HOST``), checked to answer."""
    host = normalize_host(host or ollama_host())
    warn_if_remote(host)
    try:
        response = httpx.get(f"{host}/api/version", timeout=10)
        response.raise_for_status()
    except httpx.HTTPError as error:
        raise ServerUnavailable(
            f"No LLM server answers at {host} ({type(error).__name__}). "
            f"Start one with `make serve` (embedded models) or `ollama serve` (Ollama)."
        ) from None
    body = response.json()
    number = str(body.get("version", "unknown"))
    return Server(host=host, client=ollama.Client(host=host), version=body.get("server") or f"ollama {number}", number=number)


# Ollama's /api/show names the weights' blob in its modelfile: FROM .../blobs/sha256-<hex> (sha256:<hex> before).
WEIGHTS_BLOB = re.compile(r"^FROM \S*sha256[-:]([0-9a-f]{64})\s*$", re.MULTILINE)


def weights_digest(modelfile: str) -> str | None:
    """The sha256 of a model's weights, read from the modelfile /api/show returns; None if it names no blob."""
    found = WEIGHTS_BLOB.search(modelfile or "")
    return found.group(1) if found else None


def describe_models(server: Server, tags: list[str]) -> dict[str, dict]:
    """Digest and details of each requested model; a missing one stops with the command that fixes it.

    ``digest`` is what /api/tags lists: on Ollama, the hash of the model's
    manifest, which changes with its template, system prompt or parameters as
    well as with its weights (the response cache keys on it, so a re-pull that
    changes any of them asks again). ``weights`` is the weights' own sha256
    where /api/show names their blob.
    """
    available = {m.model: m for m in server.client.list().models}
    described = {}
    for tag in tags:
        model = available.get(tag) or available.get(f"{tag}:latest")
        if model is None:
            raise ModelMissing(
                f"The server at {server.host} has no model {tag}. "
                f"Fix: `ollama pull {tag}` on an Ollama server, or `make setup` for the embedded models."
            )
        details = model.details.model_dump(exclude_none=True) if model.details else {}
        weights = weights_digest(server.client.show(tag).modelfile)
        described[tag] = {"digest": model.digest, "size": model.size, **details, **({"weights": weights} if weights else {})}
    return described


def _answers(host: str) -> bool:
    try:
        return httpx.get(f"{host}/api/version", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _port_is_free(host: str) -> bool:
    parts = urlsplit(host)
    with socket.socket(socket.AF_INET6 if ":" in parts.hostname else socket.AF_INET) as probe:
        return probe.connect_ex((parts.hostname, parts.port)) != 0


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_embedded_server(host: str, as_ollama: Path | None = None) -> subprocess.Popen:
    """The embedded server started on loopback ``host``, once it answers; the caller stops it.

    ``as_ollama``: a file of Ollama's behaviours for it to reproduce (``analysis.serving.as_ollama``).
    """
    parts = urlsplit(host)
    server = subprocess.Popen(
        [sys.executable, "-m", "analysis", "serve", "--host", parts.hostname.strip("[]"), "--port", str(parts.port),
         *(["--as-ollama", str(as_ollama)] if as_ollama else [])]
    )
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while not _answers(host):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise ServerUnavailable(f"The embedded server did not start at {host}.")
        time.sleep(0.2)
    return server


def with_server(command: list[str], host: str | None = None) -> int:
    """Run ``command`` while an LLM server answers at ``host``.

    If one already answers (a real Ollama, or ``make serve``), it is used.
    Otherwise the embedded server is started on that loopback address for the
    length of the command and stopped afterwards.
    """
    host = normalize_host(host or ollama_host())
    if _answers(host):
        print(f"Using the LLM server that answers at {host}.", file=sys.stderr)
        return subprocess.call(command)
    if not is_local(host):
        raise ServerUnavailable(f"No LLM server answers at {host}, and it is not on this machine to start one.")
    if not _port_is_free(host):
        raise ServerUnavailable(f"Something other than an LLM server listens at {host}; set OLLAMA_HOST to a free port.")
    print(f"No LLM server at {host}: starting the embedded server for this command.", file=sys.stderr)
    server = start_embedded_server(host)
    try:
        return subprocess.call(command)
    finally:
        server.terminate()
        server.wait(timeout=30)
