"""Modelfiles that bring a GGUF file into Ollama with a chat template that leaves the reply's turn open.

``ollama create NAME -f Modelfile`` with ``FROM ./model.gguf`` and no
``TEMPLATE`` gives the model a template only where the file's own chat
template is close to one Ollama knows (``server/model.go``
``detectChatTemplate``); Qwen2.5's is not, and up to Ollama 0.24 such a model
got the bare ``{{ .Prompt }}``: no chat markers at all. Ollama's own
templates, where one is found, close the last assistant turn, so the reply's
start would not be continued. Every Modelfile written here therefore names
its ``TEMPLATE`` (``analysis/chat_templates.yaml``), the model's default
``SYSTEM`` prompt, and ``PARAMETER`` lines from the run file.
"""

from pathlib import Path

import ollama
import yaml

from analysis.config import CHAT_TEMPLATES_FILE

# The run file's options that are also a Modelfile's PARAMETERs: the defaults of a request that names none.
RUN_PARAMETERS = ("temperature", "seed", "num_ctx", "num_predict")


def chat_formats() -> dict[str, dict]:
    """Each chat format's ``names`` (words of the tags it fits), ``stop`` strings and ``template``."""
    return yaml.safe_load(CHAT_TEMPLATES_FILE.read_text())["formats"]


def format_of(tag: str) -> str | None:
    """The chat format a tag's name says (``qwen2.5:72b`` is ChatML); None where it says none."""
    return next((name for name, chat in chat_formats().items() if any(word in tag.lower() for word in chat["names"])),
                None)


def template_line(template: str) -> str:
    return f'TEMPLATE """{template}"""'


def fixing_template_line(tag: str) -> str:
    """The Modelfile line that gives ``tag`` a chat template leaving the reply's turn open."""
    chat = format_of(tag)
    if chat is None:
        return (f'TEMPLATE """…""" in {tag}\'s own chat format (its model card gives it), leaving a last assistant '
                f"message open; {CHAT_TEMPLATES_FILE.name} has ChatML, Llama 3 and Mistral's")
    return template_line(chat_formats()[chat]["template"])


def parameters(chat_format: str, options: dict) -> dict:
    """A Modelfile's PARAMETERs: the run file's options, and the format's stop strings."""
    return {**{name: options[name] for name in RUN_PARAMETERS if name in options},
            "stop": chat_formats()[chat_format]["stop"]}


def modelfile(gguf: Path, chat_format: str, system: str, options: dict) -> str:
    """The Modelfile of one GGUF file, as ``ollama create NAME -f Modelfile`` reads it."""
    lines = [f"FROM {gguf}", template_line(chat_formats()[chat_format]["template"]), f'SYSTEM """{system}"""']
    for name, value in parameters(chat_format, options).items():
        lines += [f"PARAMETER {name} {each}" for each in (value if isinstance(value, list) else [value])]
    return "\n".join(lines) + "\n"


def import_model(client: ollama.Client, tag: str, gguf: Path, chat_format: str, system: str, options: dict) -> None:
    """Create ``tag`` on the Ollama server of ``client`` from ``gguf`` as ``modelfile`` describes it, through
    Ollama's API (the file is uploaded as a blob unless the server has it), as ``ollama create`` does."""
    digest = client.create_blob(gguf)
    client.create(model=tag, files={gguf.name: digest}, template=chat_formats()[chat_format]["template"],
                  system=system, parameters=parameters(chat_format, options), stream=False)
