"""The local table: one SQLite file per declared table, shared by threads and processes.

Layout (see :mod:`overcast.ports.tables.sqlite_schema`): an ``items`` table keyed
``(pk, sk)`` holding each item's JSON text, and one table per secondary index keyed
``(index pk, index sk, pk, sk)``, all ``WITHOUT ROWID`` so rows live in their
primary-key B-tree. Index rows are written in the same transaction as the item, so
an index never disagrees with the table. Key columns have no declared type: a
string key is stored as TEXT and compared byte by byte (BINARY collation on UTF-8,
which is DynamoDB's string order); a number key is stored as INTEGER or REAL and
compared by value, as DynamoDB orders numbers.

Concurrency:

- Journal mode is WAL: readers never block the writer, and the writer never
  blocks readers. ``synchronous=NORMAL`` is safe with WAL — the database cannot be
  corrupted; a power cut (not an application crash) may only lose the last
  commits, which is the right trade for a local development cloud.
- Each thread has its own connection (handlers run on a thread pool). A point
  read is one prepared statement on that connection, with no per-call set-up.
- Every conditional write or update is read-check-write inside
  ``BEGIN IMMEDIATE``, which takes the write lock before reading; so it is atomic
  against writers in other threads and other processes. A busy database makes the
  caller wait up to ``busy_timeout`` seconds rather than fail.

Change stream: when the table declares ``stream``, each write that changes an item
appends its change record (:mod:`overcast.ports.tables.stream`) to the ``stream``
table inside the write's own transaction: the record commits with the change or not
at all, and records are numbered in commit order, because ``BEGIN IMMEDIATE``
serializes the writers. Readers (the local stream dispatchers) read them with
:meth:`SqliteTable.stream_records`.

Change detection: :meth:`SqliteTable.data_version` is ``PRAGMA data_version`` of the
calling thread's connection (with that connection's serial number), which changes
when any other connection — another thread's, another process's — commits; a read
cache checks it before each read (about a microsecond).

Errors: ``sqlite3.IntegrityError`` becomes :class:`ConditionFailed`, every other
``sqlite3.Error`` (and an unusable path) :class:`TableUnavailable`.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from overcast import spec
from overcast.ports.tables import sqlite_schema as schema
from overcast.ports.tables.base import (
    Condition,
    Item,
    KeyValue,
    QueryPlan,
    ScanPlan,
    Table,
    check_condition,
    updated_item,
)
from overcast.ports.tables.exceptions import ConditionFailed, TableUnavailable
from overcast.ports.tables.stream import Change, ChangeRecord, change_of
from overcast.ports.tables.values import decode_item, encode_item

_P = ParamSpec("_P")
_R = TypeVar("_R")
_RowKey = tuple[KeyValue, KeyValue]


def _translated(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Re-raise SQLite's errors as the port's own: no sqlite3 type escapes the port; and
    hold the table open while the method runs (``close`` waits for it)."""

    @functools.wraps(method)
    def translating(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        owner = args[0]
        try:
            if isinstance(owner, SqliteTable):
                with owner._in_use():
                    return method(*args, **kwargs)
            return method(*args, **kwargs)
        except sqlite3.IntegrityError as exc:
            raise ConditionFailed(f"SQLite refused the write; nothing changed: {exc}.") from exc
        except sqlite3.Error as exc:
            raise TableUnavailable(f"The local table is unavailable: {exc}.") from exc

    return translating


class _Keeper:
    """Lives in a thread's local storage; when the thread ends, its connection closes."""

    __slots__ = ("__weakref__",)


class SqliteTable(Table):
    """A :class:`~overcast.ports.tables.Table` stored in the SQLite file at ``path``.

    The file, its parent directories and its schema are created on first use.
    ``busy_timeout`` is how long a write waits for another writer's lock; ``clock``
    (epoch seconds) times the change records.
    """

    def __init__(
        self,
        declaration: spec.Table,
        path: str | Path,
        *,
        busy_timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(declaration)
        self._clock = clock
        self.path = Path(path)
        self._busy_timeout = busy_timeout
        self._pk = declaration.partition_key.name
        self._sk = declaration.sort_key.name if declaration.sort_key else None
        self._indexes = tuple(schema.IndexTable(index) for index in declaration.indexes)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._ready = False
        self._closed = False
        self._closers: list[weakref.finalize[Any, Any]] = []
        self._serials = itertools.count(1)
        # Calls running now (on any thread): close() waits for them, because closing a
        # connection under a statement another thread is stepping crashes SQLite's C code.
        self._active = 0
        self._idle = threading.Condition(self._lock)

    def close(self) -> None:
        """Close every thread's connection once the calls running now have returned (up
        to ``busy_timeout``). Later calls raise :class:`TableUnavailable`."""
        with self._lock:
            self._closed = True
            self._idle.wait_for(lambda: self._active == 0, timeout=self._busy_timeout)
            for closer in self._closers:
                closer()
            self._closers.clear()

    @contextlib.contextmanager
    def _in_use(self) -> Iterator[None]:
        depth: int = getattr(self._local, "depth", 0)
        if depth == 0:  # a call's own inner calls are part of it, even while closing
            with self._lock:
                if self._closed:
                    raise TableUnavailable(f"The local table {self.path} has been closed.")
                self._active += 1
        self._local.depth = depth + 1
        try:
            yield
        finally:
            self._local.depth = depth
            if depth == 0:
                with self._lock:
                    self._active -= 1
                    if self._active == 0:
                        self._idle.notify_all()

    # --- primitives -----------------------------------------------------------

    @_translated
    def _get(self, key: dict[str, Any], *, consistent: bool = False) -> Item | None:
        row = self._connection().execute(schema.GET, self._row_key(key)).fetchone()
        return None if row is None else decode_item(row[0])

    @_translated
    def _put(self, item: Item, key: dict[str, Any], condition: Condition | None) -> None:
        text = encode_item(item)
        row_key = self._row_key(key)
        with self._transaction() as connection:
            streams = self.declaration.stream is not None
            needs_current = condition is not None or self._indexes or streams
            current = self._read(connection, row_key) if needs_current else None
            check_condition(condition, current)
            connection.execute(schema.PUT, (*row_key, text))
            self._reindex(connection, row_key, current, item)
            self._record(connection, key, current, item)

    @_translated
    def _update(
        self,
        key: dict[str, Any],
        changes: dict[str, Any],
        removals: tuple[str, ...],
        condition: Condition | None,
    ) -> Item:
        row_key = self._row_key(key)
        with self._transaction() as connection:
            current = self._read(connection, row_key)
            check_condition(condition, current)
            item = updated_item(current, key, changes, removals)
            text = encode_item(item)
            connection.execute(schema.PUT, (*row_key, text))
            self._reindex(connection, row_key, current, item)
            self._record(connection, key, current, item)
        return decode_item(text)

    @_translated
    def _delete(self, key: dict[str, Any], condition: Condition | None) -> Item | None:
        row_key = self._row_key(key)
        with self._transaction() as connection:
            current = self._read(connection, row_key)
            check_condition(condition, current)
            if current is not None:
                connection.execute(schema.DELETE, row_key)
                self._reindex(connection, row_key, current, None)
                self._record(connection, key, current, None)
        return current

    @_translated
    def _query(self, plan: QueryPlan) -> list[Item]:
        sql, parameters = self._statement(plan)
        rows = self._connection().execute(sql, parameters).fetchall()
        return [decode_item(text) for (text,) in rows]

    @_translated
    def _scan(self, plan: ScanPlan) -> list[Item]:
        parameters: list[Any]
        if plan.after is None:
            sql, parameters = schema.SCAN_FIRST, [plan.limit + 1]
        else:
            sql, parameters = schema.SCAN_AFTER, [*self._row_key(plan.after), plan.limit + 1]
        rows = self._connection().execute(sql, parameters).fetchall()
        return [decode_item(text) for (text,) in rows]

    @_translated
    def _stream_records(self, after: int, limit: int) -> list[ChangeRecord]:
        rows = self._connection().execute(schema.STREAM_READ, (after, limit)).fetchall()
        return [_change_record(*row) for row in rows]

    @_translated
    def trim_stream(self, before: float) -> int:
        with self._transaction() as connection:
            return connection.execute(schema.STREAM_TRIM, (before,)).rowcount

    @_translated
    def stream_label(self) -> str:
        row = self._connection().execute(schema.STREAM_LABEL).fetchone()
        if row is None:
            raise TableUnavailable(f"Table {self.declaration.name!r} declares no stream.")
        return str(row[0])

    @_translated
    def data_version(self) -> tuple[int, int]:
        """``(connection serial, PRAGMA data_version)``: it changes when another connection
        commits (SQLite: "the integer values returned by two invocations of PRAGMA
        data_version from the same connection will be different if changes were committed
        to the database by any other connection in the interim")."""
        connection = self._connection()
        (version,) = connection.execute("PRAGMA data_version").fetchone()
        return self._local.serial, int(version)

    @_translated
    def explain_query(self, plan: QueryPlan) -> list[str]:
        """SQLite's plan for ``plan`` (EXPLAIN QUERY PLAN details), to check index use."""
        sql, parameters = self._statement(plan)
        rows = self._connection().execute(f"EXPLAIN QUERY PLAN {sql}", parameters)
        return [str(row[3]) for row in rows]

    # --- helpers --------------------------------------------------------------

    def _row_key(self, key: dict[str, Any]) -> _RowKey:
        return key[self._pk], schema.NO_SORT_KEY if self._sk is None else key[self._sk]

    def _statement(self, plan: QueryPlan) -> tuple[str, list[Any]]:
        if plan.index is None:
            source = None
        else:
            source = next(table for table in self._indexes if table.index == plan.index)
        return schema.query_statement(plan, source, self._after(plan))

    def _after(self, plan: QueryPlan) -> tuple[KeyValue, ...] | None:
        """The cursor as a position in the query's order: (sk) or (isk, pk, sk)."""
        if plan.after is None:
            return None
        row_key = self._row_key(plan.after["k"])
        if plan.index is None:
            return (row_key[1],)
        sort = plan.index.sort_key
        return (schema.NO_SORT_KEY if sort is None else plan.after["x"][sort.name], *row_key)

    @staticmethod
    def _read(connection: sqlite3.Connection, row_key: _RowKey) -> Item | None:
        row = connection.execute(schema.GET, row_key).fetchone()
        return None if row is None else decode_item(row[0])

    def _reindex(
        self,
        connection: sqlite3.Connection,
        row_key: _RowKey,
        before: Item | None,
        after: Item | None,
    ) -> None:
        for table in self._indexes:
            old, new = table.position(before), table.position(after)
            if old == new:
                continue
            if old is not None:
                connection.execute(table.delete, (*old, *row_key))
            if new is not None:
                connection.execute(table.insert, (*new, *row_key))

    def _record(
        self, connection: sqlite3.Connection, key: Item, old: Item | None, new: Item | None
    ) -> None:
        view = self.declaration.stream
        change = None if view is None else change_of(view, key, old, new)
        if change is None:
            return
        connection.execute(
            schema.STREAM_APPEND,
            (
                self._clock(),
                change.event_name,
                encode_item(change.keys),
                None if change.new_image is None else encode_item(change.new_image),
                None if change.old_image is None else encode_item(change.old_image),
            ),
        )

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        connection = self._connection()
        # IMMEDIATE takes the write lock now, so what we read cannot change before we write.
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    # --- connections ------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        try:
            connection: sqlite3.Connection = self._local.connection
        except AttributeError:
            connection = self._open_connection()
        return connection

    def _open_connection(self) -> sqlite3.Connection:
        with self._lock:
            # A call admitted before close() began may still open its thread's connection.
            if self._closed and not getattr(self._local, "depth", 0):
                raise TableUnavailable(f"The local table {self.path} has been closed.")
            connection = self._connect()
            keeper = _Keeper()
            self._closers = [closer for closer in self._closers if closer.alive]
            self._closers.append(weakref.finalize(keeper, connection.close))
        self._local.connection, self._local.keeper = connection, keeper
        self._local.serial = next(self._serials)
        return connection

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TableUnavailable(f"Cannot create the folder of {self.path}: {exc}.") from exc
        connection = sqlite3.connect(
            self.path,
            timeout=self._busy_timeout,
            isolation_level=None,  # we issue BEGIN / COMMIT ourselves
            check_same_thread=False,  # one thread uses it; close() may run on another
            cached_statements=256,
        )
        try:
            connection.execute("PRAGMA synchronous=NORMAL")
            if not self._ready:
                schema.prepare(connection, self.declaration, self._indexes, self._busy_timeout)
                self._ready = True
        except BaseException:
            connection.close()
            raise
        return connection


def _change_record(
    sequence: int, created: float, event: Any, keys: str, new: str | None, old: str | None
) -> ChangeRecord:
    change = Change(
        event_name=event,
        keys=decode_item(keys),
        new_image=None if new is None else decode_item(new),
        old_image=None if old is None else decode_item(old),
    )
    return ChangeRecord(sequence=sequence, created_at=created, change=change)
