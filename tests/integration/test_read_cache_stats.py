"""Read caches live in the functions' worker processes: the cloud gathers their counters."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from overcast import spec
from overcast.local.functions.invoker import FunctionInvoker
from overcast.local.functions.stats import ReadCacheStats

pytestmark = pytest.mark.anyio

READER = spec.Function("reader", "tests.fixtures.cache_handlers:cached_reads")
PLAIN = spec.Function("plain", "tests.fixtures.handlers:echo")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def invoker() -> AsyncIterator[FunctionInvoker]:
    running = FunctionInvoker("test", (READER, PLAIN), {}, region="us-east-1", account_id="1")
    yield running
    await running.close()


async def test_counters_are_summed_over_every_environment_even_ended_ones(
    invoker: FunctionInvoker,
) -> None:
    # Given invocations spread over both environments of the function (two at a time)
    stats = ReadCacheStats(invoker)
    for _ in range(3):
        await asyncio.gather(invoker.invoke(READER, {}), invoker.invoke(READER, {}))
    assert len(invoker.environments()) == 2

    # When the cloud asks them
    item = (await stats.collect())["things"]["item"]

    # Then every read is counted once: one miss per environment, hits for the rest
    assert item["hits"] + item["misses"] == 12
    assert item["misses"] == 2
    assert item["entries"] == 2

    # And an environment that ended still counts with its last figures
    invoker.environments()[0].kill()
    assert (await stats.collect())["things"]["item"]["hits"] == item["hits"]


async def test_a_function_without_read_caches_reports_none(invoker: FunctionInvoker) -> None:
    await invoker.invoke(PLAIN, {})
    assert await ReadCacheStats(invoker).collect() == {}
