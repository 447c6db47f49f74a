"""Invocation deadlines cancel what outlives them, and only that."""

from __future__ import annotations

import asyncio

import pytest

from overcast.local.functions.deadlines import Deadlines

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_future_past_its_deadline_is_cancelled_within_a_tick() -> None:
    deadlines = Deadlines(tick=0.01)
    loop = asyncio.get_running_loop()
    slow = loop.create_future()
    started = loop.time()

    deadlines.watch(slow, 0.05)
    with pytest.raises(asyncio.CancelledError):
        await slow

    assert 0.05 <= loop.time() - started < 0.5


async def test_forgotten_or_later_futures_are_left_alone() -> None:
    deadlines = Deadlines(tick=0.01)
    loop = asyncio.get_running_loop()
    forgotten, later, expired = (loop.create_future() for _ in range(3))

    deadlines.watch(forgotten, 0.02)
    deadlines.watch(later, 60)
    deadlines.watch(expired, 0.02)
    deadlines.forget(forgotten)
    await asyncio.sleep(0.1)

    assert expired.cancelled()
    assert not forgotten.done()
    assert not later.done()
    deadlines.forget(later)


async def test_watching_again_after_everything_expired_restarts_the_timer() -> None:
    deadlines = Deadlines(tick=0.01)
    loop = asyncio.get_running_loop()
    first = loop.create_future()
    deadlines.watch(first, 0.01)
    await asyncio.sleep(0.05)

    second = loop.create_future()
    deadlines.watch(second, 0.01)
    await asyncio.sleep(0.05)

    assert first.cancelled()
    assert second.cancelled()
