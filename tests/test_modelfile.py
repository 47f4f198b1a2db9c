"""The Modelfiles of `python -m analysis ollama-import`, and the bare template of a model imported without one.

Each shipped TEMPLATE (analysis/chat_templates.yaml) is rendered by Go's own text/template, the engine Ollama runs
templates with (tests/gotemplate.py), for every request a shipped task sends: the turn is left open for the reply's
start, and ChatML renders exactly what the embedded models' own GGUF templates render (that one loads each model).
"""

from pathlib import Path

import pytest

from analysis.llm.asking import build_request
from analysis.llm.modelfile import chat_formats, fixing_template_line, format_of, modelfile
from analysis.llm.preflight import has_chat_structure
from analysis.serving.as_ollama import bare_template_prompt
from analysis.serving.weights import load_registry
from analysis.specs import load_run, load_task
from tests.gotemplate import go_renderer, needs_go
from tests.shipped_requests import every_request_a_task_can_send

EMBEDDED = load_run("embedded")
IMPRESSION = "1. Grade IV splenic laceration with active contrast extravasation.\n2. No bowel injury."
REQUESTS = every_request_a_task_can_send(IMPRESSION)
PREFILLED = [request for request in REQUESTS if request["messages"][-1]["role"] == "assistant"]
UNSTARTED = [request for request in REQUESTS if request["messages"][-1]["role"] != "assistant"]


@pytest.fixture(scope="module")
def render(tmp_path_factory):
    return go_renderer(tmp_path_factory.mktemp("go"))


@needs_go
@pytest.mark.parametrize("chat_format", list(chat_formats()))
def test_every_shipped_template_leaves_the_replys_turn_open_and_marks_the_turns(chat_format, render):
    template = chat_formats()[chat_format]["template"]
    assert PREFILLED and UNSTARTED
    for request in PREFILLED:
        rendered = render(template, request["messages"], "You are a careful radiology assistant.")
        assert rendered.endswith(request["messages"][-1]["content"]) and has_chat_structure(rendered, request["messages"])
        assert "You are a careful radiology assistant." in rendered  # the Modelfile's SYSTEM is not dropped
    for request in UNSTARTED:  # no reply started: the template opens the assistant's turn itself
        rendered = render(template, request["messages"])
        assert rendered.rstrip().endswith(("<|im_start|>assistant", "<|start_header_id|>assistant<|end_header_id|>",
                                           "[/INST]"))


@needs_go
@pytest.mark.llm  # loads each embedded model's GGUF file for its own chat template
@pytest.mark.parametrize("tag", EMBEDDED.tags)
def test_an_embedded_model_imported_into_ollama_is_asked_exactly_what_the_embedded_server_asks(tag, render):
    from analysis.serving.engine import LoadedModel

    model = load_registry()[tag]
    loaded = LoadedModel(tag, model.path(), num_ctx=512, threads=1)
    template = chat_formats()[model.chat_format]["template"]
    for request in REQUESTS:
        assert render(template, request["messages"], model.system) == loaded.render_chat(request["messages"])


def test_the_modelfile_names_the_file_the_template_the_system_prompt_and_the_run_files_options():
    model = load_registry()["qwen2.5-coder:1.5b"]
    text = modelfile(Path("/models/q.gguf"), model.chat_format, model.system, EMBEDDED.options_for(model.tag))
    lines = text.splitlines()
    assert lines[0] == "FROM /models/q.gguf" and lines[1].startswith('TEMPLATE """{{- range $i, $_ := .Messages }}')
    assert f'SYSTEM """{model.system}"""' in lines
    options = EMBEDDED.options_for(model.tag)
    assert {f"PARAMETER {name} {options[name]}" for name in ("temperature", "seed", "num_ctx", "num_predict")} <= set(lines)
    assert {"PARAMETER stop <|im_start|>", "PARAMETER stop <|im_end|>"} <= set(lines)


@pytest.mark.parametrize("tag, chat_format", [("llama3.1:70b", "llama3"), ("qwen2.5:72b", "chatml"),
                                              ("mistral:7b", "mistral"), ("smollm2:135m", "chatml"), ("phi3:mini", None)])
def test_the_check_names_the_template_of_the_tags_chat_format(tag, chat_format):
    assert format_of(tag) == chat_format
    line = fixing_template_line(tag)
    assert line == f'TEMPLATE """{chat_formats()[chat_format]["template"]}"""' if chat_format else "own chat format" in line


def test_a_bare_template_renders_each_user_message_and_reply_and_nothing_else():
    """Ollama's {{ .Prompt }} (template/template.go at v0.24.0): no role markers, no system message."""
    stage1 = build_request("m", load_task("extravasation_zeroshot"), IMPRESSION, {"num_ctx": 4096})["messages"]
    assert bare_template_prompt([{"role": "system", "content": "Be brief."}, *stage1]) == \
        stage1[0]["content"] + stage1[1]["content"]
    fewshot = [{"role": "system", "content": "S"}, {"role": "user", "content": "u1"}, {"role": "assistant", "content": "a1"},
               {"role": "user", "content": "u2"}, {"role": "user", "content": "u3"}, {"role": "assistant", "content": "p"}]
    assert bare_template_prompt(fewshot) == "u1a1u2\n\nu3p"
