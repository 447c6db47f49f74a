"""Lambda's asynchronous event queue, on disk: one row per accepted ``Event`` invocation.

``<data dir>/lambda/async-events.sqlite3``, table ``async_events``: the event's id (the
request id its 202 answered with), the function's physical name and qualifier (``NULL``:
``$LATEST``), the payload (JSON), when it was accepted, how many attempts failed so far
and when the next attempt is due (epoch seconds).

Lambda's queue is durable: an event it acknowledged runs even if Lambda restarts
("Asynchronous invocation": Lambda "places the event in a queue and returns a success
response"). Locally, a row is committed before the 202 is sent and deleted only once
the event is done with (run, or discarded), so a crash or a stop loses nothing
acknowledged. Writes commit with ``synchronous=FULL`` (WAL), as the stream store's: a
202 must not be undone by a power cut.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS async_events (id TEXT PRIMARY KEY, function TEXT NOT NULL,"
    " qualifier TEXT, payload TEXT NOT NULL, accepted_at REAL NOT NULL,"
    " attempts INTEGER NOT NULL, next_attempt_at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS async_events_due ON async_events (next_attempt_at)",
)
_COLUMNS = "id, function, qualifier, payload, accepted_at, attempts, next_attempt_at"


@dataclass(frozen=True)
class QueuedEvent:
    """An accepted asynchronous invocation, waiting for its next attempt."""

    id: str
    function: str  # the physical name, ``<service>-<function>``
    qualifier: str | None  # an alias; None for $LATEST
    payload: str  # the event, as JSON
    accepted_at: float
    attempts: int = 0  # failed attempts so far
    next_attempt_at: float = 0.0


def events_path(data_dir: Path) -> Path:
    """Where the local cloud keeps its accepted asynchronous invocations."""
    return data_dir / "lambda" / "async-events.sqlite3"


class AsyncEventStore:
    """The queued events; safe to share between threads (one connection, one lock) and
    processes (SQLite's own locking)."""

    def __init__(self, path: Path, *, busy_timeout: float = 30.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(
            path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        self._lock = threading.Lock()
        with self._lock:
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute("PRAGMA synchronous=FULL")
            for statement in _SCHEMA:
                self._connection.execute(statement)

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def add(self, event: QueuedEvent) -> None:
        """Keep ``event``; committed when this returns."""
        self._run(
            f"INSERT INTO async_events ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                event.id,
                event.function,
                event.qualifier,
                event.payload,
                event.accepted_at,
                event.attempts,
                event.next_attempt_at,
            ),
        )

    def pending(self, limit: int = 1000, *, excluding: Collection[str] = ()) -> list[QueuedEvent]:
        """The first ``limit`` events, the soonest due first, of functions not ``excluding``
        (those with no room now: their backlog must not hide other functions' events)."""
        skipped = sorted(excluding)
        where = f"WHERE function NOT IN ({', '.join('?' * len(skipped))})" if skipped else ""
        with self._lock:
            rows = self._connection.execute(
                f"SELECT {_COLUMNS} FROM async_events {where}"
                " ORDER BY next_attempt_at, accepted_at LIMIT ?",
                (*skipped, limit),
            ).fetchall()
        return [QueuedEvent(*row) for row in rows]

    def retry_at(self, event_id: str, attempts: int, next_attempt_at: float) -> None:
        """Record a failed attempt: ``attempts`` so far, the next one due at ``next_attempt_at``."""
        self._run(
            "UPDATE async_events SET attempts = ?, next_attempt_at = ? WHERE id = ?",
            (attempts, next_attempt_at, event_id),
        )

    def remove(self, event_id: str) -> None:
        self._run("DELETE FROM async_events WHERE id = ?", (event_id,))

    def _run(self, sql: str, parameters: tuple[Any, ...]) -> None:
        with self._lock:
            self._connection.execute(sql, parameters)
