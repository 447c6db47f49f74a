"""A bucket's catalog: the SQLite file that names its objects (for :mod:`.filesystem`).

``<bucket>/catalog.sqlite3`` holds:

- ``objects (key, blob, size, etag, last_modified, attributes)``: one row per
  object, ``key TEXT PRIMARY KEY`` in a ``WITHOUT ROWID`` table. TEXT compares
  with the BINARY collation, byte by byte over UTF-8: S3's key order, so a listing
  is a walk of the primary key B-tree from a bound. ``blob`` names the file under
  ``blobs/`` with the body; ``last_modified`` is Unix seconds; ``attributes`` is
  JSON, holding only the attributes that differ from the defaults.
- ``meta (name, value)``: ``created`` (Unix seconds) and, once the bucket is being
  deleted, ``deleted``.
- ``notifications``, ``events``, ``event_failures``: the bucket's object-created
  events, each written in the same transaction as its object's row (see
  :mod:`.filesystem_events`).

Concurrency: the journal is WAL, so readers never block the writer nor the writer
readers, across threads and processes. Each :class:`Catalog` keeps two
connections, one for reads and one for writes, each used by one thread at a time;
a read never waits behind a write of this process. Writes run in ``BEGIN
IMMEDIATE`` (the write lock first, then the read), so the blob a write replaces is
the one it read, whoever else writes; a busy file makes a writer wait up to
``busy_timeout`` seconds. ``synchronous=FULL``: a commit is on disk before it
returns, so an object acknowledged to a client survives a power cut too (with
NORMAL the last commits could roll back, and start-up recovery would then delete
their blobs as unnamed).

Every ``sqlite3.Error`` becomes :class:`ObjectStoreUnavailable`.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from overcast.ports.objects import filesystem_events as events
from overcast.ports.objects.base import ObjectAttributes, ObjectInfo, WritePrecondition
from overcast.ports.objects.exceptions import (
    BucketNotEmpty,
    NoSuchBucket,
    ObjectStoreUnavailable,
)

_P = ParamSpec("_P")
_R = TypeVar("_R")

_SCHEMA = (
    "CREATE TABLE objects (key TEXT PRIMARY KEY NOT NULL, blob TEXT NOT NULL,"
    " size INTEGER NOT NULL, etag TEXT NOT NULL, last_modified INTEGER NOT NULL,"
    " attributes TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE meta (name TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID",
)
_INFO = "key, size, etag, last_modified, attributes"
_FIND = f"SELECT {_INFO}, blob FROM objects WHERE key = ?"
_BLOB_OF = "SELECT blob FROM objects WHERE key = ?"
_UPSERT = (
    "INSERT OR REPLACE INTO objects (key, blob, size, etag, last_modified, attributes)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_REMOVE = "DELETE FROM objects WHERE key = ?"
_ANY_OBJECT = "SELECT 1 FROM objects LIMIT 1"
_META = "SELECT name, value FROM meta"
_IS_DELETED = "SELECT 1 FROM meta WHERE name = 'deleted'"
_MARK_DELETED = "INSERT OR REPLACE INTO meta (name, value) VALUES ('deleted', '1')"
# ORDER BY the primary key: SQLite walks the B-tree from the lower bound, no sort.
_SCANS = {
    (inclusive, bounded): f"SELECT {_INFO} FROM objects WHERE key {'>=' if inclusive else '>'} ?"
    + (" AND key < ?" if bounded else "")
    + " ORDER BY key LIMIT ?"
    for inclusive in (False, True)
    for bounded in (False, True)
}
_DEFAULT_ATTRIBUTES = ObjectAttributes()


@dataclass(frozen=True)
class Entry:
    """An object's catalog row: its description and the blob holding its body."""

    info: ObjectInfo
    blob: str


