"""A DAX-style read cache in front of any table: ``CachedTable(table, settings, clock)``.

Declared per table (``spec.Table(read_cache=spec.ReadCache(...))``): on AWS a DAX
cluster and client; locally this decorator, in the function's own process. What it
mirrors from DAX (DynamoDB developer guide, "DAX and DynamoDB consistency models"):

- An **item cache** for ``get`` and ``batch_get``, by primary key ("BatchGetItem is
  essentially a wrapper around one or more GetItem requests"), and a **query cache**
  for ``query``, by the whole request: partition, sort condition, index, order,
  limit and cursor. The two are independent, as in DAX.
- Each has its TTL (DAX's default: 5 minutes each) and LRU eviction when full. DAX:
  with an item TTL of 0, "the item cache is refreshed only by LRU eviction or a
  write-through operation, and the query cache does not cache the response".
- **Negative caching**: "DAX caches an empty result": a missing item, and a query
  that found nothing, are cached like any other result.
- **Write-through**: a write goes to the table first; only when it succeeded does the
  item cache take the new item (a deleted one becomes a negative entry). "If a write
  to DynamoDB fails for any reason ... the item will not be cached."
- **Strongly consistent reads** (``consistent=True``) pass through: "DAX passes
  strongly consistent read requests to DynamoDB ... but it does not cache the results".
- DAX leaves the **query cache stale** after a write: "DAX does not invalidate Query or
  Scan result sets based upon updates to individual items".

Where Overcast does better, unless the declaration says ``dax_parity=True``:

- A write through the cache drops the cached queries it may change: those of the
  item's partition of the table, and of its partitions in each index (all of that
  index's cached queries when the write may have moved the item between partitions
  and the old one is unknown).
- Before each read the cache asks the table's ``data_version()``; when another
  connection (another worker process or thread) has committed since, everything
  cached is dropped.

So, locally (SQLite or the in-memory table), a read through the cache returns what
the table held when the read began: never anything older than the last write
committed, by any process, before it. With ``dax_parity`` the guarantees are DAX's:
items are fresh after writes (through this cache or, as through a DAX cluster's
shared item cache, another worker's); queries may be stale up to their TTL. On
DynamoDB (no ``data_version``) only the query invalidation on writes through the cache
remains of Overcast's improvements.

Every read returns fresh objects: cached results are kept serialised, so a caller
that changes what it got cannot change what the next caller gets.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any

import orjson

from overcast import spec
from overcast.ports.tables.base import (
    Condition,
    Item,
    Page,
    QueryPlan,
    ScanPlan,
    SortCondition,
    Table,
)
from overcast.ports.tables.lru import MISS, LruCache

_UNSEEN = object()

# Counters by table name, then cache ("item", "query"), then counter name.
StatsByTable = dict[str, dict[str, dict[str, int]]]


def merge_stats(snapshots: Iterable[StatsByTable]) -> StatsByTable:
    """Counters of several caches (processes) added up, table by table."""
    total: StatsByTable = {}
    for snapshot in snapshots:
        for table, caches in snapshot.items():
            for cache, counters in caches.items():
                summed = total.setdefault(table, {}).setdefault(cache, {})
                for name, value in counters.items():
                    summed[name] = summed.get(name, 0) + value
    return total


def freeze(value: Any) -> bytes | str:
    """``value`` serialised: orjson when it can (integers beyond 64 bits it cannot)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":"))


def thaw(frozen: bytes | str) -> Any:
    """A fresh copy of what :func:`freeze` kept."""
    return orjson.loads(frozen) if isinstance(frozen, bytes) else json.loads(frozen)


