"""The handler pool runs calls on its worker threads and settles their futures."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator

import pytest

from overcast.local.functions.pool import HandlerPool

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_each_worker_enters_its_context_once_for_all_its_calls() -> None:
    entered: list[str] = []

    @contextlib.contextmanager
    def worker_context() -> Iterator[None]:
        entered.append(threading.current_thread().name)
        yield

    pool = HandlerPool(1, "probe", worker_context=worker_context)
    try:
        names = [await pool.submit(lambda: threading.current_thread().name) for _ in range(5)]
    finally:
        pool.close()

    assert entered == ["probe-1"]
    assert set(names) == {"probe-1"}


async def test_exceptions_reach_the_awaiting_caller() -> None:
    def broken() -> None:
        raise KeyError("missing")

    pool = HandlerPool(1, "probe")
    try:
        with pytest.raises(KeyError, match="missing"):
            await pool.submit(broken)
    finally:
        pool.close()


async def test_abandoned_call_keeps_its_thread_and_a_fresh_one_serves_the_rest() -> None:
    pool = HandlerPool(1, "probe")
    try:
        stuck = pool.submit(time.sleep, 0.3)
        await asyncio.sleep(0.05)  # the worker is now inside the call
        stuck.cancel()
        pool.abandon(stuck)

        started = time.monotonic()
        name = await pool.submit(lambda: threading.current_thread().name)
    finally:
        pool.close()

    assert name == "probe-2"
    assert time.monotonic() - started < 0.2


async def test_closed_pool_refuses_new_calls() -> None:
    pool = HandlerPool(1, "probe")
    pool.close()

    with pytest.raises(RuntimeError, match="closed"):
        pool.submit(time.sleep, 0)
