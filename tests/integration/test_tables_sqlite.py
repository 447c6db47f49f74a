"""The SQLite table passes the port's contract, and keeps it across threads,
processes, restarts and a misbehaving file system."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, suppress
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest

from overcast import spec
from overcast.ports.tables import (
    BeginsWith,
    Between,
    ConditionFailed,
    ItemNotExists,
    KeyCompare,
    TableUnavailable,
)
from overcast.ports.tables.base import QueryPlan
from overcast.ports.tables.sqlite import SqliteTable, _translated
from overcast.ports.tables.stream import ChangeRecord
from tests.tables_contract import *  # noqa: F403  (the contract's tests run here)
from tests.tables_contract import COUNTERS, PROFILES, SCORES, TODOS, ids, increment_once, todo


@pytest.fixture
def table(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqliteTable]:
    declaration: spec.Table = request.param
    opened = SqliteTable(declaration, tmp_path / "tables" / f"{declaration.name}.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
def todos(tmp_path: Path) -> Iterator[SqliteTable]:
    opened = SqliteTable(TODOS, tmp_path / "todos.sqlite3", busy_timeout=0.2)
    yield opened
    opened.close()


# --- the file --------------------------------------------------------------------------------


def test_items_and_indexes_survive_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "folder" / "todos.sqlite3"
    first = SqliteTable(TODOS, path)
    first.put(todo("ana", "t1", status="open", due=1))
    first.close()
    second = SqliteTable(TODOS, path)
    assert second.get({"user": "ana", "id": "t1"}) == todo("ana", "t1", status="open", due=1)
    assert ids(second.query("open", index="by-status").items) == ["t1"]
    second.close()


def test_the_file_uses_write_ahead_logging(todos: SqliteTable) -> None:
    todos.put(todo("ana", "t1"))
    with closing(sqlite3.connect(todos.path)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_newly_declared_index_is_filled_from_existing_items(tmp_path: Path) -> None:
    path = tmp_path / "todos.sqlite3"
    plain = SqliteTable(spec.Table("todos", spec.Key("user"), spec.Key("id")), path)
    plain.put(todo("ana", "t1", status="open", due=2))
    plain.put(todo("bob", "t2", status="open", due=1))
    plain.put(todo("bob", "t3"))
    plain.close()
    indexed = SqliteTable(TODOS, path)
    assert ids(indexed.query("open", index="by-status").items) == ["t2", "t1"]
    indexed.close()


def test_an_index_dropped_and_declared_again_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "todos.sqlite3"
    with closing(SqliteTable(TODOS, path)) as indexed:
        indexed.put(todo("ana", "t1", status="open", due=1))
    with closing(SqliteTable(spec.Table("todos", spec.Key("user"), spec.Key("id")), path)) as plain:
        plain.update({"user": "ana", "id": "t1"}, {"status": "done"})
    with closing(SqliteTable(TODOS, path)) as again:
        assert again.query("open", index="by-status").items == []
        assert ids(again.query("done", index="by-status").items) == ["t1"]


def test_a_file_made_for_other_keys_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "scores.sqlite3"
    with closing(SqliteTable(SCORES, path)) as numbers:
        numbers.put({"game": "chess", "score": 1})
    strings = spec.Table("scores", spec.Key("game"), spec.Key("score", "S"))
    with closing(SqliteTable(strings, path)) as changed, pytest.raises(TableUnavailable) as error:
        changed.get({"game": "chess", "score": "1"})
    assert "key schema" in str(error.value)


@pytest.mark.parametrize("problem", ["parent-is-a-file", "path-is-a-folder", "not-a-database"])
def test_an_unusable_file_is_reported_as_unavailable(tmp_path: Path, problem: str) -> None:
    path = {
        "parent-is-a-file": tmp_path / "file" / "todos.sqlite3",
        "path-is-a-folder": tmp_path,
        "not-a-database": tmp_path / "garbage.sqlite3",
    }[problem]
    (tmp_path / "file").write_text("not a folder")
    (tmp_path / "garbage.sqlite3").write_bytes(b"this is not a database file" * 100)
    with closing(SqliteTable(TODOS, path)) as broken, pytest.raises(TableUnavailable):
        broken.get({"user": "ana", "id": "t1"})


def test_a_closed_table_is_unavailable_to_every_thread(todos: SqliteTable) -> None:
    todos.put(todo("ana", "t1"))
    todos.close()
    errors: list[BaseException] = []

    def read() -> None:
        try:
            todos.get({"user": "ana", "id": "t1"})
        except TableUnavailable as exc:
            errors.append(exc)

    read()
    reader = threading.Thread(target=read)
    reader.start()
    reader.join()
    assert len(errors) == 2


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="counts open files in /proc")
def test_threads_that_end_close_their_connections(todos: SqliteTable) -> None:
    todos.put(todo("ana", "t1"))
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        reader = threading.Thread(target=todos.get, args=({"user": "ana", "id": "t1"},))
        reader.start()
        reader.join()
    assert len(os.listdir("/proc/self/fd")) - before < 3


# --- locks -------------------------------------------------------------------------------------


def test_a_writer_waits_for_another_writers_lock(tmp_path: Path) -> None:
    waiting = SqliteTable(TODOS, tmp_path / "todos.sqlite3", busy_timeout=10)
    waiting.put(todo("ana", "t1"))
    with closing(
        sqlite3.connect(waiting.path, isolation_level=None, check_same_thread=False)
    ) as other:
        other.execute("BEGIN IMMEDIATE")
        releaser = threading.Timer(0.3, other.execute, args=("COMMIT",))
        releaser.start()
        started = time.monotonic()
        waiting.put(todo("ana", "t2"))
        assert time.monotonic() - started >= 0.25
        releaser.join()
    assert ids(waiting.query("ana").items) == ["t1", "t2"]
    waiting.close()


def test_a_lock_held_too_long_fails_cleanly_and_changes_nothing(todos: SqliteTable) -> None:
    todos.put(todo("ana", "t1", n=1))
    with closing(sqlite3.connect(todos.path, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(TableUnavailable):
            todos.update({"user": "ana", "id": "t1"}, {"n": 2})
        other.execute("ROLLBACK")
    assert todos.get({"user": "ana", "id": "t1"}) == todo("ana", "t1", n=1)
    todos.update({"user": "ana", "id": "t1"}, {"n": 3})  # the connection is still usable
    assert todos.get({"user": "ana", "id": "t1"}) == todo("ana", "t1", n=3)


def test_readers_are_not_blocked_by_a_writer(todos: SqliteTable) -> None:
    todos.put(todo("ana", "t1", n=1))
    with closing(sqlite3.connect(todos.path, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        other.execute("DELETE FROM items")
        assert todos.get({"user": "ana", "id": "t1"}) == todo("ana", "t1", n=1)
        assert ids(todos.query("ana").items) == ["t1"]
        other.execute("ROLLBACK")


# --- processes ---------------------------------------------------------------------------


def _increment_in_process(
    path: str, threads: int, times: int, start: Barrier, results: Queue[Any]
) -> None:
    """Open the (new) table together with the other process, then increment from threads."""
    try:
        start.wait(timeout=60)
        counters = SqliteTable(COUNTERS, path)
        with suppress(ConditionFailed):
            counters.put({"name": "hits", "n": 0}, condition=ItemNotExists())
        outcomes: list[str] = []

        def increment() -> None:
            try:
                for _ in range(times):
                    increment_once(counters, "hits")
                outcomes.append("done")
            except BaseException as exc:
                outcomes.append(repr(exc))

        workers = [threading.Thread(target=increment) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        counters.close()
        results.put(outcomes)
    except BaseException as exc:
        results.put([repr(exc)])


def test_concurrent_processes_never_lose_an_update(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(2), context.Queue()
    path = str(tmp_path / "fresh" / "counters.sqlite3")
    processes = [
        context.Process(target=_increment_in_process, args=(path, 2, 100, start, results))
        for _ in range(2)
    ]
    for process in processes:
        process.start()
    reports = [results.get(timeout=90) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    assert reports == [["done", "done"], ["done", "done"]]  # no TableUnavailable, no error
    with closing(SqliteTable(COUNTERS, path)) as counters:
        assert counters.get({"name": "hits"}) == {"name": "hits", "n": 2 * 2 * 100}


# --- query plans -------------------------------------------------------------------------

_STRING_SORTS = [
    None,
    *(KeyCompare(op, "m") for op in ("=", "<", "<=", ">", ">=")),  # type: ignore[arg-type]
    Between("c", "x"),
    BeginsWith("ab"),
    BeginsWith("\U0010ffff"),
]
_NUMBER_SORTS = [
    None,
    *(KeyCompare(op, 5) for op in ("=", "<", "<=", ">", ">=")),  # type: ignore[arg-type]
    Between(1, 9),
]


def _plans() -> Iterator[tuple[spec.Table, QueryPlan]]:
    by_status, by_email = TODOS.index("by-status"), PROFILES.index("by-email")
    shapes: list[tuple[spec.Table, spec.Index | None, str, list[Any], dict[str, Any]]] = [
        (TODOS, None, "ana", _STRING_SORTS, {"i": None, "k": {"user": "ana", "id": "m"}}),
        (
            TODOS,
            by_status,
            "open",
            _NUMBER_SORTS,
            {"i": "by-status", "k": {"user": "ana", "id": "m"}, "x": {"status": "open", "due": 5}},
        ),
        (PROFILES, None, "ana", [None], {"i": None, "k": {"id": "ana"}}),
        (
            PROFILES,
            by_email,
            "a@b.c",
            [None],
            {"i": "by-email", "k": {"id": "ana"}, "x": {"email": "a@b.c"}},
        ),
    ]
    for declaration, index, partition, sorts, position in shapes:
        for sort, descending, after in itertools.product(sorts, [False, True], [None, position]):
            yield declaration, QueryPlan(partition, sort, index, descending, 10, after)


def test_every_query_searches_a_primary_key_and_never_scans_or_sorts(tmp_path: Path) -> None:
    tables = {name: SqliteTable(d, tmp_path / f"{name}.sqlite3") for name, d in _named()}
    checked = 0
    for declaration, plan in _plans():
        details = tables[declaration.name].explain_query(plan)
        assert details, plan
        for detail in details:
            assert detail.startswith("SEARCH"), (plan, details)
            assert "USING PRIMARY KEY" in detail, (plan, details)
            assert "TEMP B-TREE" not in detail, (plan, details)
        checked += 1
    assert checked == 2 * 2 * (len(_STRING_SORTS) + len(_NUMBER_SORTS) + 2)
    for opened in tables.values():
        opened.close()


def _named() -> list[tuple[str, spec.Table]]:
    return [(TODOS.name, TODOS), (PROFILES.name, PROFILES)]


class _SlowStreamTable(SqliteTable):
    """Reads its stream slowly: a call still running when another thread closes it."""

    started = threading.Event()

    @_translated
    def _stream_records(self, after: int, limit: int) -> list[ChangeRecord]:
        self.started.set()
        time.sleep(0.3)
        return super()._stream_records(after, limit)


def test_closing_waits_for_a_call_running_on_another_thread(tmp_path: Path) -> None:
    # Closing a connection under a statement another thread is stepping crashes SQLite;
    # the stream dispatcher's reader thread may still be reading when the cloud stops.
    streamed = spec.Table("streamed", spec.Key("pk"), spec.Key("sk"), stream="NEW_IMAGE")
    table = _SlowStreamTable(streamed, tmp_path / "slow.sqlite3")
    table.put({"pk": "a", "sk": "1"})
    results: list[list[ChangeRecord]] = []
    reader = threading.Thread(target=lambda: results.append(table.stream_records(0, 10)))
    reader.start()
    assert _SlowStreamTable.started.wait(5)

    began = time.monotonic()
    table.close()

    assert time.monotonic() - began >= 0.2  # it waited for the reader
    reader.join(5)
    assert len(results) == 1
    assert len(results[0]) == 1
    with pytest.raises(TableUnavailable):
        table.stream_records(0, 10)
