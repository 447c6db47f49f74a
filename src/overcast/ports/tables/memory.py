"""An in-memory table: the fake for unit tests, with the SQLite adapter's semantics.

Items are kept as their JSON text, exactly as the SQLite adapter stores them, so
every read returns a fresh copy and callers can never mutate what is stored. One
lock makes each operation atomic, conditional writes included.

:meth:`MemoryTable.another_connection` opens a second handle on the same items, as
another process would open the same SQLite file: :meth:`~MemoryTable.data_version`
changes when another handle commits a write, and not for this handle's own writes,
exactly as SQLite's ``PRAGMA data_version`` does.

A table that declares ``stream`` keeps its change records in the shared store,
appended under the same lock as the change (see :mod:`overcast.ports.tables.stream`).

Queries scan the whole table and sort; that is fine for a fake. Python compares
strings by code point, which is the UTF-8 byte order DynamoDB uses (UTF-8 keeps
code-point order, and the port refuses strings that are not valid Unicode).
"""

from __future__ import annotations

import operator
import threading
import time
from collections.abc import Callable
from typing import Any, Self, TypeAlias

from overcast import spec
from overcast.ports.tables.base import (
    BeginsWith,
    Between,
    Condition,
    Item,
    KeyValue,
    QueryPlan,
    ScanPlan,
    SortCondition,
    Table,
    check_condition,
    index_key,
    updated_item,
)
from overcast.ports.tables.stream import ChangeRecord, change_of, stream_label
from overcast.ports.tables.values import decode_item, encode_item

_Key: TypeAlias = tuple[KeyValue, KeyValue | None]
_Position: TypeAlias = tuple[Any, ...]

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class _Store:
    """The items every connection to one in-memory table shares, and its commit count."""

    def __init__(self, created_at: float) -> None:
        self.items: dict[_Key, str] = {}
        self.lock = threading.Lock()
        self.commits = 0
        self.changes: list[ChangeRecord] = []
        self.sequence = 0
        self.label = stream_label(created_at)


