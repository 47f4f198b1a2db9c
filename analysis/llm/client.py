"""Connecting to the LLM servers of a run: one at ``OLLAMA_HOST``, or the run file's ``hosts``.

Each server is spoken to through its backend's official client
(``analysis.llm.ollama_api``, ``analysis.llm.openai_api``). This module adds
what a labeling run needs around them: one clear line when a server is down
or lacks a model, a check that every server of the run serves the same
models, and starting the embedded server for the length of a command.
"""

import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from analysis.config import is_local, normalize_host, ollama_host, openai_base_url
from analysis.llm.ollama_api import OllamaBackend
from analysis.llm.openai_api import OpenAIBackend
from analysis.llm.backend import Backend, ServerUnavailable
from analysis.specs import Host, Run, SpecError

SERVER_START_TIMEOUT_S = 60
BACKENDS: dict[str, type[OllamaBackend] | type[OpenAIBackend]] = {"ollama": OllamaBackend, "openai": OpenAIBackend}


def connect(host: str | None = None, backend: str = "ollama", workers: int = 1,
            models: list[str] | None = None) -> Backend:
    """The server at ``host`` (default: ``OLLAMA_HOST`` for Ollama, ``OPENAI_BASE_URL`` for an OpenAI-compatible
    server), checked to answer; ``models``: the run's models it serves (None: every one)."""
    return BACKENDS[backend].connect(host or default_host(backend), workers, models)


def default_host(backend: str) -> str:
    """Where a run that names no server finds it, as the backend's official client would."""
    if backend == "ollama":
        return ollama_host()
    if url := openai_base_url():
        return url
    raise SpecError("an OpenAI-compatible run needs its server's base URL: hosts: in the run file, --host, "
                    "or OPENAI_BASE_URL (e.g. http://127.0.0.1:8000/v1)")


def connect_all(run: Run, tags: list[str], host: str | None = None, workers: int | None = None) -> list[Backend]:
    """The servers that answer for ``tags`` of ``run``: ``host`` alone if given, else the run file's ``hosts`` that
    serve any of them, else the backend's default. Each takes ``workers`` requests at once (default: its own in
    the run file, else the run's).

    A server that does not answer is left out, with a warning, while every
    model has another; a model left with none stops the run with the line
    of its first server.
    """
    if host or not run.hosts:
        hosts = [Host(url=host or default_host(run.backend))]
    else:
        hosts = [h for h in run.hosts if h.models is None or set(h.models) & set(tags)]
    servers, down = [], {}
    for each in hosts:
        try:
            servers.append(connect(each.url, run.backend, workers or each.workers or run.workers, each.models))
        except ServerUnavailable as error:
            down[each.url] = error
    for tag in tags:
        if not any(server.serves(tag) for server in servers):
            raise next(down[h.url] for h in hosts if h.models is None or tag in h.models)
    for error in down.values():
        print(f"WARNING: {error} The run goes on with the other servers.", file=sys.stderr)
    return servers


def describe_models(servers: Backend | list[Backend], tags: list[str]) -> dict[str, dict]:
    """Each model's identity and details, as the first server that serves it reports them. Every server that
    serves a model must report the same identity, so that no label depends on which one answered."""
    servers = [servers] if isinstance(servers, Backend) else servers
    described = {}
    for tag in tags:
        serving = [server for server in servers if server.serves(tag)]
        reports = [server.describe_models([tag])[tag] for server in serving]
        for server, report in zip(serving[1:], reports[1:]):
            if report["digest"] != reports[0]["digest"]:
                raise ServerUnavailable(
                    f"The servers {serving[0].host} and {server.host} serve different models as {tag} (digests "
                    f"{reports[0]['digest']} and {report['digest']}); the servers of a run must serve the same "
                    f"models, so that no label depends on which one answered."
                )
        described[tag] = reports[0]
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
