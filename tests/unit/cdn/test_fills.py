"""Request collapsing: one origin fetch per key, shared by every viewer who asks meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from overcast.local.cdn.fills import Fill, FillAborted, FillRegistry, FillResult
from overcast.local.cdn.model import StreamBody

T = TypeVar("T")

CACHEABLE = FillResult(200, [("Content-Type", "text/plain")], 10, Path("/cache/body"))
NOT_CACHEABLE = FillResult(200, [], None, None)


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(scenario(), timeout=10)

    return asyncio.run(bounded())


class OriginDown(Exception):
    pass


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_a_hundred_concurrent_viewers_share_one_origin_fetch() -> None:
    async def scenario() -> tuple[int, int, list[FillResult]]:
        registry = FillRegistry()
        starts = 0
        release = asyncio.Event()

        async def start(fill: Fill) -> None:
            nonlocal starts
            starts += 1
            await release.wait()
            fill.ready(CACHEABLE)
            fill.finish()

        async def viewer() -> FillResult:
            fill, _ = registry.join_or_start("k", start)
            return await fill.wait_ready()

        viewers = [asyncio.create_task(viewer()) for _ in range(100)]
        await settle()
        in_flight = registry.in_flight
        release.set()
        return starts, in_flight, await asyncio.gather(*viewers)

    starts, in_flight, results = run(scenario)

    assert starts == 1
    assert in_flight == 1
    assert results == [CACHEABLE] * 100


def test_only_the_first_caller_is_told_it_started_the_fill() -> None:
    async def scenario() -> list[bool]:
        registry = FillRegistry()

        async def start(fill: Fill) -> None:
            fill.ready(CACHEABLE)
            fill.finish()

        started = [registry.join_or_start("k", start)[1] for _ in range(3)]
        await registry.close()
        return started

    assert run(scenario) == [True, False, False]


def test_a_viewer_arriving_after_the_fill_finished_starts_a_new_one() -> None:
    async def scenario() -> tuple[int, int, bool]:
        registry = FillRegistry()
        starts = 0

        async def start(fill: Fill) -> None:
            nonlocal starts
            starts += 1
            fill.ready(CACHEABLE)
            fill.finish()

        first, _ = registry.join_or_start("k", start)
        await first.wait_ready()
        await settle()
        in_flight_after = registry.in_flight
        second, started = registry.join_or_start("k", start)
        await second.wait_ready()
        return starts, in_flight_after, started and second is not first

    starts, in_flight_after, started_anew = run(scenario)

    assert in_flight_after == 0
    assert started_anew
    assert starts == 2


def test_different_keys_are_filled_separately() -> None:
    async def scenario() -> int:
        registry = FillRegistry()
        release = asyncio.Event()

        async def start(fill: Fill) -> None:
            await release.wait()
            fill.ready(CACHEABLE)
            fill.finish()

        registry.join_or_start("a", start)
        registry.join_or_start("b", start)
        in_flight = registry.in_flight
        release.set()
        await registry.close()
        return in_flight

    assert run(scenario) == 2


def test_the_viewer_who_started_the_fill_leaving_does_not_stop_it() -> None:
    async def scenario() -> tuple[bool, FillResult]:
        registry = FillRegistry()
        release = asyncio.Event()

        async def start(fill: Fill) -> None:
            await release.wait()
            fill.ready(CACHEABLE)
            fill.advance(10)
            fill.finish()

        async def viewer() -> FillResult:
            fill, _ = registry.join_or_start("k", start)
            return await fill.wait_ready()

        first = asyncio.create_task(viewer())
        await settle()
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        fill, started = registry.join_or_start("k", start)
        release.set()
        return started, await fill.wait_ready()

    started, result = run(scenario)

    assert not started  # the second viewer joined the fill the first one left
    assert result == CACHEABLE


def test_viewers_get_the_origin_failure_when_the_fill_fails_before_its_headers() -> None:
    async def scenario() -> tuple[list[BaseException | FillResult], int]:
        registry = FillRegistry()

        async def start(fill: Fill) -> None:
            await asyncio.sleep(0)
            raise OriginDown("connection refused")

        fills = [registry.join_or_start("k", start)[0] for _ in range(3)]
        results = await asyncio.gather(*(f.wait_ready() for f in fills), return_exceptions=True)
        return results, registry.in_flight

    results, in_flight = run(scenario)

    assert all(isinstance(r, OriginDown) for r in results)
    assert in_flight == 0


def test_a_failure_after_the_headers_reaches_readers_not_wait_ready() -> None:
    async def scenario() -> tuple[FillResult, BaseException | None, int]:
        fill = Fill("k")
        fill.ready(CACHEABLE)
        fill.advance(4)
        fill.fail(OriginDown("reset"))
        await fill.wait_beyond(4)  # returns: the fill failed
        return await fill.wait_ready(), fill.failed, fill.written

    result, failed, written = run(scenario)

    assert result == CACHEABLE
    assert isinstance(failed, OriginDown)
    assert written == 4


def test_wait_beyond_waits_until_more_than_the_offset_is_written() -> None:
    async def scenario() -> list[str]:
        fill = Fill("k", wake_bytes=1)
        fill.ready(CACHEABLE)
        events: list[str] = []

        async def reader() -> None:
            await fill.wait_beyond(3)
            events.append(f"woke at {fill.written}")

        task = asyncio.create_task(reader())
        fill.advance(3)
        await settle()
        events.append("3 written")
        fill.advance(1)
        await task
        return events

    assert run(scenario) == ["3 written", "woke at 4"]


def test_wait_beyond_returns_when_the_fill_completes_short_of_the_offset() -> None:
    async def scenario() -> tuple[bool, int]:
        fill = Fill("k")
        fill.ready(CACHEABLE)
        fill.advance(2)
        waiter = asyncio.create_task(fill.wait_beyond(100))
        await settle()
        fill.finish()
        await waiter
        return fill.complete, fill.written

    assert run(scenario) == (True, 2)


def test_small_writes_wake_readers_in_batches_yet_within_the_delay() -> None:
    async def scenario() -> tuple[int, int, float]:
        fill = Fill("k", wake_bytes=1000, wake_delay=0.02)
        fill.ready(CACHEABLE)
        wakeups = 0

        async def reader() -> None:
            nonlocal wakeups
            position = 0
            while position < 3000:
                await fill.wait_beyond(position)
                wakeups += 1
                position = fill.written

        task = asyncio.create_task(reader())
        for _ in range(300):  # 3000 bytes, 10 at a time
            fill.advance(10)
            await asyncio.sleep(0)
        loop = asyncio.get_running_loop()
        began = loop.time()
        trickle = asyncio.create_task(fill.wait_beyond(3000))
        fill.advance(1)  # below wake_bytes: delivered by the timer
        await trickle
        waited = loop.time() - began
        await task
        return wakeups, fill.written, waited

    wakeups, written, waited = run(scenario)

    assert wakeups <= 4  # not one per 10-byte write
    assert written == 3001
    assert 0.01 <= waited < 1.0


def test_ready_twice_is_a_bug() -> None:
    async def scenario() -> None:
        fill = Fill("k")
        fill.ready(CACHEABLE)
        fill.ready(CACHEABLE)

    with pytest.raises(RuntimeError, match="already ready"):
        run(scenario)


def test_a_start_that_returns_without_finishing_its_body_fails_the_readers() -> None:
    async def scenario() -> BaseException | None:
        registry = FillRegistry()

        async def start(fill: Fill) -> None:
            fill.ready(CACHEABLE)
            fill.advance(3)

        fill, _ = registry.join_or_start("k", start)
        await fill.wait_ready()
        await fill.wait_beyond(3)
        return fill.failed

    assert isinstance(run(scenario), FillAborted)


def test_a_start_that_returns_without_headers_fails_wait_ready() -> None:
    async def scenario() -> FillResult:
        registry = FillRegistry()

        async def start(fill: Fill) -> None:
            return None

        fill, _ = registry.join_or_start("k", start)
        return await fill.wait_ready()

    with pytest.raises(FillAborted, match="before its body was complete"):
        run(scenario)


def test_a_response_that_is_not_cacheable_ends_the_fill_when_start_returns() -> None:
    async def scenario() -> tuple[FillResult, bool, int]:
        registry = FillRegistry()

        async def start(fill: Fill) -> None:
            fill.ready(NOT_CACHEABLE)

        fill, _ = registry.join_or_start("k", start)
        result = await fill.wait_ready()
        await settle()
        return result, fill.complete, registry.in_flight

    assert run(scenario) == (NOT_CACHEABLE, True, 0)


def test_closing_the_registry_cancels_running_fills_and_fails_their_readers() -> None:
    async def scenario() -> tuple[BaseException | None, int]:
        registry = FillRegistry()

        async def start(fill: Fill) -> None:
            fill.ready(CACHEABLE)
            await asyncio.Event().wait()  # an origin that never sends its body

        fill, _ = registry.join_or_start("k", start)
        await fill.wait_ready()
        await registry.close()
        await fill.wait_beyond(0)
        return fill.failed, registry.in_flight

    failed, in_flight = run(scenario)

    assert isinstance(failed, FillAborted)
    assert in_flight == 0


class Stream:
    """An origin stream handed off by a fill: records whether it was closed."""

    def __init__(self) -> None:
        self.closed = False

    def __aiter__(self) -> Stream:
        return self

    async def __anext__(self) -> bytes:
        raise StopAsyncIteration

    async def aclose(self) -> None:
        self.closed = True


def handing_off(stream: Stream) -> Callable[[Fill], Awaitable[None]]:
    async def start(fill: Fill) -> None:
        fill.ready(FillResult(200, [], None, None, StreamBody(stream)))

    return start


def test_a_handoff_its_starter_left_before_it_was_ready_is_closed() -> None:
    async def scenario() -> bool:
        stream, gate = Stream(), asyncio.Event()
        registry = FillRegistry()

        async def start(fill: Fill) -> None:
            await gate.wait()
            await handing_off(stream)(fill)

        fill, _ = registry.join_or_start("k", start)
        fill.abandon_handoff()  # the viewer who started it hung up
        gate.set()
        await settle()
        return stream.closed

    assert run(scenario) is True


def test_a_handoff_ready_as_its_starter_is_cancelled_is_closed() -> None:
    async def scenario() -> tuple[bool, StreamBody | None]:
        stream = Stream()
        registry = FillRegistry()
        fill, _ = registry.join_or_start("k", handing_off(stream))
        await settle()  # ready, but the starter has not taken it yet
        fill.abandon_handoff()
        await settle()
        return stream.closed, fill.claim_handoff()

    assert run(scenario) == (True, None)


def test_a_claimed_handoff_is_left_open_for_its_viewer() -> None:
    async def scenario() -> tuple[bool, bool, int]:
        stream = Stream()
        registry = FillRegistry()
        fill, _ = registry.join_or_start("k", handing_off(stream))
        await fill.wait_ready()
        claimed = fill.claim_handoff()
        fill.abandon_handoff()  # too late: it is the viewer's now
        await settle()
        return claimed is not None and claimed.chunks is stream, stream.closed, registry.in_flight

    assert run(scenario) == (True, False, 0)


def test_closing_the_registry_closes_an_unclaimed_handoff() -> None:
    async def scenario() -> bool:
        stream = Stream()
        registry = FillRegistry()
        registry.join_or_start("k", handing_off(stream))
        await settle()
        await registry.close()
        return stream.closed

    assert run(scenario) is True
