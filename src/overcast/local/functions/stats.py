"""Read-cache counters from a service's execution environments, for ``overcast stats``.

A read cache lives in the function's own process, as the DAX client does, so each
execution environment (worker process) counts for itself. :class:`ReadCacheStats` asks
every running environment for its counters — a frame the worker answers between two
invocations, so it costs the hot path nothing — and adds them up per table. An
environment that is busy past ``timeout``, or has ended, counts with the figures it
last reported.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

import orjson

from overcast.local.functions.environment import (
    EnvironmentDied,
    ExecutionEnvironment,
    NotStarted,
)
from overcast.ports.tables.cached import StatsByTable, merge_stats

STATS_REQUEST = b'{"stats":true}'


class HasEnvironments(Protocol):
    def environments(self) -> list[ExecutionEnvironment]: ...


class ReadCacheStats:
    """Sums the read-cache counters of ``invoker``'s environments."""

    def __init__(self, invoker: HasEnvironments, *, timeout: float = 1.0) -> None:
        self._invoker = invoker
        self._timeout = timeout
        self._last: dict[ExecutionEnvironment, StatsByTable] = {}

    async def collect(self) -> StatsByTable:
        """Each table's item and query cache counters, over every environment."""
        environments = self._invoker.environments()
        replies = await asyncio.gather(*(self._ask(each) for each in environments))
        for environment, reply in zip(environments, replies, strict=True):
            if reply is not None:
                self._last[environment] = reply
        return merge_stats(self._last.values())

    async def _ask(self, environment: ExecutionEnvironment) -> StatsByTable | None:
        try:
            reply = await asyncio.wait_for(environment.invoke(STATS_REQUEST, 0), self._timeout)
            stats: StatsByTable = orjson.loads(reply)["stats"]
        except (TimeoutError, EnvironmentDied, NotStarted, orjson.JSONDecodeError, KeyError):
            return None  # busy, or ended: its last figures stand
        return stats
