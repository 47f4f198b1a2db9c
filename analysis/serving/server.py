"""The embedded LLM server: the part of the Ollama HTTP API the pipeline uses, on llama.cpp.

Request and response shapes, defaults and error bodies follow Ollama's API, so
the official ``ollama`` client and any Ollama tooling work against it
unchanged. Models load on first use and stay loaded; a request whose
``num_ctx`` differs from the loaded context reloads the model, as Ollama does.
Where Ollama behaves less kindly (its templates, truncation, versions, load
failures), ``analysis.serving.as_ollama`` makes this server behave as Ollama does.
"""

import hashlib
import json
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from queue import Queue

import llama_cpp
import yaml
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from analysis import __version__
from analysis.config import CHAT_TEMPLATES_FILE, MODELS_DIR, is_local
from analysis.serving.as_ollama import (
    DEBUG_RENDER_SINCE,
    LOGPROBS_SINCE,
    TRUNCATE_FIELD_SINCE,
    OllamaBehaviour,
    bare_template_prompt,
)
from analysis.serving.engine import (
    DEFAULT_NUM_CTX,
    GenerationOptions,
    GenerationStats,
    LoadedModel,
    PromptTooLong,
    grammar_for,
)
from analysis.serving.weights import EmbeddedModel, load_registry

# The Ollama API level implemented here: logprobs arrived in Ollama 0.12.11.
OLLAMA_API_VERSION = "0.12.11"


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def model_not_found(tag: str) -> ApiError:
    return ApiError(404, f'model "{tag}" not found, try pulling it first')