def _translated(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Re-raise SQLite's errors as the port's own: no sqlite3 type escapes the port."""

    @functools.wraps(method)
    def translating(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except sqlite3.Error as exc:
            raise ObjectStoreUnavailable(f"The bucket's catalog is unavailable: {exc}.") from exc

    return translating


class Catalog:
    """The catalog of bucket ``bucket``, in the SQLite file at ``path`` (which must exist)."""

    def __init__(self, path: Path, bucket: str, *, busy_timeout: float = 30.0) -> None:
        self.path = path
        self.bucket = bucket
        self._busy_timeout = busy_timeout
        self._closed = False
        self._reads = _Link(self._connect)
        self._writes = _Link(self._connect)

    @staticmethod
    @_translated
    def create(path: Path, created: datetime) -> None:
        """Write a new, empty catalog at ``path`` (nobody else may see it yet)."""
        connection = sqlite3.connect(path, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL")  # kept in the file
            connection.execute("BEGIN")
            for statement in _SCHEMA:
                connection.execute(statement)
            events.ensure_schema(connection)
            connection.execute(
                "INSERT INTO meta (name, value) VALUES ('created', ?)",
                (str(int(created.timestamp())),),
            )
            connection.execute("COMMIT")
        finally:
            connection.close()

    def close(self) -> None:
        """Close the connections; later calls raise :class:`ObjectStoreUnavailable`."""
        self._closed = True
        self._reads.close()
        self._writes.close()

    # --- reads ----------------------------------------------------------------------

    @_translated
    def find(self, key: str) -> Entry | None:
        with self._reads.use() as connection:
            # fetchall, not fetchone: a statement left unfinished would keep its read
            # transaction (and so its snapshot) open for the next query.
            rows = connection.execute(_FIND, (key,)).fetchall()
        return Entry(_info(rows[0][:5]), rows[0][5]) if rows else None

    @_translated
    def scan(self, lower: str, inclusive: bool, upper: str | None, count: int) -> list[ObjectInfo]:
        """The first ``count`` objects from ``lower`` up to ``upper``, in key order."""
        parameters: tuple[Any, ...] = (lower, count) if upper is None else (lower, upper, count)
        with self._reads.use() as connection:
            rows = connection.execute(_SCANS[inclusive, upper is not None], parameters).fetchall()
        return [_info(row) for row in rows]

    @_translated
    def blobs(self) -> set[str]:
        """Every blob a row references."""
        with self._reads.use() as connection:
            return {blob for (blob,) in connection.execute("SELECT blob FROM objects")}

    @_translated
    def meta(self) -> dict[str, str]:
        with self._reads.use() as connection:
            return dict(connection.execute(_META).fetchall())

    # --- writes -----------------------------------------------------------------------

    @_translated
    def put(
        self,
        entry: Entry,
        precondition: WritePrecondition | None = None,
        *,
        now: datetime | None = None,
    ) -> str | None:
        """Store ``entry``'s row; return the blob of the row it replaced, if any.

        ``precondition`` is checked against the row found in the same transaction (the
        write lock is held from the start), so no other write can slip in between. The
        object-created events of the bucket's matching notification configurations are
        inserted in the same transaction (event time ``now``).
        """
        info = entry.info
        row = (
            info.key,
            entry.blob,
            info.size,
            info.etag,
            int(info.last_modified.timestamp()),
            encode_attributes(info.attributes),
        )
        with self._transaction() as connection:
            if connection.execute(_IS_DELETED).fetchall():
                raise NoSuchBucket(self.bucket)
            if precondition is None:
                replaced = connection.execute(_BLOB_OF, (info.key,)).fetchall()
            else:
                replaced = _checked(connection, info.key, precondition)
            connection.execute(_UPSERT, row)
            events.record(connection, info, now or datetime.now(UTC))
        return str(replaced[0][0]) if replaced else None

    @_translated
    def remove(self, key: str) -> str | None:
        """Remove ``key``'s row; return its blob, if there was one."""
        with self._transaction() as connection:
            removed = connection.execute(_BLOB_OF, (key,)).fetchall()
            if removed:
                connection.execute(_REMOVE, (key,))
        return str(removed[0][0]) if removed else None

    @_translated
    def mark_deleted(self) -> None:
        """Mark the bucket deleted if it holds no object (:class:`BucketNotEmpty`).

        In the same transaction as the check, so no write can slip in between: a
        write that commits later finds the mark and fails with :class:`NoSuchBucket`.
        """
        with self._transaction() as connection:
            if connection.execute(_ANY_OBJECT).fetchall():
                raise BucketNotEmpty(self.bucket)
            connection.execute(_MARK_DELETED)

    # --- object-created events (see filesystem_events) ---------------------------------

    @_translated
    def configure_notifications(self, configurations: list[tuple[str, str, str]]) -> None:
        """Replace the bucket's notification configurations: ``(id, prefix, suffix)``."""
        with self._transaction() as connection:
            events.configure(connection, configurations)

    @_translated
    def due_events(self, now: float, limit: int) -> list[events.ObjectEvent]:
        """Undelivered events whose next attempt is due at ``now`` (Unix time), oldest first."""
        with self._reads.use() as connection:
            return events.due(connection, now, limit)

    @_translated
    def event_delivered(self, sequence: int) -> None:
        with self._transaction() as connection:
            events.delivered(connection, sequence)

    @_translated
    def event_postponed(self, sequence: int, at: float, error: str) -> None:
        with self._transaction() as connection:
            events.postpone(connection, sequence, at, error)

    @_translated
    def event_failed(self, sequence: int, error: str, condition: str) -> None:
        with self._transaction() as connection:
            events.fail(connection, sequence, error, condition)

    @_translated
    def event_failures(self) -> list[tuple[events.ObjectEvent, str]]:
        """The on-failure store: each event given up on, with why."""
        with self._reads.use() as connection:
            return events.failures(connection)

    # --- connections --------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._writes.use() as connection:
            # IMMEDIATE takes the write lock now, so what we read cannot change before we write.
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise

    def _connect(self) -> sqlite3.Connection:
        if self._closed:
            raise ObjectStoreUnavailable(f"The catalog of bucket {self.bucket!r} is closed.")
        uri = f"file:{urllib.parse.quote(str(self.path))}?mode=rw"  # never create it
        try:
            connection = sqlite3.connect(
                uri,
                uri=True,
                timeout=self._busy_timeout,
                isolation_level=None,  # we issue BEGIN / COMMIT ourselves
                check_same_thread=False,  # used by one thread at a time, under a lock
            )
        except sqlite3.OperationalError as exc:
            if not self.path.exists():
                raise NoSuchBucket(self.bucket) from exc
            raise
        try:
            connection.execute("PRAGMA synchronous=FULL")
            events.ensure_schema(connection)  # a catalog made before events existed
        except BaseException:
            connection.close()
            raise
        return connection


class _Link:
    """One lazily opened connection, used by one thread at a time.

    A process forked with an open connection must not use it (SQLite forbids it):
    the child opens its own.
    """

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0

    @contextmanager
    def use(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._connection is None or self._pid != os.getpid():
                self._connection = self._connect()
                self._pid = os.getpid()
            yield self._connection

    def close(self) -> None:
        with self._lock:
            if self._connection is not None and self._pid == os.getpid():
                self._connection.close()
            self._connection = None


# --- rows ----------------------------------------------------------------------------


def _checked(
    connection: sqlite3.Connection, key: str, precondition: WritePrecondition
) -> list[tuple[str]]:
    """Check ``precondition`` against ``key``'s row; the blob the write will replace."""
    rows = connection.execute(_FIND, (key,)).fetchall()
    precondition.check(key, _info(rows[0][:5]) if rows else None)
    return [(rows[0][5],)] if rows else []


def _info(row: tuple[Any, ...]) -> ObjectInfo:
    key, size, etag, modified, attributes = row
    return ObjectInfo(
        key=key,
        size=size,
        etag=etag,
        last_modified=datetime.fromtimestamp(modified, UTC),
        attributes=decode_attributes(attributes),
    )


def encode_attributes(attributes: ObjectAttributes) -> str:
    """The attributes that differ from the defaults, as JSON."""
    data: dict[str, Any] = {}
    for field in fields(ObjectAttributes):
        value = getattr(attributes, field.name)
        if value != getattr(_DEFAULT_ATTRIBUTES, field.name):
            data[field.name] = dict(value) if isinstance(value, Mapping) else value
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def decode_attributes(text: str) -> ObjectAttributes:
    """Attributes back from :func:`encode_attributes`."""
    data: dict[str, Any] = json.loads(text)
    return ObjectAttributes(**data)


def bucket_created(meta: Mapping[str, str]) -> datetime:
    return datetime.fromtimestamp(int(meta["created"]), UTC)
