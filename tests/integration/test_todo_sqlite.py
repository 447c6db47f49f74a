"""The to-do API on SQLite, invoked through its Lambda handler and its cold start."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from overcast.apps.todo.domain import TodoCreate, TodoPatch, VersionConflict
from overcast.apps.todo.handler import handler
from overcast.apps.todo.service import todos_table
from overcast.ports.tables.sqlite import SqliteTable
from overcast.runtime import RuntimeConfig, using_environment
from overcast.runtime.adapters import table_path
from tests.todo_events import TodoApi, repository_on


def _function(data_dir: Path) -> TodoApi:
    """The handler as the local cloud runs it: in its own environment, on ``data_dir``."""
    environ = RuntimeConfig(service="todo", backend="local", data_dir=data_dir).to_environ()

    def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with using_environment(environ):
            return handler(event, context)

    return TodoApi(invoke)


@pytest.fixture
def api(tmp_path: Path) -> TodoApi:
    return _function(tmp_path)


def test_a_todo_is_stored_in_the_services_sqlite_file(api: TodoApi, tmp_path: Path) -> None:
    created = api.create(title="Stored", due_date="2024-06-01")

    response = api.item("GET", created["id"])

    assert (response.status, response.headers["ETag"], response.body) == (200, '"1"', created)
    config = RuntimeConfig(service="todo", backend="local", data_dir=tmp_path)
    assert Path(table_path(config, todos_table)).is_file()


def test_todos_outlive_the_execution_environment(tmp_path: Path) -> None:
    created = _function(tmp_path).create(title="Durable")

    again = _function(tmp_path)  # a new environment: a new cold start on the same file

    assert again.item("GET", created["id"]).body == created


def test_pages_and_the_completed_filter_on_sqlite(api: TodoApi) -> None:
    ids = [api.create(title=f"#{n}", completed=n % 2 == 0)["id"] for n in range(5)]

    pages = [api.list(limit="2")]
    while pages[-1].body["next_cursor"]:
        pages.append(api.list(limit="2", cursor=pages[-1].body["next_cursor"]))
    done = api.list(completed="true").body["items"]

    assert [len(page.body["items"]) for page in pages] == [2, 2, 1]
    assert [t["id"] for page in pages for t in page.body["items"]] == ids[::-1]
    assert [t["id"] for t in done] == [ids[4], ids[2], ids[0]]


def test_conditional_writes_and_isolation_on_sqlite(api: TodoApi) -> None:
    created = api.create(title="Mine")
    intruder = api.as_user("user-b")

    patched = api.item(
        "PATCH", created["id"], body={"completed": True}, headers={"If-Match": '"1"'}
    )
    late = {"title": "Late", "completed": False}
    stale = api.item("PUT", created["id"], body=late, headers={"If-Match": '"1"'})
    stolen = intruder.item("DELETE", created["id"])

    assert (patched.status, patched.headers["ETag"]) == (200, '"2"')
    assert (stale.status, stolen.status) == (412, 404)
    assert api.item("GET", created["id"]).body == patched.body
    assert api.item("DELETE", created["id"], headers={"If-Match": '"2"'}).status == 204
    assert api.item("GET", created["id"]).status == 404


def test_concurrent_writers_on_one_file_lose_no_update(tmp_path: Path) -> None:
    path = tmp_path / "todos.sqlite3"
    tables = [SqliteTable(todos_table, path) for _ in range(2)]  # two execution environments
    todo = repository_on(tables[0]).add("alice", TodoCreate(title="Busy"))
    last_written: dict[str, Any] = {}
    writes: list[str] = []

    def writer(table: SqliteTable, field: str, values: list[Any]) -> None:
        repository = repository_on(table)
        for value in values:
            try:
                repository.patch("alice", todo.id, TodoPatch.model_validate({field: value}))
            except VersionConflict:
                continue  # gave up after its retries; that is allowed, losing a write is not
            last_written[field] = value
            writes.append(field)

    threads = [
        threading.Thread(target=writer, args=(tables[0], "order", list(range(300)))),
        threading.Thread(target=writer, args=(tables[1], "notes", [f"n{i}" for i in range(300)])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    final = repository_on(tables[1]).get("alice", todo.id)
    for table in tables:
        table.close()
    assert final.version == 1 + len(writes)
    assert (final.order, final.notes) == (last_written.get("order"), last_written.get("notes"))
