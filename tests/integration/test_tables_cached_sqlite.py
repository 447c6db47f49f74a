"""The read cache over SQLite: writes from other connections and processes are seen at once
(``PRAGMA data_version``), unless the declaration asks for DAX parity."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from overcast import spec
from overcast.ports.tables.cached import CachedTable
from overcast.ports.tables.sqlite import SqliteTable

TODOS = spec.Table("todos", spec.Key("user"), spec.Key("id"))
ANA_T1 = {"user": "ana", "id": "t1"}

# What another worker process does: open the same file and write through its own cache.
OTHER_PROCESS = """
import sys
from overcast import spec
from overcast.ports.tables.cached import CachedTable
from overcast.ports.tables.sqlite import SqliteTable
table = SqliteTable(spec.Table("todos", spec.Key("user"), spec.Key("id")), sys.argv[1])
CachedTable(table, spec.ReadCache()).update({"user": "ana", "id": "t1"}, {"n": 2})
"""


def write_from_another_process(path: Path) -> None:
    subprocess.run([sys.executable, "-c", OTHER_PROCESS, str(path)], check=True, timeout=60)


def test_data_version_changes_when_another_connection_commits(tmp_path: Path) -> None:
    path = tmp_path / "todos.sqlite3"
    mine, theirs = SqliteTable(TODOS, path), SqliteTable(TODOS, path)
    before = mine.data_version()
    mine.put({**ANA_T1, "n": 1})
    assert mine.data_version() == before  # our own commits do not count
    theirs.put({**ANA_T1, "n": 2})
    assert mine.data_version() != before


def test_a_write_by_another_process_is_seen_at_once(tmp_path: Path) -> None:
    # Given a cached read of an item in this process
    path = tmp_path / "todos.sqlite3"
    table = SqliteTable(TODOS, path)
    cache = CachedTable(table, spec.ReadCache())
    cache.put({**ANA_T1, "n": 1})
    assert cache.get(ANA_T1) == {**ANA_T1, "n": 1}
    assert cache.query("ana").items == [{**ANA_T1, "n": 1}]
    # When another process changes it through its own cache
    write_from_another_process(path)
    # Then this process reads the new item, and the new query result, at once
    assert cache.get(ANA_T1) == {**ANA_T1, "n": 2}
    assert cache.query("ana").items == [{**ANA_T1, "n": 2}]
    assert cache.stats()["item"]["invalidations"] == 1


def test_in_dax_parity_another_process_item_write_is_seen_as_through_a_shared_cluster(
    tmp_path: Path,
) -> None:
    path = tmp_path / "todos.sqlite3"
    cache = CachedTable(SqliteTable(TODOS, path), spec.ReadCache(dax_parity=True))
    cache.put({**ANA_T1, "n": 1})
    write_from_another_process(path)
    assert cache.get(ANA_T1) == {**ANA_T1, "n": 2}


def test_a_write_from_another_thread_is_seen_by_this_one(tmp_path: Path) -> None:
    # Each thread has its own SQLite connection: the other's commit is another connection's.
    cache = CachedTable(SqliteTable(TODOS, tmp_path / "todos.sqlite3"), spec.ReadCache())
    cache.put({**ANA_T1, "n": 1})
    assert cache.get(ANA_T1) == {**ANA_T1, "n": 1}
    writer = threading.Thread(target=lambda: cache.table.update(ANA_T1, {"n": 2}))
    writer.start()
    writer.join()
    assert cache.get(ANA_T1) == {**ANA_T1, "n": 2}