class MemoryTable(Table):
    """A thread-safe in-memory :class:`~overcast.ports.tables.Table` for tests."""

    def __init__(
        self,
        declaration: spec.Table,
        *,
        clock: Callable[[], float] = time.time,
        _store: _Store | None = None,
    ) -> None:
        super().__init__(declaration)
        self._clock = clock
        self._store = _store or _Store(clock())
        self._items = self._store.items
        self._lock = self._store.lock
        self._own_commits = 0

    def another_connection(self) -> Self:
        """A second handle on the same items, as another process's connection would be."""
        return type(self)(self.declaration, clock=self._clock, _store=self._store)

    def data_version(self) -> int:
        """Commits made through other handles: it changes only when someone else writes."""
        with self._lock:
            return self._store.commits - self._own_commits

    def stream_label(self) -> str:
        return self._store.label

    def trim_stream(self, before: float) -> int:
        with self._lock:
            kept = [record for record in self._store.changes if record.created_at >= before]
            trimmed = len(self._store.changes) - len(kept)
            self._store.changes = kept
            return trimmed

    def _stream_records(self, after: int, limit: int) -> list[ChangeRecord]:
        with self._lock:
            changes = self._store.changes
            return [record for record in changes if record.sequence > after][:limit]

    def _committed(self, key: dict[str, Any], old: Item | None, new: Item | None) -> None:
        # Called with the lock held, after a write changed the items.
        self._store.commits += 1
        self._own_commits += 1
        view = self.declaration.stream
        change = None if view is None else change_of(view, key, old, new)
        if change is not None:
            self._store.sequence += 1
            self._store.changes.append(ChangeRecord(self._store.sequence, self._clock(), change))

    def _get(self, key: dict[str, Any], *, consistent: bool = False) -> Item | None:
        with self._lock:
            return self._read(self._slot(key))

    def _put(self, item: Item, key: dict[str, Any], condition: Condition | None) -> None:
        text = encode_item(item)
        with self._lock:
            slot = self._slot(key)
            current = self._read(slot)
            check_condition(condition, current)
            self._items[slot] = text
            self._committed(key, current, decode_item(text))

    def _update(
        self,
        key: dict[str, Any],
        changes: dict[str, Any],
        removals: tuple[str, ...],
        condition: Condition | None,
    ) -> Item:
        with self._lock:
            slot = self._slot(key)
            current = self._read(slot)
            check_condition(condition, current)
            text = encode_item(updated_item(current, key, changes, removals))
            self._items[slot] = text
            self._committed(key, current, decode_item(text))
        return decode_item(text)

    def _delete(self, key: dict[str, Any], condition: Condition | None) -> Item | None:
        with self._lock:
            slot = self._slot(key)
            current = self._read(slot)
            check_condition(condition, current)
            if self._items.pop(slot, None) is not None:
                self._committed(key, current, None)
            return current

    def _query(self, plan: QueryPlan) -> list[Item]:
        with self._lock:
            stored = list(self._items.values())
        found: list[tuple[_Position, Item]] = []
        for text in stored:
            item = decode_item(text)
            position = self._position(item, plan.index, plan.partition_value)
            if position is not None and _matches(plan.sort, position[0]):
                found.append((position, item))
        found.sort(key=lambda entry: entry[0], reverse=plan.descending)
        if plan.after is not None:
            after = self._after(plan.after, plan.index)
            beyond = operator.lt if plan.descending else operator.gt
            found = [entry for entry in found if beyond(entry[0], after)]
        return [item for _, item in found[: plan.limit + 1]]

    def _scan(self, plan: ScanPlan) -> list[Item]:
        # The SQLite adapter's order: the primary key (a missing sort key sorts as "").
        with self._lock:
            slots = sorted((pk, _sortable(sk)) for pk, sk in self._items)
            if plan.after is not None:
                pk, sk = self._slot(plan.after)
                slots = [slot for slot in slots if slot > (pk, _sortable(sk))]
            chosen = slots[: plan.limit + 1]
            texts = [
                self._items[(pk, None if self.declaration.sort_key is None else sk)]
                for pk, sk in chosen
            ]
        return [decode_item(text) for text in texts]

    # --- positions ----------------------------------------------------------

    def _slot(self, key: dict[str, Any]) -> _Key:
        sort = self.declaration.sort_key
        return key[self.declaration.partition_key.name], key[sort.name] if sort else None

    def _read(self, slot: _Key) -> Item | None:
        text = self._items.get(slot)
        return None if text is None else decode_item(text)

    def _position(
        self, item: Item, index: spec.Index | None, partition: KeyValue
    ) -> _Position | None:
        """Where ``item`` sorts in the queried partition, or ``None`` if it is not in it.

        On the table the order is the sort key; on an index it is (index sort key,
        primary key), as in the SQLite adapter.
        """
        pk, sk = self._slot(item)
        if index is None:
            return (_sortable(sk),) if pk == partition else None
        place = index_key(item, index)
        if place is None or place[0] != partition:
            return None
        return _sortable(place[1]), pk, _sortable(sk)

    def _after(self, after: dict[str, Any], index: spec.Index | None) -> _Position:
        pk, sk = self._slot(after["k"])
        if index is None:
            return (_sortable(sk),)
        sort = index.sort_key
        return _sortable(after["x"][sort.name] if sort else None), pk, _sortable(sk)


def _sortable(value: KeyValue | None) -> KeyValue:
    # A missing sort key is one constant: it sorts nowhere, ties are broken by the pk.
    return "" if value is None else value


def _matches(sort: SortCondition | None, value: Any) -> bool:
    if sort is None:
        return True
    if isinstance(sort, BeginsWith):
        return isinstance(value, str) and value.startswith(sort.prefix)
    if isinstance(sort, Between):
        return bool(sort.low <= value <= sort.high)
    return _COMPARE[sort.op](value, sort.value)
