"""A bounded cache with a TTL, least recently used entries evicted first, and its counters.

Not thread-safe: its owner holds a lock around every call (see ``cached``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

MISS = object()  # "not in the cache", as opposed to a cached None (a negative entry)


@dataclass(slots=True)
class CacheCounters:
    """What one cache did: reads it answered, reads it did not, reads that bypassed it,
    entries evicted by LRU, and entries dropped because they may have gone stale."""

    hits: int = 0
    misses: int = 0
    bypasses: int = 0
    evictions: int = 0
    invalidations: int = 0

    def snapshot(self, entries: int) -> dict[str, int]:
        return {**asdict(self), "entries": entries}


class LruCache:
    """Entries that live ``ttl`` seconds (0: until evicted), least recently used first,
    at most ``capacity`` of them. ``on_drop`` hears of every key that leaves."""

    def __init__(
        self,
        ttl: float,
        capacity: int,
        clock: Callable[[], float],
        on_drop: Callable[[Hashable], None] | None = None,
    ) -> None:
        self.counters = CacheCounters()
        self._ttl = ttl or float("inf")
        self._capacity = capacity
        self._clock = clock
        self._on_drop = on_drop
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> Any:
        """The cached value (a hit), or ``MISS``."""
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self._clock():
            if entry is not None:
                self._remove(key)  # expired
            self.counters.misses += 1
            return MISS
        self._entries.move_to_end(key)
        self.counters.hits += 1
        return entry[1]

    def put(self, key: Hashable, value: Any) -> None:
        self._entries[key] = (self._clock() + self._ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._capacity:
            oldest = next(iter(self._entries))
            self._remove(oldest)
            self.counters.evictions += 1

    def invalidate(self, keys: Iterable[Hashable]) -> None:
        for key in keys:
            if key in self._entries:
                self._remove(key)
                self.counters.invalidations += 1

    def clear(self) -> None:
        self.invalidate(list(self._entries))

    def _remove(self, key: Hashable) -> None:
        del self._entries[key]
        if self._on_drop is not None:
            self._on_drop(key)
