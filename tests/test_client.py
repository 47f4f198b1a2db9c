"""Host handling of the client side (no server involved)."""

import pytest

from analysis.config import is_local, normalize_host
from analysis.llm.backend import warn_if_remote


@pytest.mark.parametrize(
    "given, expected",
    [
        ("127.0.0.1", "http://127.0.0.1:11434"),
        ("localhost:8080", "http://localhost:8080"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("https://gpu-box.example.org", "https://gpu-box.example.org:11434"),
        ("http://[::1]:11434", "http://[::1]:11434"),
    ],
)
def test_hosts_are_read_as_the_ollama_client_reads_them(given, expected):
    assert normalize_host(given) == expected


def test_only_loopback_counts_as_local(capsys):
    assert is_local("127.0.0.1") and is_local("localhost") and is_local("http://[::1]:11434")
    assert not is_local("10.0.0.5") and not is_local("gpu-box.example.org")
    warn_if_remote("http://127.0.0.1:11434")
    assert capsys.readouterr().err == ""
    warn_if_remote("gpu-box.example.org")
    assert "report text will be sent there" in capsys.readouterr().err
