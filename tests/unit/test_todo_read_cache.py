"""The to-do API behind the table's read cache, in two execution environments at once: a
user reads their own writes whichever environment answers, and writes are never based on
a cached, older version."""

from __future__ import annotations

from typing import Any

from overcast import spec
from overcast.apps.todo.handler import create_app
from overcast.apps.todo.service import todos_table
from overcast.ports.tables.cached import CachedTable
from overcast.ports.tables.memory import MemoryTable
from tests.todo_events import ManualClock, TodoApi, memory_folders, repository_on


class Seconds:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def two_environments(**read_cache: Any) -> tuple[TodoApi, TodoApi]:
    """The app twice, as two worker processes: each its own connection and read cache."""
    clock = ManualClock()
    first = MemoryTable(todos_table)
    apis = []
    for table in (first, first.another_connection()):
        cached = CachedTable(table, spec.ReadCache(**read_cache), Seconds())
        apis.append(TodoApi(create_app(repository_on(cached, clock), memory_folders()).resolve))
    return apis[0], apis[1]


def test_a_user_reads_their_writes_whichever_environment_answers() -> None:
    # Given a to-do both environments have read (and cached)
    one, other = two_environments()
    created = one.create(title="Buy milk")
    for api in (one, other):
        assert api.item("GET", created["id"]).body["title"] == "Buy milk"
        assert [todo["title"] for todo in api.list().body["items"]] == ["Buy milk"]
    # When the user changes it through one environment
    changed = one.item("PATCH", created["id"], body={"title": "Buy oat milk", "completed": True})
    assert changed.status == 200
    # Then the other environment's next reads show it, item, list and index query alike
    assert other.item("GET", created["id"]).body["title"] == "Buy oat milk"
    assert [todo["title"] for todo in other.list().body["items"]] == ["Buy oat milk"]
    assert [todo["id"] for todo in other.list(completed="true").body["items"]] == [created["id"]]
    assert other.list(completed="false").body["items"] == []


def test_writes_are_based_on_the_latest_version_across_environments_in_dax_parity() -> None:
    # Given DAX parity, and one environment that read version 1 before the other's write
    one, other = two_environments(dax_parity=True)
    created = one.create(title="Buy milk")
    assert other.item("GET", created["id"]).body["version"] == 1
    assert one.item("PATCH", created["id"], body={"title": "Buy oat milk"}).status == 200
    # When that environment writes without If-Match
    patched = other.item("PATCH", created["id"], body={"completed": True})
    # Then the write read the table itself: it builds on version 2, and keeps its title
    assert patched.status == 200, patched.body
    assert (patched.body["version"], patched.body["title"]) == (3, "Buy oat milk")
