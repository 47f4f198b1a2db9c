"""Talking to the LLM server named by ``OLLAMA_HOST``: a real Ollama or the embedded server.

Every model call of the pipeline goes through the official ``ollama`` client.
This module adds what a labeling run needs around it: one clear line when the
server is down or lacks a model, a warning when reports would leave the
machine, and starting the embedded server for the length of a command.
"""

import socket
import subprocess
import sys
import time
from dataclasses import dataclass
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
    version: str


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
    version = body.get("server") or f"ollama {body.get('version', 'unknown')}"
    return Server(host=host, client=ollama.Client(host=host), version=version)


def describe_models(server: Server, tags: list[str]) -> dict[str, dict]:
    """Digest and details of each requested model; a missing one stops with the command that fixes it."""
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
        described[tag] = {"digest": model.digest, "size": model.size, **details}
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


def start_embedded_server(host: str) -> subprocess.Popen:
    """The embedded server started on loopback ``host``, once it answers; the caller stops it."""
    parts = urlsplit(host)
    server = subprocess.Popen(
        [sys.executable, "-m", "analysis", "serve", "--host", parts.hostname.strip("[]"), "--port", str(parts.port)]
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
