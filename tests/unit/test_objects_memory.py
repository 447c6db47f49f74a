"""The in-memory object store passes the object store port's contract
(``tests/objects_contract.py``), and its listing never walks a rolled-up prefix."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from overcast.ports.objects import ObjectInfo, ObjectStore
from overcast.ports.objects.memory import MemoryObjectStore
from tests.objects_contract import *  # noqa: F403  (the contract's tests run here)
from tests.objects_contract import FakeClock


@pytest.fixture
def store(clock: FakeClock) -> ObjectStore:
    return MemoryObjectStore("bucket", clock=clock)


class CountingStore(MemoryObjectStore):
    """Counts the objects its listing scans, to show which keys a listing touches."""

    scanned = 0

    def _scan(
        self, lower: str, inclusive: bool, upper: str | None, count: int
    ) -> Sequence[ObjectInfo]:
        found = super()._scan(lower, inclusive, upper, count)
        self.scanned += len(found)
        return found


def test_a_listing_jumps_over_the_keys_of_a_common_prefix() -> None:
    store = CountingStore()
    for n in range(2000):
        store.put(f"logs/{n:05}", b"")
    store.put("readme", b"")
    page = store.list(delimiter="/")
    assert page.common_prefixes == ("logs/",)
    assert [info.key for info in page.objects] == ["readme"]
    assert store.scanned <= 3


def test_a_page_of_common_prefixes_reads_about_one_row_each() -> None:
    store = CountingStore()
    for folder in range(100):
        for n in range(30):
            store.put(f"{folder:03}/{n:02}", b"")
    page = store.list(delimiter="/")
    assert len(page.common_prefixes) == 100
    assert store.scanned <= 101


def test_a_long_run_of_keys_does_not_make_the_next_common_prefixes_costly() -> None:
    store = CountingStore()
    for n in range(64):
        store.put(f"a{n:03}", b"")
    for folder in range(20):
        for n in range(100):
            store.put(f"f{folder:02}/{n:03}", b"")
    page = store.list(delimiter="/")
    assert (len(page.objects), len(page.common_prefixes)) == (64, 20)
    assert store.scanned < 3 * (64 + 20)


def test_a_page_scans_no_more_than_one_object_past_its_limit() -> None:
    store = CountingStore()
    for n in range(500):
        store.put(f"{n:04}", b"")
    page = store.list(limit=10)
    assert page.next_marker == "0009"
    assert store.scanned == 11


def test_the_store_is_named() -> None:
    assert MemoryObjectStore("photos").name == "photos"
