"""The response cache: every raw model response, keyed by everything that determines it.

A labeling run asks the server only for what the cache lacks, so an
interrupted run resumes where it stopped and a rerun costs no model call.
SQLite in WAL mode lets two runs share one cache file safely.
"""

import csv
import hashlib
import json
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path

from analysis.data.io import open_private

SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    digest TEXT NOT NULL,
    task TEXT NOT NULL,
    task_version INTEGER NOT NULL,
    report_id TEXT NOT NULL,
    server TEXT NOT NULL,
    request TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at TEXT NOT NULL
)
"""


# Request fields that do not change the answer: the tag (the digest names the model), how long the server
# keeps it loaded, and truncate: false, which only turns a prompt that does not fit into an error.
NOT_IN_KEY = {"model", "keep_alive", "truncate"}
# Options that decide where a model runs, not what it answers: they go to the run's manifest, and changing
# them (e.g. fewer layers on the GPU) keeps every cached answer.
PLACEMENT_OPTIONS = {"num_gpu", "main_gpu", "num_thread", "use_mmap", "use_mlock", "low_vram", "numa"}


DURATION_FIELDS = ("total_duration", "load_duration", "prompt_eval_duration", "eval_duration")
EXPORT_COLUMNS = [
    "key", "created_at", "model", "digest", "task", "task_version", "report_id", "server", "prompt", "options",
    "answer", "done_reason", "prompt_eval_count", "eval_count", *(f"{f}_ms" for f in DURATION_FIELDS),
]


def cache_key(digest: str, task_version: int, request: dict, backend: str = "ollama") -> str:
    """A hash of the backend, the model's identity on it (``digest``), the task version and the request
    (messages, options, format).

    Ollama's keys name no backend: they predate the others and stay as they
    were, so that every answer cached before keeps its key.
    """
    answering = {k: v for k, v in request.items() if k not in NOT_IN_KEY}
    if "options" in answering:
        answering["options"] = {k: v for k, v in answering["options"].items() if k not in PLACEMENT_OPTIONS}
    identity = {"digest": digest, "task_version": task_version, "request": answering}
    if backend != "ollama":
        identity["backend"] = backend
    return hashlib.sha256(json.dumps(identity, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _user_text(request: dict) -> str:
    """The prompt: the last user message (an answer prefix may follow it as an assistant message)."""
    return next((m["content"] for m in reversed(request["messages"]) if m["role"] == "user"), "")


class ResponseCache:
    """The cache file at ``path``; ``read_only`` opens an existing one without ever writing to it (reviewing)."""

    def __init__(self, path: Path, read_only: bool = False):
        self.path = Path(path)
        if read_only:
            if not self.path.is_file():
                raise FileNotFoundError(f"{self.path}: no response cache there")
            self._connection = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                               check_same_thread=False)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                open_private(self.path).close()  # the cache holds report text: private before SQLite writes any
            self._connection = sqlite3.connect(self.path, timeout=60, check_same_thread=False, isolation_level=None)
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute(SCHEMA)
        self._lock = threading.Lock()

    def get(self, key: str) -> dict | None:
        with self._lock:
            row = self._connection.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def servers(self, model: str, digest: str, task: str) -> dict[str, int]:
        """How many answers of this model (tag and digest) to this task each server version gave."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT server, COUNT(*) FROM responses WHERE model = ? AND digest = ? AND task = ? GROUP BY server",
                (model, digest, task)).fetchall()
        return dict(rows)

    def request_of(self, key: str) -> dict | None:
        """The request stored with the response under ``key``: what was sent, verbatim."""
        with self._lock:
            row = self._connection.execute("SELECT request FROM responses WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def get_many(self, keys) -> dict[str, dict]:
        """``{key: response}`` for the keys the cache holds; the others are left out."""
        wanted = sorted({key for key in keys if key})
        found = {}
        with self._lock:
            for start in range(0, len(wanted), 500):  # SQLite caps the parameters of one statement
                chunk = wanted[start:start + 500]
                query = f"SELECT key, response FROM responses WHERE key IN ({','.join('?' * len(chunk))})"
                found |= {key: json.loads(response) for key, response in self._connection.execute(query, chunk)}
        return found

    def put(self, key: str, *, model: str, digest: str, task: str, task_version: int, report_id: str,
            server: str, request: dict, response: dict, replace: bool = False) -> dict:
        """Store a response and return the one stored under ``key``.

        An existing response is kept unless ``replace`` (a refresh) says
        otherwise: when two runs asked the same question at once, both go on
        with the first answer stored, so their labels agree.
        """
        row = (key, model, digest, task, task_version, report_id, server,
               json.dumps(request, ensure_ascii=False), json.dumps(response, ensure_ascii=False),
               datetime.now(timezone.utc).isoformat())
        with self._lock:
            verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
            self._connection.execute(f"{verb} INTO responses VALUES (?,?,?,?,?,?,?,?,?,?)", row)
            stored = self._connection.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        return json.loads(stored[0])

    def export(self, path: Path) -> Path:
        """Every cached response as one flat CSV row that a reviewer can open in a spreadsheet."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT key, created_at, model, digest, task, task_version, report_id, server, request, response "
                "FROM responses ORDER BY created_at, key"
            ).fetchall()
        path = Path(path)
        with open_private(path) as handle:
            writer = csv.writer(handle)
            writer.writerow(EXPORT_COLUMNS)
            for key, created_at, model, digest, task, task_version, report_id, server, request, response in rows:
                request, response = json.loads(request), json.loads(response)
                writer.writerow([
                    key, created_at, model, digest, task, task_version, report_id, server,
                    _user_text(request), json.dumps(request.get("options", {}), sort_keys=True),
                    response.get("message", {}).get("content", ""), response.get("done_reason", ""),
                    response.get("prompt_eval_count", ""), response.get("eval_count", ""),
                    *(round(response[f] / 1e6, 1) if f in response else "" for f in DURATION_FIELDS),
                ])
        return path

    def __len__(self) -> int:
        with self._lock:
            return self._connection.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def __enter__(self) -> "ResponseCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._connection.close()
