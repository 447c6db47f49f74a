"""TodoRepository on the in-memory table: ownership, newest-first pages, optimistic writes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from overcast.apps.todo.domain import (
    InvalidPageCursor,
    Todo,
    TodoCreate,
    TodoNotFound,
    TodoPatch,
    TodoReplace,
    VersionConflict,
)
from overcast.apps.todo.repository import TodoRepository
from overcast.apps.todo.service import todos_table
from overcast.ports.tables import Condition, Item
from overcast.ports.tables.memory import MemoryTable
from tests.todo_events import ManualClock, repository_on

ALICE, BOB = "alice-sub", "bob-sub"


class RacingTable(MemoryTable):
    """A table where a rival's write lands just before our next conditional put."""

    def __init__(self) -> None:
        super().__init__(todos_table)
        self.rival: Callable[[], None] | None = None

    def _put(self, item: Item, key: dict[str, Any], condition: Condition | None) -> None:
        rival, self.rival = self.rival, None
        if rival is not None:
            rival()
        super()._put(item, key, condition)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def repository(clock: ManualClock) -> TodoRepository:
    return repository_on(clock=clock)


def _add(repository: TodoRepository, owner: str = ALICE, **fields: Any) -> Todo:
    return repository.add(owner, TodoCreate.model_validate({"title": "To-do", **fields}))


def _patch(**fields: Any) -> TodoPatch:
    return TodoPatch.model_validate(fields)


def test_an_added_todo_reads_back_at_version_1(repository: TodoRepository) -> None:
    added = _add(repository, notes="n", due_date="2024-06-01", order=2)

    assert repository.get(ALICE, added.id) == added
    assert added.version == 1


def test_another_users_todo_is_not_found(repository: TodoRepository) -> None:
    added = _add(repository, ALICE)

    with pytest.raises(TodoNotFound):
        repository.get(BOB, added.id)


@pytest.mark.parametrize("todo_id", ["nope", "", "01ARYZ6S41TSV4RRFFQ69G5FAV", "../" * 10])
def test_unknown_and_malformed_ids_are_not_found(repository: TodoRepository, todo_id: str) -> None:
    with pytest.raises(TodoNotFound):
        repository.get(ALICE, todo_id)


def test_pages_are_newest_first_without_duplicates_or_gaps(
    repository: TodoRepository, clock: ManualClock
) -> None:
    added = []
    for number in range(7):
        added.append(_add(repository, title=f"#{number}"))
        if number % 2:
            clock.advance(milliseconds=1)  # some share a millisecond, some do not
    _add(repository, BOB)

    pages = _all_pages(lambda cursor: repository.list(ALICE, limit=3, cursor=cursor))

    assert [len(page) for page in pages] == [3, 3, 1]
    assert [todo.title for page in pages for todo in page] == [f"#{n}" for n in range(6, -1, -1)]


def test_todos_added_while_paging_do_not_shift_later_pages(repository: TodoRepository) -> None:
    first_five = [_add(repository, title=f"old {n}") for n in range(5)]
    page, cursor = repository.list(ALICE, limit=2)

    _add(repository, title="new")
    rest = _all_pages(lambda after: repository.list(ALICE, limit=2, cursor=after), cursor)

    seen = [todo.id for todo in page] + [todo.id for chunk in rest for todo in chunk]
    assert seen == [todo.id for todo in reversed(first_five)]


def test_the_completed_filter_reads_the_index_newest_first(repository: TodoRepository) -> None:
    done = [_add(repository, title=f"done {n}", completed=True) for n in range(3)]
    open_ = [_add(repository, title=f"open {n}") for n in range(2)]
    _add(repository, BOB, completed=True)

    finished = _all_pages(
        lambda cursor: repository.list(ALICE, completed=True, limit=2, cursor=cursor)
    )
    pending, _ = repository.list(ALICE, completed=False)

    assert [todo.id for page in finished for todo in page] == [t.id for t in reversed(done)]
    assert [todo.id for todo in pending] == [t.id for t in reversed(open_)]


def test_completing_a_todo_moves_it_between_filters(repository: TodoRepository) -> None:
    todo = _add(repository)

    repository.patch(ALICE, todo.id, _patch(completed=True))

    assert repository.list(ALICE, completed=False) == ([], None)
    assert [t.id for t in repository.list(ALICE, completed=True)[0]] == [todo.id]


