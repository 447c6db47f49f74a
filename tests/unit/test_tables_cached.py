"""The read cache behaves as DAX does, and better where Overcast says so (injected clock)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from overcast import spec
from overcast.ports.tables import ConditionFailed, Item, ItemNotExists, KeyCompare
from overcast.ports.tables.base import QueryPlan
from overcast.ports.tables.cached import CachedTable
from overcast.ports.tables.memory import MemoryTable

TODOS = spec.Table(
    "todos",
    spec.Key("user"),
    spec.Key("id"),
    indexes=(spec.Index("by-status", spec.Key("status"), spec.Key("id")),),
)
ANA_T1 = {"user": "ana", "id": "t1"}


class Clock:
    """Monotonic seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class CountingTable(MemoryTable):
    """The in-memory table, counting the reads that reach it; ``during_read`` runs inside
    each read, after the table was read (as another thread could)."""

    def __init__(self, declaration: spec.Table, **options: Any) -> None:
        super().__init__(declaration, **options)
        self.reads = 0
        self.during_read: Callable[[], None] | None = None

    def _get(self, key: dict[str, Any], *, consistent: bool = False) -> Item | None:
        self.reads += 1
        item = super()._get(key, consistent=consistent)
        self._interleave()
        return item

    def _query(self, plan: QueryPlan) -> list[Item]:
        self.reads += 1
        items = super()._query(plan)
        self._interleave()
        return items

    def _interleave(self) -> None:
        during, self.during_read = self.during_read, None
        if during is not None:
            during()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def table() -> CountingTable:
    return CountingTable(TODOS)


def cached(table: MemoryTable, clock: Clock, **settings: Any) -> CachedTable:
    return CachedTable(table, spec.ReadCache(**settings), clock)


def todo(id: str, **attributes: Any) -> Item:
    return {"user": "ana", "id": id, **attributes}


# --- the item cache ----------------------------------------------------------------


def test_a_second_read_of_an_item_is_served_from_the_cache(
    table: CountingTable, clock: Clock
) -> None:
    table.put(todo("t1", title="Buy milk"))
    cache = cached(table, clock)
    assert cache.get(ANA_T1) == todo("t1", title="Buy milk")
    assert cache.get(ANA_T1) == todo("t1", title="Buy milk")
    assert table.reads == 1
    assert cache.stats()["item"] == {
        "hits": 1,
        "misses": 1,
        "bypasses": 0,
        "evictions": 0,
        "invalidations": 0,
        "entries": 1,
    }


def test_an_item_is_read_again_once_its_ttl_has_passed(table: CountingTable, clock: Clock) -> None:
    table.put(todo("t1"))
    cache = cached(table, clock, item_ttl_seconds=300, dax_parity=True)
    cache.get(ANA_T1)
    clock.advance(299)
    cache.get(ANA_T1)
    assert table.reads == 1
    clock.advance(1)
    cache.get(ANA_T1)
    assert table.reads == 2


def test_with_an_item_ttl_of_zero_items_never_expire(table: CountingTable, clock: Clock) -> None:
    table.put(todo("t1"))
    cache = cached(table, clock, item_ttl_seconds=0)
    cache.get(ANA_T1)
    clock.advance(10**9)
    cache.get(ANA_T1)
    assert table.reads == 1


def test_the_least_recently_used_item_is_evicted_when_the_cache_is_full(
    table: CountingTable, clock: Clock
) -> None:
    cache = cached(table, clock, max_items=2)
    cache.get(todo("a"))
    cache.get(todo("b"))
    cache.get(todo("a"))  # a is now more recent than b
    cache.get(todo("c"))  # evicts b
    assert table.reads == 3
    cache.get(todo("a"))
    assert table.reads == 3
    cache.get(todo("b"))
    assert table.reads == 4
    assert cache.stats()["item"]["evictions"] == 2  # b, then c to make room for b again


def test_a_missing_item_is_cached_as_missing(table: CountingTable, clock: Clock) -> None:
    # Given DAX parity, and an item that is not there
    cache = cached(table, clock, dax_parity=True)
    assert cache.get(ANA_T1) is None
    # When it is asked for again within the TTL, the table is not read again
    assert cache.get(ANA_T1) is None
    assert table.reads == 1
    # Then after the TTL it is
    clock.advance(300)
    assert cache.get(ANA_T1) is None
    assert table.reads == 2


def test_a_write_through_the_cache_updates_the_item_cache(
    table: CountingTable, clock: Clock
) -> None:
    cache = cached(table, clock, dax_parity=True)
    cache.put(todo("t1", n=1))
    assert cache.get(ANA_T1) == todo("t1", n=1)
    assert cache.update(ANA_T1, {"n": 2}) == todo("t1", n=2)
    assert cache.get(ANA_T1) == todo("t1", n=2)
    assert table.reads == 0
    assert table.get(ANA_T1) == todo("t1", n=2)  # it went to the table first


