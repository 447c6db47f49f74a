"""Durable dispatcher state: each trigger's checkpoint and its on-failure destination.

One SQLite file per service, ``<data dir>/streams/<service>.sqlite3``:

- ``stream_checkpoints (trigger, sequence, stream)``: the last sequence number a trigger
  is done with (delivered, filtered out, or sent to the failure destination), and the
  ARN of the stream it is a position in. It is saved only after the function returned
  for a batch, so a crash replays the batch: at least once, as Lambda's event source
  mapping. A trigger with no checkpoint *of the stream it reads* starts at that
  stream's oldest record (Lambda's ``TRIM_HORIZON``), so writes made while the local
  cloud was down are delivered when it starts. Sequence numbers of two streams do not
  compare (moto starts every stream at the same number; SQLite's are small, DynamoDB's
  long): a checkpoint of another stream (a table file or a DynamoDB table recreated,
  the same data dir used with and without ``--dynamodb-endpoint``) is no position in
  this one (:meth:`Checkpoint.belongs_to`).
- ``stream_failures``: records of batches that failed for good (retries or record age
  exhausted), as Lambda's on-failure destination keeps their description; locally
  the records themselves are kept too, so that ``overcast streams redrive`` can
  deliver them again. A redrive is a flag the running dispatcher picks up.

Sequence numbers are kept as text (see ``SEQUENCE_WIDTH``): DynamoDB's do not fit in
SQLite's 64-bit INTEGER. Older stores are brought up to date when opened: version 1
(INTEGER columns) is copied over; version 2 checkpoints (no stream) get the stream
``""``, "unknown". Those were written by SQLite's change log (before a DynamoDB
endpoint's streams could be read) or by a DynamoDB stream of unknown identity, and the
two can be told apart by size: a local sequence number has fewer than 21 digits
(``LOCAL_SEQUENCE_LIMIT``), DynamoDB's 21 to 40. An unknown-stream checkpoint of local
size is kept by whichever stream the trigger reads first (for a SQLite stream it is the
position it was; a DynamoDB stream's records all lie above it, so nothing is skipped);
a long one is nobody's, as its stream may be gone (start again at ``TRIM_HORIZON``:
records may be delivered twice, never skipped).

Writes commit with ``synchronous=FULL``: a checkpoint that says a record is done must
not be lost by a power cut while the record's effects are kept.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Sequence numbers are text, zero-padded to 40 digits (DynamoDB's longest), so that they
# compare in SQL as numbers do: DynamoDB's (21 to 40 digits) overflow SQLite's INTEGER.
SEQUENCE_WIDTH = 40
# Local sequence numbers stay below 10**20; DynamoDB's have 21 to 40 digits.
LOCAL_SEQUENCE_LIMIT = 10**20
SCHEMA_VERSION = 3
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS stream_checkpoints (trigger TEXT PRIMARY KEY,"
    " sequence TEXT NOT NULL, stream TEXT NOT NULL DEFAULT '')",
    "CREATE TABLE IF NOT EXISTS stream_failures (id TEXT PRIMARY KEY, created REAL NOT NULL,"
    " trigger TEXT NOT NULL, function TEXT NOT NULL, reason TEXT NOT NULL,"
    " attempts INTEGER NOT NULL, first_sequence TEXT NOT NULL,"
    " last_sequence TEXT NOT NULL, records TEXT NOT NULL,"
    " redrive INTEGER NOT NULL DEFAULT 0)",
)
# Version 1 kept sequences as INTEGER in `checkpoints` and `failures`: copied, padded.
_MIGRATION = {
    "checkpoints": "INSERT OR IGNORE INTO stream_checkpoints (trigger, sequence)"
    " SELECT trigger, printf('%040d', sequence) FROM checkpoints",
    "failures": "INSERT OR IGNORE INTO stream_failures SELECT id, created, trigger, function,"
    " reason, attempts, printf('%040d', first_sequence), printf('%040d', last_sequence),"
    " records, redrive FROM failures",
}
_COLUMNS = "id, created, trigger, function, reason, attempts, first_sequence, last_sequence"


@dataclass(frozen=True)
class Checkpoint:
    """A trigger's position: the last ``sequence`` it is done with in ``stream`` (an
    ARN; ``""`` for a checkpoint saved before stores named their stream)."""

    stream: str
    sequence: int

    def belongs_to(self, stream: str) -> bool:
        """Whether this is a position in ``stream`` (see the module's docstring)."""
        if not self.stream:
            return self.sequence < LOCAL_SEQUENCE_LIMIT
        return self.stream == stream


@dataclass(frozen=True)
class Failure:
    """A batch that failed for good: why, after how many attempts, and its records."""

    trigger: str
    function: str
    reason: str
    attempts: int
    created_at: float
    first_sequence: int
    last_sequence: int
    records: list[dict[str, Any]] = field(default_factory=list)
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    redrive_requested: bool = False


def store_path(data_dir: Path, service: str) -> Path:
    """Where a service's stream state lives."""
    return data_dir / "streams" / f"{service}.sqlite3"


class StreamStore:
    """Checkpoints and failures of a service's stream triggers; safe to share between
    threads (one connection, one lock) and processes (SQLite's own locking)."""

    def __init__(self, path: Path, *, busy_timeout: float = 30.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(
            path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        self._lock = threading.Lock()
        with self._lock:
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute("PRAGMA synchronous=FULL")
            _upgrade(self._connection)

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def checkpoint(self, trigger: str) -> int:
        """The last sequence number ``trigger`` is done with (in whichever stream); 0
        before the first."""
        saved = self.saved_checkpoint(trigger)
        return 0 if saved is None else saved.sequence

    def saved_checkpoint(self, trigger: str) -> Checkpoint | None:
        """``trigger``'s checkpoint and its stream; ``None`` before the first."""
        row = self._one(
            "SELECT stream, sequence FROM stream_checkpoints WHERE trigger = ?", (trigger,)
        )
        return None if row is None else Checkpoint(stream=row[0], sequence=int(row[1]))

    def save_checkpoint(self, trigger: str, sequence: int, *, stream: str) -> None:
        """Move ``trigger``'s checkpoint in ``stream`` forward to ``sequence`` (never back);
        a checkpoint of another stream is replaced."""
        self._run(
            "INSERT INTO stream_checkpoints (trigger, sequence, stream) VALUES (?, ?, ?)"
            " ON CONFLICT (trigger) DO UPDATE SET sequence = CASE WHEN stream = excluded.stream"
            " THEN max(sequence, excluded.sequence) ELSE excluded.sequence END,"
            " stream = excluded.stream",
            (trigger, _text(sequence), stream),
        )

    def add_failure(self, failure: Failure) -> None:
        self._run(
            f"INSERT INTO stream_failures ({_COLUMNS}, records) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                failure.id,
                failure.created_at,
                failure.trigger,
                failure.function,
                failure.reason,
                failure.attempts,
                _text(failure.first_sequence),
                _text(failure.last_sequence),
                json.dumps(failure.records, separators=(",", ":")),
            ),
        )

    def failures(self, trigger: str | None = None, *, redrive_only: bool = False) -> list[Failure]:
        """Failures, oldest first: all, one trigger's, or only those asked to be redriven."""
        sql = f"SELECT {_COLUMNS}, records, redrive FROM stream_failures WHERE 1"
        parameters: list[Any] = []
        if trigger is not None:
            sql += " AND trigger = ?"
            parameters.append(trigger)
        if redrive_only:
            sql += " AND redrive = 1"
        with self._lock:
            rows = self._connection.execute(sql + " ORDER BY created, id", parameters).fetchall()
        return [_failure(row) for row in rows]

    def request_redrive(self, failure_id: str) -> bool:
        """Flag a failure for redelivery; ``False`` if there is no such failure."""
        return self._run("UPDATE stream_failures SET redrive = 1 WHERE id = ?", (failure_id,)) > 0

    def redrive_failed(self, failure_id: str, reason: str) -> None:
        self._run(
            "UPDATE stream_failures SET redrive = 0, reason = ?, attempts = attempts + 1"
            " WHERE id = ?",
            (reason, failure_id),
        )

    def remove_failure(self, failure_id: str) -> None:
        self._run("DELETE FROM stream_failures WHERE id = ?", (failure_id,))

    def _one(self, sql: str, parameters: tuple[Any, ...]) -> Any:
        with self._lock:
            return self._connection.execute(sql, parameters).fetchone()

    def _run(self, sql: str, parameters: tuple[Any, ...]) -> int:
        with self._lock:
            return self._connection.execute(sql, parameters).rowcount


def _failure(row: tuple[Any, ...]) -> Failure:
    (identifier, created, trigger, function, reason, attempts, first, last, records, redrive) = row
    return Failure(
        id=identifier,
        created_at=created,
        trigger=trigger,
        function=function,
        reason=reason,
        attempts=attempts,
        first_sequence=int(first),
        last_sequence=int(last),
        records=json.loads(records),
        redrive_requested=bool(redrive),
    )


def _text(sequence: int) -> str:
    return f"{sequence:0{SEQUENCE_WIDTH}d}"


def _upgrade(connection: sqlite3.Connection) -> None:
    """Create the schema, or bring a store of version 1 (INTEGER sequences) or 2 (no
    stream in checkpoints) up to date."""
    if connection.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        if connection.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            for statement in _SCHEMA:
                connection.execute(statement)
            if not _has_column(connection, "stream_checkpoints", "stream"):
                connection.execute(
                    "ALTER TABLE stream_checkpoints ADD COLUMN stream TEXT NOT NULL DEFAULT ''"
                )
            for legacy, copy in _MIGRATION.items():
                if _has_table(connection, legacy):
                    connection.execute(copy)
                    connection.execute(f"DROP TABLE {legacy}")
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _has_table(connection: sqlite3.Connection, name: str) -> bool:
    found = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return found is not None


def _has_column(connection: sqlite3.Connection, table: str, column: str) -> bool:
    return any(row[1] == column for row in connection.execute(f"PRAGMA table_info({table})"))
