"""Ollama's TEMPLATEs rendered by Go's own text/template (tests/go_template/main.go), as Ollama renders a chat.
Skipped without Go (Debian package golang-go), unless REQUIRE_GO=1 (CI) makes that a failure."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

GO = shutil.which("go")
GO_REQUIRED = os.environ.get("REQUIRE_GO") == "1"
SOURCE = Path(__file__).parent / "go_template" / "main.go"

needs_go = pytest.mark.skipif(not GO and not GO_REQUIRED, reason="rendering Ollama templates needs Go (Debian package golang-go)")


def as_ollama_passes(messages: list[dict], modelfile_system: str) -> tuple[str, list[dict]]:
    """The ``System`` and ``Messages`` Ollama hands a template for a chat request: the Modelfile's SYSTEM first when
    the request has no system message (server/routes.go ChatHandler), consecutive messages of one role joined by a
    blank line (template/template.go collate)."""
    if modelfile_system and (not messages or messages[0]["role"] != "system"):
        messages = [{"role": "system", "content": modelfile_system}, *messages]
    collated: list[dict] = []
    for message in messages:
        if collated and collated[-1]["role"] == message["role"]:
            collated[-1] = {**collated[-1], "content": collated[-1]["content"] + "\n\n" + message["content"]}
        else:
            collated.append({"role": message["role"], "content": message["content"]})
    system = "\n\n".join(m["content"] for m in collated if m["role"] == "system")
    return system, collated


def go_renderer(directory: Path):
    """A function rendering (template, messages, Modelfile SYSTEM) as Ollama would, through a Go program built in
    ``directory``."""
    if not GO:
        pytest.fail("REQUIRE_GO=1, but go is missing")
    binary = directory / "render"
    subprocess.run([GO, "build", "-o", str(binary), str(SOURCE)], check=True, capture_output=True, timeout=300,
                   env={**os.environ, "GO111MODULE": "off"})

    def render(template: str, messages: list[dict], modelfile_system: str = "") -> str:
        system, passed = as_ollama_passes(messages, modelfile_system)
        payload = json.dumps({"template": template, "system": system, "messages": passed})
        return subprocess.run([str(binary)], input=payload, capture_output=True, text=True, check=True, timeout=60).stdout

    return render