def test_a_delete_through_the_cache_caches_the_item_as_missing(
    table: CountingTable, clock: Clock
) -> None:
    cache = cached(table, clock)
    cache.put(todo("t1"))
    assert cache.delete(ANA_T1) == todo("t1")
    assert cache.get(ANA_T1) is None
    assert table.reads == 0


def test_a_failed_write_caches_nothing(table: CountingTable, clock: Clock) -> None:
    table.put(todo("t1", n=1))
    cache = cached(table, clock)
    cache.get(ANA_T1)
    with pytest.raises(ConditionFailed):
        cache.put(todo("t1", n=2), condition=ItemNotExists())
    assert cache.get(ANA_T1) == todo("t1", n=1)
    assert table.reads == 1


def test_consistent_reads_bypass_the_cache(table: CountingTable, clock: Clock) -> None:
    table.put(todo("t1"))
    cache = cached(table, clock)
    cache.get(ANA_T1, consistent=True)
    cache.get(ANA_T1, consistent=True)
    cache.query("ana", consistent=True)
    assert table.reads == 3
    cache.get(ANA_T1)  # the consistent reads cached nothing
    assert table.reads == 4
    stats = cache.stats()
    assert (stats["item"]["bypasses"], stats["query"]["bypasses"]) == (2, 1)


def test_batch_get_reads_only_what_the_cache_does_not_hold(
    table: CountingTable, clock: Clock
) -> None:
    table.put(todo("t1"))
    table.put(todo("t2"))
    cache = cached(table, clock)
    cache.get(ANA_T1)
    found = cache.batch_get([todo("t2"), ANA_T1, todo("t3")])
    assert found == [todo("t2"), todo("t1"), None]
    assert table.reads == 3  # t1 once, then t2 and t3
    assert cache.batch_get([todo("t3"), todo("t2")]) == [None, todo("t2")]
    assert table.reads == 3


# --- the query cache ---------------------------------------------------------------


def test_an_empty_query_result_is_cached(table: CountingTable, clock: Clock) -> None:
    cache = cached(table, clock, dax_parity=True)
    assert cache.query("ana").items == []
    table.another_connection().put(todo("t1"))
    assert cache.query("ana").items == []
    assert table.reads == 1
    clock.advance(300)
    assert cache.query("ana").items == [todo("t1")]


def test_queries_are_cached_by_the_whole_request(table: CountingTable, clock: Clock) -> None:
    for n in range(3):
        table.put(todo(f"t{n}"))
    cache = cached(table, clock)
    first = cache.query("ana", limit=2)
    assert cache.query("ana", limit=2) == first
    assert table.reads == 1
    cache.query("ana", limit=1)
    cache.query("ana", limit=2, descending=True)
    cache.query("ana", KeyCompare(">", "t0"), limit=2)
    cache.query("ana", limit=2, cursor=first.cursor)
    assert table.reads == 5
    assert ids(cache.query("ana", limit=2, cursor=first.cursor).items) == ["t2"]
    assert table.reads == 5


def test_dax_parity_leaves_a_query_stale_after_a_write_through_the_cache(
    table: CountingTable, clock: Clock
) -> None:
    # Given DAX's behaviour, and a cached query of ana's partition
    cache = cached(table, clock, dax_parity=True, query_ttl_seconds=60)
    cache.put(todo("t1"))
    assert ids(cache.query("ana").items) == ["t1"]
    # When a new to-do is written through the cache
    cache.put(todo("t2"))
    # Then the query still answers the old result (the item cache has the new item)
    assert ids(cache.query("ana").items) == ["t1"]
    assert cache.get(todo("t2")) == todo("t2")
    # And only after the query TTL does the query see it
    clock.advance(60)
    assert ids(cache.query("ana").items) == ["t1", "t2"]


def test_a_write_drops_only_the_cached_queries_of_its_partition(
    table: CountingTable, clock: Clock
) -> None:
    table.put({"user": "bob", "id": "b1"})
    cache = cached(table, clock)
    cache.query("ana")
    cache.query("bob")
    cache.put(todo("t1"))
    assert ids(cache.query("ana").items) == ["t1"]
    assert ids(cache.query("bob").items) == ["b1"]
    assert table.reads == 3  # ana twice, bob once
    assert cache.stats()["query"]["invalidations"] == 1


