"""A filesystem bucket's object-created events, kept in its catalog (:mod:`.filesystem_catalog`).

S3 sends an event notification for each object created (``s3:ObjectCreated:*``) whose
key matches a notification configuration of the bucket (its prefix and suffix). Here
the bucket's catalog holds:

- ``notifications (id, prefix, suffix)``: the bucket's notification configurations,
  written by the local cloud at start-up (:meth:`EventLog.configure`);
- ``events (sequence, configuration, key, size, etag, event_name, event_time, origin,
  attempts, next_attempt, error)``: one row per event not yet delivered, inserted **in
  the same transaction as the object's row**, so no acknowledged write can lose its
  event, whatever process wrote it and whenever it crashes;
- ``event_failures``: the on-failure store, the events whose delivery gave up.

How the object was created (``ObjectCreated:Put`` / ``Post`` / ``Copy`` /
``CompleteMultipartUpload``), by whom and from where travel in a context variable the
writer sets (:func:`creating`): the S3 endpoint sets it per request; a function
writing through the port gets ``Put`` by the function itself.

``sequence`` is the catalog's ever-increasing event number; it becomes the event's
``sequencer`` (S3: "a way to determine the sequence of events" for one key).
"""

from __future__ import annotations

import contextvars
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from overcast.ports.objects.base import ObjectInfo

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS notifications (id TEXT PRIMARY KEY NOT NULL,"
    " prefix TEXT NOT NULL, suffix TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS events (sequence INTEGER PRIMARY KEY AUTOINCREMENT,"
    " configuration TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL,"
    " etag TEXT NOT NULL, event_name TEXT NOT NULL, event_time TEXT NOT NULL,"
    " origin TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt REAL NOT NULL DEFAULT 0, error TEXT)",
    "CREATE TABLE IF NOT EXISTS event_failures (sequence INTEGER PRIMARY KEY,"
    " configuration TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL,"
    " etag TEXT NOT NULL, event_name TEXT NOT NULL, event_time TEXT NOT NULL,"
    " origin TEXT NOT NULL, attempts INTEGER NOT NULL, next_attempt REAL NOT NULL,"
    " error TEXT, failed_at TEXT NOT NULL, condition TEXT NOT NULL)",
)
_COLUMNS = (
    "sequence, configuration, key, size, etag, event_name, event_time, origin, attempts,"
    " next_attempt, error"
)
_INSERT = (
    "INSERT INTO events (configuration, key, size, etag, event_name, event_time, origin)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_DUE = f"SELECT {_COLUMNS} FROM events WHERE next_attempt <= ? ORDER BY sequence LIMIT ?"


@dataclass(frozen=True)
class Creation:
    """How an object came to be: the event's name, and who asked from where."""

    event_name: str = "ObjectCreated:Put"
    principal_id: str = ""
    source_ip: str = "127.0.0.1"
    request_id: str = ""
    host_id: str = ""


_creation: contextvars.ContextVar[Creation | None] = contextvars.ContextVar(
    "overcast_object_creation", default=None
)


@contextmanager
def creating(creation: Creation) -> Iterator[None]:
    """Writes made inside (this context, and threads started from it) are ``creation``."""
    token = _creation.set(creation)
    try:
        yield
    finally:
        _creation.reset(token)


def current_creation() -> Creation:
    return _creation.get() or Creation()


@dataclass(frozen=True)
class ObjectEvent:
    """An event row: an object created, for one notification configuration."""

    sequence: int
    configuration: str
    key: str
    size: int
    etag: str
    event_name: str
    event_time: datetime
    creation: Creation
    attempts: int = 0
    next_attempt: float = 0.0
    error: str | None = None


def record(connection: sqlite3.Connection, info: ObjectInfo, now: datetime) -> None:
    """Insert an event per notification configuration matching ``info.key``."""
    creation = current_creation()
    for configuration, prefix, suffix in connection.execute(
        "SELECT id, prefix, suffix FROM notifications"
    ).fetchall():
        if info.key.startswith(prefix) and info.key.endswith(suffix):
            connection.execute(
                _INSERT,
                (
                    configuration,
                    info.key,
                    info.size,
                    info.etag,
                    creation.event_name,
                    now.isoformat(timespec="milliseconds"),
                    json.dumps(asdict(creation)),
                ),
            )


def ensure_schema(connection: sqlite3.Connection) -> None:
    for statement in SCHEMA:
        connection.execute(statement)


def configure(
    connection: sqlite3.Connection, configurations: Sequence[tuple[str, str, str]]
) -> None:
    """Replace the notification configurations with ``(id, prefix, suffix)`` ones."""
    connection.execute("DELETE FROM notifications")
    connection.executemany(
        "INSERT INTO notifications (id, prefix, suffix) VALUES (?, ?, ?)", configurations
    )


def due(connection: sqlite3.Connection, now: float, limit: int) -> list[ObjectEvent]:
    return [_event(row) for row in connection.execute(_DUE, (now, limit)).fetchall()]


def failures(connection: sqlite3.Connection) -> list[tuple[ObjectEvent, str]]:
    rows = connection.execute(
        f"SELECT {_COLUMNS}, condition FROM event_failures ORDER BY sequence"
    ).fetchall()
    return [(_event(row[:11]), row[11]) for row in rows]


def delivered(connection: sqlite3.Connection, sequence: int) -> None:
    connection.execute("DELETE FROM events WHERE sequence = ?", (sequence,))


def postpone(connection: sqlite3.Connection, sequence: int, at: float, error: str) -> None:
    connection.execute(
        "UPDATE events SET attempts = attempts + 1, next_attempt = ?, error = ? WHERE sequence = ?",
        (at, error, sequence),
    )


def fail(connection: sqlite3.Connection, sequence: int, error: str, condition: str) -> None:
    """Move the event to the on-failure store (Lambda's ``condition``: why it gave up)."""
    connection.execute(
        f"INSERT OR REPLACE INTO event_failures ({_COLUMNS}, failed_at, condition)"
        " SELECT sequence, configuration, key, size, etag, event_name, event_time, origin,"
        " attempts + 1, next_attempt, ?, ?, ? FROM events WHERE sequence = ?",
        (error, datetime.now(UTC).isoformat(), condition, sequence),
    )
    delivered(connection, sequence)


def _event(row: tuple[Any, ...]) -> ObjectEvent:
    data: dict[str, Any] = json.loads(row[7])
    return ObjectEvent(
        sequence=row[0],
        configuration=row[1],
        key=row[2],
        size=row[3],
        etag=row[4],
        event_name=row[5],
        event_time=datetime.fromisoformat(row[6]),
        creation=Creation(**data),
        attempts=row[8],
        next_attempt=row[9],
        error=row[10],
    )
