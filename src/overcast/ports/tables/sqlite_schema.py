"""The SQLite table's schema and statements (used by :mod:`overcast.ports.tables.sqlite`).

- ``items (pk, sk, item)``: one row per item, its JSON text; ``PRIMARY KEY (pk, sk)``.
  A table without a sort key stores the constant :data:`NO_SORT_KEY` in ``sk``.
- ``"index/<name>/<digest>" (ipk, isk, pk, sk)``: one table per secondary index,
  ``PRIMARY KEY (ipk, isk, pk, sk)``. Sparse: an item lacking the index's key
  attributes has no row. The digest names the index's key schema, so changing a
  declared index builds a new table, filled from the items; an index no longer
  declared is dropped.
- ``meta``: the key schema the file was created for. A file opened with another
  key schema is refused: its items would be keyed by the wrong attributes. A table
  with a stream also keeps its stream's label (its creation time) here.
- ``stream (seq, created, event, keys, new, old)``: the change stream, when the table
  declares one; written in the same transaction as each change. ``seq`` is
  ``INTEGER PRIMARY KEY AUTOINCREMENT``, so sequence numbers only ever increase,
  never reused even after records are trimmed.

Every statement's text is built once (per index, or per query shape), so SQLite's
statement cache on each connection reuses the prepared statement.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from typing import Any

from overcast import spec
from overcast.ports.tables.base import (
    BeginsWith,
    Between,
    Item,
    KeyValue,
    QueryPlan,
    SortCondition,
    index_key,
)
from overcast.ports.tables.exceptions import TableUnavailable
from overcast.ports.tables.stream import stream_label
from overcast.ports.tables.values import decode_item

# Stored where a table or index has no sort key. DynamoDB refuses an empty string
# as a key value, so it can never collide with a real one.
NO_SORT_KEY = ""

GET = "SELECT item FROM items WHERE pk = ? AND sk = ?"
PUT = "INSERT OR REPLACE INTO items (pk, sk, item) VALUES (?, ?, ?)"
DELETE = "DELETE FROM items WHERE pk = ? AND sk = ?"
# A scan walks the items' primary key B-tree; a key's columns all hold one type.
SCAN_FIRST = "SELECT item FROM items ORDER BY pk, sk LIMIT ?"
SCAN_AFTER = "SELECT item FROM items WHERE (pk, sk) > (?, ?) ORDER BY pk, sk LIMIT ?"

# Key columns have no declared type (BLOB affinity): values are stored as bound,
# TEXT for S keys and INTEGER or REAL for N keys, never converted.
_CREATE_ITEMS = (
    "CREATE TABLE IF NOT EXISTS items (pk NOT NULL, sk NOT NULL, item TEXT NOT NULL,"
    " PRIMARY KEY (pk, sk)) WITHOUT ROWID"
)
_CREATE_META = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID"
)
_CREATE_STREAM = (
    "CREATE TABLE IF NOT EXISTS stream (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " created REAL NOT NULL, event TEXT NOT NULL, keys TEXT NOT NULL, new TEXT, old TEXT)"
)
STREAM_APPEND = "INSERT INTO stream (created, event, keys, new, old) VALUES (?, ?, ?, ?, ?)"
STREAM_READ = (
    "SELECT seq, created, event, keys, new, old FROM stream WHERE seq > ? ORDER BY seq LIMIT ?"
)
STREAM_TRIM = "DELETE FROM stream WHERE created < ?"
STREAM_LABEL = "SELECT value FROM meta WHERE name = 'stream_label'"
_INDEX_PREFIX = "index/"
_MAX_CODE_POINT = 0x10FFFF
_SURROGATES = range(0xD800, 0xE000)


class IndexTable:
    """One secondary index's SQLite table, and the statements that maintain it."""

    def __init__(self, index: spec.Index) -> None:
        self.index = index
        keys = [index.partition_key, index.sort_key]
        schema = json.dumps([[key.name, key.type] if key else None for key in keys])
        self.name = (
            f"{_INDEX_PREFIX}{index.name}/{hashlib.sha256(schema.encode()).hexdigest()[:12]}"
        )
        self.quoted = _quoted(self.name)
        self.create = (
            f"CREATE TABLE {self.quoted} (ipk NOT NULL, isk NOT NULL, pk NOT NULL, sk NOT NULL,"
            " PRIMARY KEY (ipk, isk, pk, sk)) WITHOUT ROWID"
        )
        self.insert = f"INSERT OR REPLACE INTO {self.quoted} (ipk, isk, pk, sk) VALUES (?, ?, ?, ?)"
        self.delete = f"DELETE FROM {self.quoted} WHERE ipk = ? AND isk = ? AND pk = ? AND sk = ?"

    def position(self, item: Item | None) -> tuple[KeyValue, KeyValue] | None:
        """The item's ``(ipk, isk)`` in this index, or ``None`` if it is not in it."""
        found = None if item is None else index_key(item, self.index)
        if found is None:
            return None
        return found[0], NO_SORT_KEY if found[1] is None else found[1]


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