def test_an_update_that_moves_an_item_between_index_partitions_refreshes_both(
    table: CountingTable, clock: Clock
) -> None:
    table.put(todo("t1", status="open"))
    cache = cached(table, clock)
    assert ids(cache.query("open", index="by-status").items) == ["t1"]
    assert ids(cache.query("done", index="by-status").items) == []
    cache.update(ANA_T1, {"status": "done"})
    assert ids(cache.query("open", index="by-status").items) == []
    assert ids(cache.query("done", index="by-status").items) == ["t1"]


def test_an_update_that_keeps_the_index_key_refreshes_its_index_partition(
    table: CountingTable, clock: Clock
) -> None:
    table.put(todo("t1", status="open", title="old"))
    cache = cached(table, clock)
    cache.query("open", index="by-status")
    cache.update(ANA_T1, {"title": "new"})
    assert cache.query("open", index="by-status").items == [todo("t1", status="open", title="new")]


def test_with_a_query_ttl_of_zero_no_query_is_cached(table: CountingTable, clock: Clock) -> None:
    cache = cached(table, clock, query_ttl_seconds=0)
    cache.query("ana")
    cache.query("ana")
    assert table.reads == 2


# --- other processes, races, copies ---------------------------------------------------


def test_a_write_by_another_process_is_seen_at_once(table: CountingTable, clock: Clock) -> None:
    # Given two worker processes, each with its own cache of the same table
    other = table.another_connection()
    mine, theirs = cached(table, clock), cached(other, clock)
    mine.put(todo("t1", n=1))
    assert mine.get(ANA_T1) == todo("t1", n=1)
    assert ids(mine.query("ana").items) == ["t1"]
    # When the other process writes through its own cache
    theirs.update(ANA_T1, {"n": 2})
    theirs.put(todo("t2"))
    # Then this process's next reads see it, with no TTL to wait for
    assert mine.get(ANA_T1) == todo("t1", n=2)
    assert ids(mine.query("ana").items) == ["t1", "t2"]


def test_in_dax_parity_another_workers_write_updates_items_but_queries_stay_stale(
    table: CountingTable, clock: Clock
) -> None:
    # DAX: one item cache per cluster, shared by every client, updated by writes
    # through any of them; query results are not invalidated by item writes.
    mine = cached(table, clock, dax_parity=True)
    theirs = cached(table.another_connection(), clock, dax_parity=True)
    mine.put(todo("t1", n=1))
    assert mine.query("ana").items == [todo("t1", n=1)]
    theirs.update(ANA_T1, {"n": 2})
    assert mine.get(ANA_T1) == todo("t1", n=2)
    assert mine.query("ana").items == [todo("t1", n=1)]
    clock.advance(300)
    assert mine.query("ana").items == [todo("t1", n=2)]


def test_a_read_that_overlaps_a_write_keeps_nothing_older_than_the_write(
    table: CountingTable, clock: Clock
) -> None:
    # Given a read that misses, and reads the table just before a write lands
    table.put(todo("t1", n=1))
    cache = cached(table, clock, dax_parity=True)
    table.during_read = lambda: cache.update(ANA_T1, {"n": 2})
    assert cache.get(ANA_T1) == todo("t1", n=1)
    # Then what that read saw was not cached over the newer item
    assert cache.get(ANA_T1) == todo("t1", n=2)


def test_changing_what_a_read_returned_does_not_change_the_cache(
    table: CountingTable, clock: Clock
) -> None:
    table.put(todo("t1", tags=["a"]))
    cache = cached(table, clock)
    cache.get(ANA_T1)["tags"].append("b")
    cache.get(ANA_T1)["tags"].append("c")
    cache.query("ana").items[0]["tags"].append("d")
    cache.query("ana").items[0]["tags"].append("e")
    assert cache.get(ANA_T1) == todo("t1", tags=["a"])
    assert cache.query("ana").items == [todo("t1", tags=["a"])]


def test_numbers_too_big_for_64_bits_are_cached_exactly(table: CountingTable, clock: Clock) -> None:
    table.put(todo("t1", big=10**30, small=-(10**37)))
    cache = cached(table, clock)
    cache.get(ANA_T1)
    assert cache.get(ANA_T1) == todo("t1", big=10**30, small=-(10**37))


def test_the_memory_tables_data_version_changes_only_for_other_connections() -> None:
    mine = MemoryTable(TODOS)
    theirs = mine.another_connection()
    before = mine.data_version()
    mine.put(todo("t1"))
    assert mine.data_version() == before
    theirs.put(todo("t2"))
    assert mine.data_version() != before
    assert theirs.get(ANA_T1) == todo("t1")


def ids(items: list[Item]) -> list[str]:
    return [item["id"] for item in items]
