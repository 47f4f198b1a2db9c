"""The response cache: every raw model response, keyed by everything that determines it.

A labeling run asks the server only for what the cache lacks, so an
interrupted run resumes where it stopped and a rerun costs no model call.
SQLite in WAL mode lets two runs share one cache file safely.
"""

import hashlib
import json
import os
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path

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


def cache_key(digest: str, task_version: int, request: dict) -> str:
    """A hash of the model weights, the task version and the request (messages, options, format)."""
    identity = {"digest": digest, "task_version": task_version, "request": {k: v for k, v in request.items() if k != "model"}}
    return hashlib.sha256(json.dumps(identity, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class ResponseCache:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.exists()
        self._connection = sqlite3.connect(self.path, timeout=60, check_same_thread=False, isolation_level=None)
        if fresh:
            os.chmod(self.path, 0o600)  # the cache holds report text
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute(SCHEMA)
        self._lock = threading.Lock()

    def get(self, key: str) -> dict | None:
        with self._lock:
            row = self._connection.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, *, model: str, digest: str, task: str, task_version: int, report_id: str,
            server: str, request: dict, response: dict) -> None:
        row = (key, model, digest, task, task_version, report_id, server,
               json.dumps(request, ensure_ascii=False), json.dumps(response, ensure_ascii=False),
               datetime.now(timezone.utc).isoformat())
        with self._lock:
            self._connection.execute("INSERT OR IGNORE INTO responses VALUES (?,?,?,?,?,?,?,?,?,?)", row)

    def __len__(self) -> int:
        with self._lock:
            return self._connection.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        self._connection.close()