def test_a_cursor_not_handed_out_is_refused(repository: TodoRepository) -> None:
    with pytest.raises(InvalidPageCursor):
        repository.list(ALICE, cursor="not-a-cursor")
    with pytest.raises(ValueError, match="limit"):
        repository.list(ALICE, limit=101)


def test_replace_sets_every_writable_field_and_bumps_the_version(
    repository: TodoRepository, clock: ManualClock
) -> None:
    todo = _add(repository, notes="old notes", order=1)
    clock.advance(seconds=30)

    replaced = repository.replace(
        ALICE, todo.id, TodoReplace.model_validate({"title": "New", "completed": True}), 1
    )

    assert (replaced.title, replaced.completed, replaced.notes, replaced.order) == (
        "New",
        True,
        None,
        None,
    )
    assert (replaced.version, replaced.created_at) == (2, todo.created_at)
    assert replaced.updated_at == "2024-05-01T12:00:30.000Z"
    assert repository.get(ALICE, todo.id) == replaced


def test_a_stale_expected_version_changes_nothing(repository: TodoRepository) -> None:
    todo = _add(repository)
    repository.patch(ALICE, todo.id, _patch(title="Second"))

    with pytest.raises(VersionConflict):
        repository.patch(ALICE, todo.id, _patch(title="Stale"), expected_version=1)

    assert repository.get(ALICE, todo.id).title == "Second"


def test_an_unconditional_write_racing_another_loses_no_update(clock: ManualClock) -> None:
    table = RacingTable()
    repository = repository_on(table, clock)
    todo = _add(repository)
    table.rival = lambda: repository.patch(ALICE, todo.id, _patch(notes="rival's notes"))

    patched = repository.patch(ALICE, todo.id, _patch(completed=True))

    assert (patched.notes, patched.completed, patched.version) == ("rival's notes", True, 3)
    assert repository.get(ALICE, todo.id) == patched


def test_a_conditional_write_racing_another_is_a_conflict(clock: ManualClock) -> None:
    table = RacingTable()
    repository = repository_on(table, clock)
    todo = _add(repository)
    table.rival = lambda: repository.patch(ALICE, todo.id, _patch(notes="rival's notes"))

    with pytest.raises(VersionConflict):
        repository.patch(ALICE, todo.id, _patch(completed=True), expected_version=1)

    assert repository.get(ALICE, todo.id).completed is False


def test_a_write_racing_a_delete_finds_nothing(clock: ManualClock) -> None:
    table = RacingTable()
    repository = repository_on(table, clock)
    todo = _add(repository)
    table.rival = lambda: repository.delete(ALICE, todo.id)

    with pytest.raises(TodoNotFound):
        repository.patch(ALICE, todo.id, _patch(completed=True))

    assert repository.list(ALICE) == ([], None)


def test_delete_honours_the_expected_version(repository: TodoRepository) -> None:
    todo = _add(repository)

    with pytest.raises(VersionConflict):
        repository.delete(ALICE, todo.id, expected_version=2)
    assert repository.get(ALICE, todo.id) == todo

    repository.delete(ALICE, todo.id, expected_version=1)
    with pytest.raises(TodoNotFound):
        repository.get(ALICE, todo.id)


def test_deleting_a_missing_or_someone_elses_todo_is_not_found(
    repository: TodoRepository,
) -> None:
    todo = _add(repository, ALICE)

    with pytest.raises(TodoNotFound):
        repository.delete(BOB, todo.id)
    with pytest.raises(TodoNotFound):
        repository.delete(BOB, todo.id, expected_version=1)
    with pytest.raises(TodoNotFound):
        repository.delete(ALICE, "01ARYZ6S41TSV4RRFFQ69G5FAV")

    assert repository.get(ALICE, todo.id) == todo


def test_items_are_keyed_under_and_record_their_owner(clock: ManualClock) -> None:
    table = MemoryTable(todos_table)
    todo = _add(repository_on(table, clock), ALICE)

    item = table.get({"pk": f"USER#{ALICE}", "sk": f"TODO#{todo.id}"})

    assert item is not None
    assert item["owner"] == ALICE


def _all_pages(
    fetch: Callable[[str | None], tuple[list[Todo], str | None]], cursor: str | None = None
) -> list[list[Todo]]:
    pages = []
    while True:
        page, cursor = fetch(cursor)
        pages.append(page)
        if cursor is None:
            return pages