class CachedTable(Table):
    """``table`` behind an item cache and a query cache, as ``settings`` declares them.

    ``clock`` is monotonic seconds (injected for tests). See the module docstring for
    what is mirrored from DAX and what is guaranteed.
    """

    def __init__(
        self,
        table: Table,
        settings: spec.ReadCache,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(table.declaration)
        self._table = table
        self.evaluates_predicates = table.evaluates_predicates
        self._parity = settings.dax_parity
        self._query_ttl = settings.query_ttl_seconds
        self._items = LruCache(settings.item_ttl_seconds, settings.max_items, clock)
        self._queries = LruCache(
            settings.query_ttl_seconds, settings.max_queries, clock, self._forget_query
        )
        # Cached queries by (index name or None, partition value): what a write drops.
        self._by_partition: dict[tuple[str | None, Any], set[Hashable]] = {}
        self._lock = threading.Lock()
        # Bumped by every write-through and invalidation: a read that missed stores its
        # result only if nothing changed while it read the table.
        self._changes = 0
        self._seen_version: Any = _UNSEEN

    # --- reads ------------------------------------------------------------------

    def get(self, key: Mapping[str, Any], *, consistent: bool = False) -> Item | None:
        if consistent:
            self._bypassed(self._items)
            return self._table.get(key, consistent=True)
        return super().get(key)

    def batch_get(
        self, keys: Sequence[Mapping[str, Any]], *, consistent: bool = False
    ) -> list[Item | None]:
        if consistent:
            self._bypassed(self._items, len(keys))
            return self._table.batch_get(keys, consistent=True)
        return super().batch_get(keys)

    def query(
        self,
        partition_value: Any,
        sort: SortCondition | None = None,
        *,
        index: str | None = None,
        descending: bool = False,
        limit: int = 100,
        cursor: str | None = None,
        consistent: bool = False,
    ) -> Page:
        if consistent:
            self._bypassed(self._queries)
            return self._table.query(
                partition_value,
                sort,
                index=index,
                descending=descending,
                limit=limit,
                cursor=cursor,
                consistent=True,
            )
        return super().query(
            partition_value, sort, index=index, descending=descending, limit=limit, cursor=cursor
        )

    @property
    def table(self) -> Table:
        """The table behind the cache: what is written to it goes around the cache."""
        return self._table

    def stats(self) -> dict[str, dict[str, int]]:
        """Counters and sizes of the item cache and the query cache."""
        with self._lock:
            return {
                "item": self._items.counters.snapshot(len(self._items)),
                "query": self._queries.counters.snapshot(len(self._queries)),
            }

    def data_version(self) -> Hashable | None:
        return self._table.data_version()

    # --- primitives -----------------------------------------------------------

    def _get(self, key: dict[str, Any], *, consistent: bool = False) -> Item | None:
        self._drop_if_changed_elsewhere()
        slot = _slot(key)
        with self._lock:
            cached = self._items.get(slot)
            ticket = self._changes
        if cached is not MISS:
            return None if cached is None else thaw(cached)
        item = self._table._get(key)
        self._store(self._items, [(slot, None if item is None else freeze(item))], ticket)
        return item

    def _batch_get(
        self, keys: list[dict[str, Any]], *, consistent: bool = False
    ) -> list[Item | None]:
        self._drop_if_changed_elsewhere()
        with self._lock:
            cached = [self._items.get(_slot(key)) for key in keys]
            ticket = self._changes
        missing = [key for key, value in zip(keys, cached, strict=True) if value is MISS]
        fetched = iter(self._table._batch_get(missing) if missing else ())
        found: list[Item | None] = []
        stored: list[tuple[Hashable, Any]] = []
        for key, value in zip(keys, cached, strict=True):
            if value is MISS:
                item = next(fetched)
                stored.append((_slot(key), None if item is None else freeze(item)))
                found.append(item)
            else:
                found.append(None if value is None else thaw(value))
        self._store(self._items, stored, ticket)
        return found

    def _query(self, plan: QueryPlan) -> list[Item]:
        self._drop_if_changed_elsewhere()
        if not self._query_ttl:  # DAX: a query TTL of 0 caches no query
            with self._lock:
                self._queries.counters.misses += 1
            return self._table._query(plan)
        key = _query_key(plan)
        with self._lock:
            cached = self._queries.get(key)
            ticket = self._changes
        if cached is not MISS:
            items: list[Item] = thaw(cached)
            return items
        items = self._table._query(plan)
        self._store(self._queries, [(key, freeze(items))], ticket)
        return items

    def _scan(self, plan: ScanPlan) -> list[Item]:
        # Scans pass through: nothing in the port's callers repeats one.
        return self._table._scan(plan)

    def _put(self, item: Item, key: dict[str, Any], condition: Condition | None) -> None:
        self._drop_if_changed_elsewhere()
        self._table._put(item, key, condition)
        self._written(key, item, moved=True)

    def _update(
        self,
        key: dict[str, Any],
        changes: dict[str, Any],
        removals: tuple[str, ...],
        condition: Condition | None,
    ) -> Item:
        self._drop_if_changed_elsewhere()
        item = self._table._update(key, changes, removals, condition)
        touched = {*changes, *removals}
        moved = any(name in touched for name in _index_key_names(self.declaration))
        self._written(key, item, moved=moved)
        return item

    def _delete(self, key: dict[str, Any], condition: Condition | None) -> Item | None:
        self._drop_if_changed_elsewhere()
        old = self._table._delete(key, condition)
        self._written(key, None, moved=False, old=old)
        return old

    # --- bookkeeping ------------------------------------------------------------

    def _written(
        self, key: dict[str, Any], item: Item | None, *, moved: bool, old: Item | None = None
    ) -> None:
        """Write-through, after the table took the write; in DAX parity, nothing more."""
        frozen = None if item is None else freeze(item)
        with self._lock:
            self._changes += 1
            self._items.put(_slot(key), frozen)
            if not self._parity:
                self._queries.invalidate(self._affected_queries(key, item, old, moved))

    def _affected_queries(
        self, key: dict[str, Any], new: Item | None, old: Item | None, moved: bool
    ) -> list[Hashable]:
        """The cached queries whose results a write of ``key`` may have changed."""
        partitions: set[tuple[str | None, Any]] = {(None, key[self.declaration.partition_key.name])}
        known = [item for item in (new, old) if item is not None]
        for index in self.declaration.indexes:
            if moved and old is None:  # it may have left a partition we cannot name
                partitions |= {part for part in self._by_partition if part[0] == index.name}
            for item in known:
                if index.partition_key.name in item:
                    partitions.add((index.name, item[index.partition_key.name]))
        return [query for part in partitions for query in self._by_partition.get(part, ())]

    def _store(self, cache: LruCache, entries: list[tuple[Hashable, Any]], ticket: int) -> None:
        with self._lock:
            if self._changes != ticket:
                return  # written meanwhile: what was read may be older than the write
            for key, value in entries:
                cache.put(key, value)
                if cache is self._queries:
                    assert isinstance(key, tuple)
                    self._by_partition.setdefault(key[:2], set()).add(key)

    def _forget_query(self, key: Hashable) -> None:
        assert isinstance(key, tuple)
        keys = self._by_partition.get(key[:2])
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_partition[key[:2]]

    def _drop_if_changed_elsewhere(self) -> None:
        """Drop what another connection's commit may have changed since we last looked.

        With ``dax_parity`` only the items: a DAX cluster's item cache is one, shared by
        every client, so a write through any client updates it; the local workers each
        hold a cache of their own, and dropping their items on another's commit is the
        nearest equivalent. The query cache stays stale, as DAX's does.
        """
        version = self._table.data_version()
        if version is None or version == self._seen_version:
            return
        with self._lock:
            if version != self._seen_version:
                self._changes += 1
                self._items.clear()
                if not self._parity:
                    self._queries.clear()
                self._seen_version = version

    def _bypassed(self, cache: LruCache, reads: int = 1) -> None:
        with self._lock:
            cache.counters.bypasses += reads


def _slot(key: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(key.values())


def _query_key(plan: QueryPlan) -> tuple[Any, ...]:
    after = None if plan.after is None else orjson.dumps(plan.after, option=orjson.OPT_SORT_KEYS)
    index = plan.index.name if plan.index else None
    return (index, plan.partition_value, plan.sort, plan.descending, plan.limit, after)


def _index_key_names(declaration: spec.Table) -> set[str]:
    return {
        key.name
        for index in declaration.indexes
        for key in (index.partition_key, index.sort_key)
        if key is not None
    }