class _Request(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = ""
    format: str | dict | None = None
    options: dict | None = None
    stream: bool = True
    keep_alive: str | int | float | None = None
    logprobs: bool = False
    top_logprobs: int = 0


class ChatRequest(_Request):
    messages: list[dict] = []
    truncate: bool | None = None  # False: refuse an over-long prompt rather than cut it (Ollama 0.12.6)
    debug_render_only: bool = Field(False, alias="_debug_render_only")  # the rendered prompt, no model call


class GenerateRequest(_Request):
    prompt: str = ""
    system: str | None = None
    raw: bool = False


class CreateRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = ""
    files: dict[str, str] = {}  # file name -> the digest of a blob uploaded before
    template: str | None = None
    system: str | None = None
    parameters: dict | None = None
    stream: bool = True


class ShowRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = ""
    name: str = ""  # older clients send ``name``


def _now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def _modified_at(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).isoformat().replace("+00:00", "Z")


class ModelPool:
    """Tags the server knows, and the models currently loaded."""

    def __init__(self, models_dir: Path = MODELS_DIR, threads: int | None = None, behaviour: OllamaBehaviour | None = None):
        self.models_dir = Path(models_dir)
        self.threads = threads
        self.behaviour = behaviour  # None: the embedded server's own behaviour
        self.registry: dict[str, EmbeddedModel] = load_registry()
        self._loaded: dict[str, LoadedModel] = {}
        self._asked: dict[str, int] = {}
        self._loading = threading.Lock()
        self.uploaded: set[str] = set()  # sha256 of the blobs uploaded (/api/blobs), as Ollama


    def available(self) -> dict[str, EmbeddedModel]:
        """Every tag served, an alias of ``behaviour`` under its own name, with the embedded model behind it."""
        present = {tag: m for tag, m in self.registry.items() if m.path(self.models_dir).is_file()}
        aliases = self.behaviour.aliases if self.behaviour else {}
        return present | {alias: present[tag] for alias, tag in aliases.items() if tag in present}

    def entry(self, tag: str) -> EmbeddedModel:
        entry = self.available().get(_with_default_tag(tag))
        if entry is None:
            raise model_not_found(tag)
        return entry

    def get(self, tag: str, num_ctx: int | None = None) -> LoadedModel:
        entry = self.entry(tag)
        with self._loading:
            loaded = self._loaded.get(entry.tag)
            wanted = num_ctx or (loaded.num_ctx if loaded else DEFAULT_NUM_CTX)
            if loaded is None or loaded.num_ctx != wanted:
                if loaded is not None:
                    # Wait for the request running on the old context before replacing it.
                    with loaded.lock:
                        del self._loaded[entry.tag]
                path = entry.path(self.models_dir)
                if path.stat().st_size != entry.size:
                    raise ApiError(500, f"{path} is not the verified file for {entry.tag}; run `make setup`")
                self._loaded[entry.tag] = LoadedModel(entry.tag, path, num_ctx=wanted, threads=self.threads)
            return self._loaded[entry.tag]

    def create(self, request: CreateRequest) -> None:
        """As Ollama: ``request.model`` made from an uploaded GGUF blob, with the Modelfile's TEMPLATE and SYSTEM.

        Only the embedded models' weights can be served, and only a TEMPLATE
        of analysis/chat_templates.yaml, which renders a chat as the model's
        own GGUF template does with the last turn open (tests/test_modelfile.py
        renders both, that one with Go's text/template): this server runs no Go
        template. Without a TEMPLATE the model is a template-less import.
        """
        behaviour = self.behaviour
        weights = {m.sha256: tag for tag, m in self.registry.items()}
        digests = [digest.removeprefix("sha256:") for digest in request.files.values()]
        if not request.model or len(digests) != 1 or digests[0] not in self.uploaded:
            raise ApiError(400, "create needs a model name and one GGUF file uploaded as a blob before")
        if digests[0] not in weights:
            raise ApiError(400, "this server serves only the embedded models' weights")
        if request.template is not None and request.template not in _shipped_templates():
            raise ApiError(400, f"this server runs no Go template but those of {CHAT_TEMPLATES_FILE.name}")
        behaviour.aliases[request.model] = weights[digests[0]]
        if request.template is None:
            behaviour.template_less.append(request.model)
        elif request.model in behaviour.template_less:
            behaviour.template_less.remove(request.model)
        if request.system is not None:
            behaviour.system[request.model] = request.system

    def asked(self, tag: str) -> int:
        """How many chat requests ``tag`` has had, this one included."""
        with self._loading:
            self._asked[tag] = self._asked.get(tag, 0) + 1
            return self._asked[tag]

    def loaded(self) -> list[LoadedModel]:
        return list(self._loaded.values())

    def unload(self, tag: str) -> None:
        with self._loading:
            model = self._loaded.pop(self.entry(tag).tag, None)
        if model is not None:
            with model.lock:
                model.llm.close()


def _with_default_tag(name: str) -> str:
    return name if ":" in name else f"{name}:latest"


def _details(entry: EmbeddedModel) -> dict:
    return {
        "parent_model": "",
        "format": "gguf",
        "family": entry.family,
        "families": [entry.family],
        "parameter_size": entry.parameter_size,
        "quantization_level": entry.quantization_level,
    }


def _logprob_entry(step) -> dict:
    entry = {"token": step.token_text, "logprob": step.logprob, "bytes": list(step.token_bytes)}
    if step.top_logprobs:
        entry["top_logprobs"] = [
            {"token": text, "logprob": value, "bytes": list(raw)} for text, raw, value in step.top_logprobs
        ]
    return entry


def create_app(pool: ModelPool) -> FastAPI:
    app = FastAPI(title="extravasation-llm embedded server", docs_url=None, redoc_url=None)

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, error: ApiError):
        return JSONResponse({"error": error.message}, status_code=error.status)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, error: Exception):
        # Ollama's shape for any failure, so that clients show the message.
        return JSONResponse({"error": f"{type(error).__name__}: {error}"}, status_code=500)


    @app.get("/", response_class=PlainTextResponse)
    @app.head("/", response_class=PlainTextResponse)
    def root():
        return "Ollama is running"

    @app.get("/api/version")
    def version():
        if pool.behaviour:  # as Ollama: its version and nothing else
            return {"version": pool.behaviour.version}
        return {
            "version": OLLAMA_API_VERSION,
            "server": f"extravasation-llm embedded {__version__} (llama-cpp-python {llama_cpp.__version__})",
        }

    @app.get("/api/tags")
    def tags():
        models = []
        for tag, entry in pool.available().items():
            path = entry.path(pool.models_dir)
            models.append({
                "name": tag,
                "model": tag,
                "modified_at": _modified_at(path),
                "size": entry.size,
                "digest": _digest(pool, tag, entry),
                "details": _details(entry),
            })
        return {"models": models}

    @app.get("/api/ps")
    def running():
        return {"models": [
            {
                "name": m.tag, "model": m.tag, "size": pool.registry[m.tag].size,
                "digest": pool.registry[m.tag].sha256, "details": _details(pool.registry[m.tag]),
                "context_length": m.num_ctx,
            }
            for m in pool.loaded()
        ]}

    @app.post("/api/show")
    async def show(http: Request):
        request = await _parse(http, ShowRequest)
        return await run_in_threadpool(_show, request)

    def _show(request: ShowRequest):
        tag = request.model or request.name
        if not tag:
            raise ApiError(400, "model is required")
        entry = pool.entry(tag)
        loaded = pool.get(entry.tag)
        return {
            "license": entry.license,
            "modelfile": f"FROM {_weights_location(pool, entry)}\n",
            "parameters": "\n".join(f"{k} {v}" for k, v in {"num_ctx": loaded.num_ctx}.items()),
            "template": loaded.template,
            "details": _details(entry),
            "model_info": {k: _jsonable(v) for k, v in loaded.metadata.items() if k != "tokenizer.chat_template"},
            "capabilities": ["completion"],
            "modified_at": _modified_at(entry.path(pool.models_dir)),
            **({"system": pool.behaviour.system[tag]} if pool.behaviour and tag in pool.behaviour.system else {}),
        }

    @app.head("/api/blobs/{digest}")
    def blob_exists(digest: str):
        known = pool.behaviour and digest.removeprefix("sha256:") in pool.uploaded
        return PlainTextResponse("", status_code=200 if known else 404)

    @app.post("/api/blobs/{digest}", status_code=201)
    async def upload_blob(digest: str, http: Request):
        if not pool.behaviour:
            raise ApiError(404, "blobs are taken only as Ollama (--as-ollama)")
        hashed = hashlib.sha256()
        async for block in http.stream():
            hashed.update(block)
        expected = digest.removeprefix("sha256:")
        if hashed.hexdigest() != expected:  # Ollama's words (server/routes.go CreateBlobHandler)
            raise ApiError(400, f"digest mismatch, expected {expected!r}, got {hashed.hexdigest()!r}")
        pool.uploaded.add(expected)
        return PlainTextResponse("", status_code=201)

    @app.post("/api/create")
    async def create(http: Request):
        if not pool.behaviour:
            raise ApiError(404, "models are created only as Ollama (--as-ollama)")
        request = await _parse(http, CreateRequest)
        pool.create(request)
        return {"status": "success"}

    @app.post("/api/chat")
    async def chat(http: Request):
        return await run_in_threadpool(_chat, await _parse(http, ChatRequest))

    def _chat(request: ChatRequest):
        if not request.messages:
            return _load_only(pool, request, chat=True)
        behaviour = pool.behaviour
        if behaviour and behaviour.removed_after.get(request.model) is not None:
            if pool.asked(request.model) > behaviour.removed_after[request.model]:
                raise ApiError(404, f"model '{request.model}' not found")
        if behaviour and (failure := behaviour.load_failure(request.model, request.options)):
            raise ApiError(500, failure)
        if behaviour and (system := behaviour.system.get(request.model)) and request.messages[0].get("role") != "system":
            request.messages = [{"role": "system", "content": system}, *request.messages]
        if behaviour and not behaviour.supports(LOGPROBS_SINCE):
            request.logprobs, request.top_logprobs = False, 0  # an older Ollama ignores fields it does not know
        model, load_ns = _model_for(pool, request)
        prompt = _fitted_prompt(request, behaviour, _renderer(model, request.model, behaviour), model)
        if request.debug_render_only and (not behaviour or behaviour.supports(DEBUG_RENDER_SINCE)):
            return {"model": request.model, "created_at": _now(), "_debug_info": {"rendered_template": prompt, "image_count": 0}}
        return _respond(model, request, prompt, chat=True, load_ns=load_ns, behaviour=behaviour)

    @app.post("/api/generate")
    async def generate(http: Request):
        return await run_in_threadpool(_generate, await _parse(http, GenerateRequest))

    def _generate(request: GenerateRequest):
        if not request.prompt:
            return _load_only(pool, request, chat=False)
        model, load_ns = _model_for(pool, request)
        if request.raw:
            prompt = request.prompt
        else:
            messages = ([{"role": "system", "content": request.system}] if request.system else [])
            prompt = model.render_chat(messages + [{"role": "user", "content": request.prompt}])
        return _respond(model, request, prompt, chat=False, load_ns=load_ns, behaviour=pool.behaviour)

    return app


