"""Users' to-dos in a table: the only module that knows how a to-do is stored.

Item shape (see ``service.py``)::

    pk               "USER#<owner>"        a user's to-dos are one partition
    sk               "TODO#<id>"           ULIDs: sort-key order is creation order
    owner_completed  "<owner>#true|false"  partition key of the ``by-completed`` index
    id               "<id>"                its sort key
    owner, title, notes?, completed, due_date?, order?, created_at, updated_at, version

Optional fields without a value are left out of the item rather than stored as null.

Every read and write names the owner in the key, so one user can never reach another
user's to-do: it is simply not found. Writes are optimistic: each one is conditional
on the version it read (DynamoDB's ``ConditionExpression: version = :read``), so two
concurrent writers cannot lose each other's update. With an ``expected_version`` (the
caller's ``If-Match``) a changed to-do is a :class:`VersionConflict`; without one the
write is retried on the fresh version. The version a write is based on is read
consistently (``ConsistentRead``), past the table's read cache: a cached, older copy
would only make every retry fail.

Lists are newest first: a descending query of the user's partition (or of their
``by-completed`` partition). The page cursor is the id of the page's last to-do; the
next page is the to-dos older than it (``sk < TODO#<id>``), so pages have no
duplicates and no gaps even when to-dos are added between requests. The cursor is our
own (not the table's), so a forged one can only page through the caller's own list.

On DynamoDB, queries (and a global secondary index always) are eventually consistent:
a list read right after a write may not show it yet. The local tables show it at once.
"""

from __future__ import annotations

import builtins
from typing import Any

from overcast.apps.todo.domain import (
    Clock,
    IdFactory,
    InvalidPageCursor,
    Todo,
    TodoCreate,
    TodoNotFound,
    TodoPatch,
    TodoReplace,
    VersionConflict,
    is_todo_id,
)
from overcast.apps.todo.service import COMPLETED_INDEX
from overcast.ports.tables import (
    AttributeEquals,
    BeginsWith,
    ConditionFailed,
    Item,
    ItemNotExists,
    KeyCompare,
    SortCondition,
    Table,
)

MAX_PAGE_SIZE = 100
# Unconditional writes retry on a fresh read this many times before giving up.
MAX_WRITE_ATTEMPTS = 5
_TODO_FIELDS = frozenset(Todo.model_fields)


class TodoRepository:
    """Add, read, list, change and delete a user's to-dos in ``table``."""

    def __init__(self, table: Table, clock: Clock, new_id: IdFactory) -> None:
        self._table = table
        self._clock = clock
        self._new_id = new_id

    def add(self, owner: str, fields: TodoCreate) -> Todo:
        """Create a to-do with a fresh id, at version 1."""
        todo = Todo.create(self._new_id(), fields, self._clock())
        self._table.put(_item(owner, todo), condition=ItemNotExists())
        return todo

    def get(self, owner: str, todo_id: str, *, consistent: bool = False) -> Todo:
        """The owner's to-do; :class:`TodoNotFound` if they have none with this id.

        ``consistent`` reads the table itself, never a cache: what a write is based on.
        """
        key = _key(owner, todo_id)
        item = self._table.get(key, consistent=consistent) if is_todo_id(todo_id) else None
        if item is None:
            raise TodoNotFound(todo_id)
        return _todo(item)

    def list(
        self,
        owner: str,
        *,
        completed: bool | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> tuple[builtins.list[Todo], str | None]:
        """One page of the owner's to-dos, newest first, and the next page's cursor."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be 1-{MAX_PAGE_SIZE}, not {limit}.")
        if cursor is not None and not is_todo_id(cursor):
            raise InvalidPageCursor("The cursor is not one this API handed out.")
        if completed is None:
            partition, index = _partition(owner), None
            sort: SortCondition | None = KeyCompare("<", _sort_key(cursor)) if cursor else _ANY
        else:
            partition, index = _completed_partition(owner, completed), COMPLETED_INDEX
            sort = KeyCompare("<", cursor) if cursor else None
        page = self._table.query(partition, sort, index=index, descending=True, limit=limit)
        todos = [_todo(item) for item in page.items]
        return todos, (todos[-1].id if page.cursor is not None and todos else None)

    def replace(
        self, owner: str, todo_id: str, changes: TodoReplace, expected_version: int | None = None
    ) -> Todo:
        """Replace the writable fields; bump the version."""
        return self._revise(owner, todo_id, changes.changes(), expected_version)

    def patch(
        self, owner: str, todo_id: str, changes: TodoPatch, expected_version: int | None = None
    ) -> Todo:
        """Change the given fields; bump the version."""
        return self._revise(owner, todo_id, changes.changes(), expected_version)

    def delete(self, owner: str, todo_id: str, expected_version: int | None = None) -> None:
        """Delete the owner's to-do (if it is at ``expected_version``, when given)."""
        if not is_todo_id(todo_id):
            raise TodoNotFound(todo_id)
        key = _key(owner, todo_id)
        try:
            deleted = self._table.delete(key, condition=_at_version(expected_version))
        except ConditionFailed:
            if self._table.get(key, consistent=True) is None:
                raise TodoNotFound(todo_id) from None
            raise VersionConflict(todo_id) from None
        if deleted is None:
            raise TodoNotFound(todo_id)

    def _revise(
        self, owner: str, todo_id: str, changes: dict[str, Any], expected_version: int | None
    ) -> Todo:
        for _ in range(MAX_WRITE_ATTEMPTS):
            current = self.get(owner, todo_id, consistent=True)
            if expected_version is not None and current.version != expected_version:
                raise VersionConflict(todo_id)
            revised = current.revised(changes, self._clock())
            try:
                self._table.put(
                    _item(owner, revised), condition=AttributeEquals("version", current.version)
                )
            except ConditionFailed:
                continue  # changed or deleted since we read it: read again
            return revised
        raise VersionConflict(f"{todo_id}: too many concurrent writers; try again.")


_ANY = BeginsWith("TODO#")


def _at_version(version: int | None) -> AttributeEquals | None:
    return None if version is None else AttributeEquals("version", version)


def _partition(owner: str) -> str:
    return f"USER#{owner}"


def _sort_key(todo_id: str) -> str:
    return f"TODO#{todo_id}"


def _completed_partition(owner: str, completed: bool) -> str:
    return f"{owner}#{'true' if completed else 'false'}"


def _key(owner: str, todo_id: str) -> dict[str, str]:
    return {"pk": _partition(owner), "sk": _sort_key(todo_id)}


def _item(owner: str, todo: Todo) -> Item:
    fields = todo.model_dump(mode="json", exclude_none=True)
    return {
        **_key(owner, todo.id),
        "owner_completed": _completed_partition(owner, todo.completed),
        "owner": owner,
        **fields,
    }


def _todo(item: Item) -> Todo:
    return Todo.model_validate({name: item[name] for name in _TODO_FIELDS if name in item})
