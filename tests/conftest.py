"""Shared fixtures. Tests that need an LLM drive the real embedded server, started
once per session on a free loopback port, through the official ollama client."""

import os
import signal
import sqlite3
import subprocess

import ollama
import pytest

from analysis.llm.client import free_loopback_port, start_embedded_server

SMALL_MODEL = "smollm2:135m"  # the fastest real model; enough to exercise the API
# Fixtures that start a server (the embedded one, llama-server, one behaving as Ollama) or a browser: a test that
# uses one is marked `llm` and left out of `make test-fast`. A test that starts one itself carries the mark.
SLOW_FIXTURES = {"server_url", "client", "use_server", "llama_server", "ollama", "pair", "driver"}


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.llm)


def start_server(port: int) -> subprocess.Popen:
    """The embedded server on ``127.0.0.1:port``, answering."""
    return start_embedded_server(f"http://127.0.0.1:{port}")


def stop_server(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    os.kill(process.pid, sig)  # by its own pid: never another process on the port
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture(scope="session")
def server_url():
    port = free_loopback_port()
    process = start_server(port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(process)


@pytest.fixture(scope="session")
def client(server_url):
    return ollama.Client(host=server_url)


@pytest.fixture
def use_server(server_url, monkeypatch):
    """Point the pipeline (and any notebook kernel it starts) at the test server."""
    monkeypatch.setenv("OLLAMA_HOST", server_url)
    return server_url


def cached_rows(cache) -> int:
    """Responses in the cache file ``cache``, read while another process may be writing it (0 before it exists)."""
    try:
        with sqlite3.connect(f"file:{cache}?mode=ro", uri=True, timeout=5) as connection:
            return connection.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0