async def _parse(http: Request, schema: type[BaseModel]):
    """The JSON body, whatever its Content-Type (Ollama accepts `curl -d` bodies too)."""
    raw = await http.body()
    try:
        data = json.loads(raw or b"{}")
    except json.JSONDecodeError as error:
        raise ApiError(400, f"invalid JSON body: {error}") from None
    try:
        return schema.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        raise ApiError(400, f"invalid {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None


def _jsonable(value):
    try:
        json.dumps(value)
        return value
    except TypeError:
        return str(value)


def _digest(pool: ModelPool, tag: str, entry: EmbeddedModel) -> str:
    """The weights' sha256 (verified when the file was provisioned), or as Ollama, its manifest's hash."""
    if pool.behaviour and pool.behaviour.manifest_digests:
        return pool.behaviour.manifest_digest(tag, entry.sha256, pool.get(entry.tag).template)
    return entry.sha256


def _weights_location(pool: ModelPool, entry: EmbeddedModel) -> str:
    """The file behind a model, or as Ollama, its content-addressed blob (whose name carries the weights' sha256)."""
    if pool.behaviour and pool.behaviour.manifest_digests:
        return f"/root/.ollama/models/blobs/sha256-{entry.sha256}"
    return str(entry.path(pool.models_dir))


def _cuts(behaviour: OllamaBehaviour | None, request: _Request) -> bool:
    """Whether an over-long prompt is cut, as Ollama cuts it, rather than refused."""
    if not behaviour or not behaviour.truncate:
        return False
    honours_field = behaviour.supports(TRUNCATE_FIELD_SINCE) and not behaviour.ignore_truncate_false
    return not (honours_field and getattr(request, "truncate", None) is False)


def _shipped_templates() -> set[str]:
    return {chat["template"] for chat in yaml.safe_load(CHAT_TEMPLATES_FILE.read_text())["formats"].values()}


def _renderer(model: LoadedModel, tag: str, behaviour: OllamaBehaviour | None):
    """How ``tag``'s messages become its prompt: the GGUF's own template with a last assistant message left open;
    as Ollama, closed (a template that closes every turn), or the bare template of a template-less import."""
    if behaviour and behaviour.bare_template(tag):
        return bare_template_prompt
    continue_last = not (behaviour and tag in behaviour.closed_turn)
    return lambda messages: model.render_chat(messages, continue_last)


def _fitted_prompt(request: ChatRequest, behaviour: OllamaBehaviour | None, render, model: LoadedModel) -> str:
    """The rendered prompt; where Ollama would cut it, with the earliest messages dropped until it fits
    (server/prompt.go keeps the system messages and always the last message)."""
    messages = request.messages
    prompt = render(messages)
    if not _cuts(behaviour, request) or len(model.tokenize(prompt)) <= model.num_ctx:
        return prompt
    for start in range(1, len(messages)):
        kept = [m for m in messages[:start] if m.get("role") == "system"] + messages[start:]
        prompt = render(kept)
        if len(model.tokenize(prompt)) <= model.num_ctx:
            break
    return prompt


def _model_for(pool: ModelPool, request: _Request) -> tuple[LoadedModel, int]:
    """The model, loaded if need be, and the nanoseconds spent loading it for this request."""
    if not request.model:
        raise ApiError(400, "model is required")
    started = time.perf_counter_ns()
    model = pool.get(request.model, num_ctx=(request.options or {}).get("num_ctx"))
    return model, time.perf_counter_ns() - started


def _load_only(pool: ModelPool, request: _Request, chat: bool) -> JSONResponse:
    """Ollama's way to load (or, with keep_alive 0, unload) a model: a request with nothing to answer."""
    if not request.model:
        raise ApiError(400, "model is required")
    unload = request.keep_alive in (0, "0", "0s", "0m")
    if unload:
        pool.unload(request.model)
    else:
        pool.get(request.model, num_ctx=(request.options or {}).get("num_ctx"))
    body = {"model": request.model, "created_at": _now(), "done": True, "done_reason": "unload" if unload else "load"}
    body.update({"message": {"role": "assistant", "content": ""}} if chat else {"response": ""})
    return JSONResponse(body)


def _respond(model: LoadedModel, request: _Request, prompt: str, chat: bool, load_ns: int,
             behaviour: OllamaBehaviour | None):
    try:
        grammar = grammar_for(request.format)
    except ValueError as error:
        raise ApiError(400, str(error)) from None
    options = GenerationOptions.from_ollama(request.options)
    events = _events(model, request, prompt, options, grammar, chat, load_ns, behaviour)
    if not request.stream:
        return JSONResponse(_merge(list(events), chat))
    queue = _run_to_completion(events)
    first = queue.get()
    if isinstance(first, Exception):  # e.g. an over-long prompt: an error status, not a broken stream
        raise first
    return StreamingResponse(_ndjson(first, queue), media_type="application/x-ndjson")


_END = object()


def _run_to_completion(events: Iterator[dict]) -> Queue:
    """Produce a stream in its own thread, so that a client that hangs up
    cannot leave the model locked half-way through a generation."""
    queue: Queue = Queue()

    def produce():
        try:
            for event in events:
                queue.put(event)
        except Exception as error:  # handed to the consumer, which re-raises it
            queue.put(error)
        queue.put(_END)

    threading.Thread(target=produce, daemon=True).start()
    return queue


def _ndjson(first: dict, queue: Queue) -> Iterator[str]:
    item = first
    while item is not _END:
        if isinstance(item, Exception):
            yield json.dumps({"error": str(item)}, separators=(",", ":")) + "\n"
            return
        yield json.dumps(item, separators=(",", ":")) + "\n"
        item = queue.get()


def _events(model, request, prompt, options, grammar, chat, load_ns, behaviour) -> Iterator[dict]:
    """Ollama's stream of partial responses, ending with one whose ``done`` is true."""
    started = time.perf_counter_ns()
    stats = GenerationStats()

    def event(text: str, steps: list) -> dict:
        body = {"model": request.model, "created_at": _now()}
        body.update({"message": {"role": "assistant", "content": text}} if chat else {"response": text})
        body["done"] = False
        if request.logprobs:
            body["logprobs"] = [_logprob_entry(s) for s in steps if s.token_bytes]
        return body

    with model.lock:
        if behaviour and request.model in behaviour.end_at_once:
            # The prompt is read, then end-of-sequence is chosen: Ollama sends no token, so no log-probabilities.
            stats.prompt_tokens = len(model.tokenize(prompt))
        else:
            try:
                steps = model.generate(
                    prompt, options, grammar=grammar, logprobs=request.logprobs,
                    top_logprobs=request.top_logprobs, stats=stats,
                    keep_when_cut=(options_num_keep(request.options) + 1) if _cuts(behaviour, request) else None,
                )
                for step in steps:
                    yield event(step.text, [step])
            except PromptTooLong as error:
                raise ApiError(400, behaviour.too_long(error.prompt_tokens, error.num_ctx) if behaviour
                               else str(error)) from None
    final = event("", [])
    final.pop("logprobs", None)
    final.update({
        "done": True,
        "done_reason": stats.done_reason,
        "total_duration": time.perf_counter_ns() - started + load_ns,
        "load_duration": load_ns,
        "prompt_eval_count": stats.prompt_tokens,
        "prompt_eval_duration": stats.prompt_eval_ns,
        "eval_count": stats.generated_tokens,
        "eval_duration": stats.eval_ns,
    })
    yield final


def options_num_keep(options: dict | None) -> int:
    """Ollama's ``num_keep``: prompt tokens its runner keeps from the start when it cuts a prompt (default 4)."""
    return (options or {}).get("num_keep", 4)


def _merge(events: list[dict], chat: bool) -> dict:
    """The single response of a non-streamed request: all parts joined into the final event."""
    final = dict(events[-1])
    text = "".join(e["message"]["content"] if chat else e["response"] for e in events[:-1])
    if chat:
        final["message"] = {"role": "assistant", "content": text}
    else:
        final["response"] = text
    if any("logprobs" in e for e in events[:-1]):
        final["logprobs"] = [entry for e in events[:-1] for entry in e.get("logprobs", [])]
    return final


def serve(host: str = "127.0.0.1", port: int = 11434, models_dir: Path = MODELS_DIR, threads: int | None = None,
          behaviour: OllamaBehaviour | None = None) -> None:
    """Serve until interrupted; ``behaviour`` makes the server behave as Ollama does where the two differ."""
    import uvicorn

    if not is_local(host):
        print(f"WARNING: serving on {host}, reachable from other machines; reports sent to it cross the network.",
              file=sys.stderr, flush=True)
    pool = ModelPool(models_dir, threads=threads, behaviour=behaviour)
    if not pool.available():
        raise SystemExit(f"no embedded model found in {models_dir}; run `make setup` first")
    as_ollama = f", behaving as Ollama {behaviour.version} does" if behaviour else ""
    print(f"Serving {', '.join(pool.available())} on http://{host}:{port} (Ollama API {OLLAMA_API_VERSION}{as_ollama})",
          file=sys.stderr, flush=True)
    uvicorn.run(create_app(pool), host=host, port=port, log_level="warning")