# --- schema -----------------------------------------------------------------------


def prepare(
    connection: sqlite3.Connection,
    declaration: spec.Table,
    indexes: Sequence[IndexTable],
    busy_timeout: float,
) -> None:
    """Switch the file to WAL and create or bring up to date its tables, atomically."""
    _use_wal(connection, busy_timeout)
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.execute(_CREATE_ITEMS)
        connection.execute(_CREATE_META)
        _check_key_schema(connection, declaration)
        _sync_indexes(connection, indexes)
        if declaration.stream is not None:
            _create_stream(connection)
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def _use_wal(connection: sqlite3.Connection, timeout: float) -> None:
    """Switch the file to WAL (the mode is stored in the file: the first opener does it).

    Switching needs an exclusive lock, and SQLite answers SQLITE_BUSY at once,
    without its busy handler, when another process holds the file open at that
    moment: so retry, for as long as a write would wait.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
            if mode != "wal":
                mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            break
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.005)
    if mode != "wal":
        raise TableUnavailable(f"SQLite cannot use WAL mode here (it chose {mode!r}).")


def _check_key_schema(connection: sqlite3.Connection, declaration: spec.Table) -> None:
    keys = [declaration.partition_key, declaration.sort_key]
    wanted = json.dumps([[key.name, key.type] if key else None for key in keys])
    row = connection.execute("SELECT value FROM meta WHERE name = 'key_schema'").fetchone()
    if row is None:
        connection.execute("INSERT INTO meta (name, value) VALUES ('key_schema', ?)", (wanted,))
    elif row[0] != wanted:
        raise TableUnavailable(
            f"Table {declaration.name!r} was created with the key schema {row[0]}, but is "
            f"now declared with {wanted}. Keys cannot change in place: delete the table's "
            "file (overcast reset wipes all local data) and start again."
        )


def _create_stream(connection: sqlite3.Connection) -> None:
    connection.execute(_CREATE_STREAM)
    connection.execute(
        "INSERT OR IGNORE INTO meta (name, value) VALUES ('stream_label', ?)",
        (stream_label(time.time()),),
    )


def _sync_indexes(connection: sqlite3.Connection, indexes: Sequence[IndexTable]) -> None:
    listed = connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 6) = ?",
        (_INDEX_PREFIX,),
    )
    existing = {name for (name,) in listed}
    for stale in existing - {table.name for table in indexes}:
        connection.execute(f"DROP TABLE {_quoted(stale)}")
    for table in indexes:
        if table.name not in existing:
            connection.execute(table.create)
            connection.executemany(table.insert, _index_rows(connection, table))


def _index_rows(connection: sqlite3.Connection, table: IndexTable) -> Iterator[tuple[Any, ...]]:
    for pk, sk, text in connection.execute("SELECT pk, sk, item FROM items").fetchall():
        position = table.position(decode_item(text))
        if position is not None:
            yield (*position, pk, sk)


# --- queries ------------------------------------------------------------------------


def query_statement(
    plan: QueryPlan, source: IndexTable | None, after: tuple[KeyValue, ...] | None
) -> tuple[str, list[Any]]:
    """The SELECT for ``plan`` and its parameters.

    On the table the order is ``sk``; on an index ``(isk, pk, sk)``, so that a
    cursor (``after``, a position in that order) is a single row-value bound.
    """
    if source is None:
        parts = ["SELECT item FROM items WHERE pk = ?"]
        order: tuple[str, ...] = ("sk",)
    else:
        parts = [
            f"SELECT i.item FROM {source.quoted} AS x CROSS JOIN items AS i"
            " ON i.pk = x.pk AND i.sk = x.sk WHERE x.ipk = ?"
        ]
        order = ("x.isk", "x.pk", "x.sk")
    parameters: list[Any] = [plan.partition_value]
    for op, value in _bounds(plan.sort, after, plan.descending):
        parts.append(f"AND {order[0]} {op} ?")
        parameters.append(value)
    if after is not None:
        columns, marks = ", ".join(order), ", ".join("?" * len(order))
        if len(order) > 1:
            columns, marks = f"({columns})", f"({marks})"
        parts.append(f"AND {columns} {'<' if plan.descending else '>'} {marks}")
        parameters.extend(after)
    direction = " DESC" if plan.descending else ""
    parts.append("ORDER BY " + ", ".join(column + direction for column in order) + " LIMIT ?")
    parameters.append(plan.limit + 1)
    return " ".join(parts), parameters


def _bounds(
    sort: SortCondition | None, after: tuple[KeyValue, ...] | None, descending: bool
) -> list[tuple[str, Any]]:
    """The sort condition as ``(op, value)`` bounds on the leading order column.

    A bound on the side the query walks from is dropped when the cursor already
    implies it, so that SQLite seeks straight to the cursor instead of scanning
    from the start of the condition's range. (Python orders strings by code point,
    which is SQLite's UTF-8 byte order.)
    """
    if sort is None:
        return []
    if isinstance(sort, Between):
        bounds: list[tuple[str, Any]] = [(">=", sort.low), ("<=", sort.high)]
    elif isinstance(sort, BeginsWith):
        # A range on the key, so that the primary key B-tree narrows the search.
        end = prefix_end(sort.prefix)
        bounds = [(">=", sort.prefix)] + ([] if end is None else [("<", end)])
    elif sort.op == "=":
        # As a range, not an equality: after ``isk = ?`` SQLite would sort (pk, sk)
        # in a temporary B-tree instead of walking the primary key in order.
        bounds = [(">=", sort.value), ("<=", sort.value)]
    else:
        bounds = [(sort.op, sort.value)]
    if after is None:
        return bounds
    return [bound for bound in bounds if not _implied(bound, after[0], descending)]


def _implied(bound: tuple[str, Any], start: Any, descending: bool) -> bool:
    """Does every row past a cursor at leading value ``start`` meet ``bound``?"""
    op, value = bound
    if descending:
        return bool((op == "<=" and start <= value) or (op == "<" and start < value))
    return bool((op == ">=" and start >= value) or (op == ">" and start > value))


def prefix_end(prefix: str) -> str | None:
    """The least string after every string that starts with ``prefix``; ``None`` if none.

    Increment the last code point, skipping surrogates (which no stored string
    holds); a last code point already at U+10FFFF is dropped and the one before is
    incremented instead. Code-point order is UTF-8 byte order, so the bound holds
    for SQLite's byte-wise comparison.
    """
    while prefix:
        last = ord(prefix[-1])
        if last < _MAX_CODE_POINT:
            following = last + 1
            if following in _SURROGATES:
                following = _SURROGATES.stop
            return prefix[:-1] + chr(following)
        prefix = prefix[:-1]
    return None
