"""Lambda's asynchronous invocations on the local cloud: a durable queue (SQLite) whose
events run on real execution environments, survive a stop, are retried twice and are
discarded when they fail for good or age out."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from overcast import spec
from overcast.local.functions.invoker import FunctionInvoker
from overcast.local.lambda_api.directory import FunctionDirectory, LocalFunction, Target
from overcast.local.lambda_api.event_queue import AsyncEventQueue
from overcast.local.lambda_api.event_store import AsyncEventStore, QueuedEvent, events_path
from overcast.local.lambda_api.invocation import Invocation, run_target
from tests.fixtures.aws_services import ACCOUNT

REGION = "eu-west-1"
HANDLERS = "tests.fixtures.lambda_handlers"
record = spec.Function("record", f"{HANDLERS}:record")
flaky = spec.Function("flaky", f"{HANDLERS}:record_then_fail")
FUNCTIONS = (record, flaky)
QUEUE_LOG = "overcast.local.lambda_api.event_queue"


class Clock:
    """A settable clock (epoch seconds)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def invoker() -> FunctionInvoker:
    return FunctionInvoker("shop", FUNCTIONS, {}, region=REGION, account_id=ACCOUNT)


@pytest.fixture
def directory(invoker: FunctionInvoker) -> FunctionDirectory:
    functions = [LocalFunction("shop", function, invoker) for function in FUNCTIONS]
    return FunctionDirectory(functions, region=REGION, account_id=ACCOUNT)


def _queue(
    data_dir: Path, directory: FunctionDirectory, clock: Callable[[], float] = time.time
) -> AsyncEventQueue:
    store = AsyncEventStore(events_path(data_dir))
    return AsyncEventQueue(store, directory, retry_delays=(0.05, 0.05), clock=clock)


def _pending(data_dir: Path) -> list[QueuedEvent]:
    store = AsyncEventStore(events_path(data_dir))
    try:
        return store.pending()
    finally:
        store.close()


async def _until(done: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _run(scenario: Callable[[], Awaitable[None]], invoker: FunctionInvoker) -> None:
    """Run ``scenario`` on one event loop with the invoker (closed on that loop)."""

    async def main() -> None:
        try:
            await scenario()
        finally:
            await invoker.close()

    asyncio.run(main())


def test_an_event_accepted_before_a_stop_runs_after_the_next_start(
    tmp_path: Path, directory: FunctionDirectory, invoker: FunctionInvoker
) -> None:
    trace = tmp_path / "trace.txt"

    async def scenario() -> None:
        stopped = _queue(tmp_path, directory)
        await stopped.accept(directory.resolve("shop-record"), {"path": str(trace)}, "event-1")
        await stopped.close()  # before the dispatcher ever ran it
        assert not trace.exists()
        assert [each.id for each in _pending(tmp_path)] == ["event-1"]

        restarted = _queue(tmp_path, directory)
        restarted.start()
        await _until(lambda: trace.exists() and not _pending(tmp_path))
        await restarted.close()

    _run(scenario, invoker)

    assert _lines(trace) == ["ran"]
    assert _pending(tmp_path) == []


def test_a_failing_event_is_retried_twice_then_discarded_with_a_warning(
    tmp_path: Path,
    directory: FunctionDirectory,
    invoker: FunctionInvoker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    trace = tmp_path / "trace.txt"
    caplog.set_level(logging.WARNING, logger=QUEUE_LOG)

    async def scenario() -> None:
        queue = _queue(tmp_path, directory)
        queue.start()
        await queue.accept(directory.resolve("shop-flaky"), {"path": str(trace)}, "event-2")
        await _until(lambda: not _pending(tmp_path))
        await asyncio.sleep(0.3)  # time enough for a fourth attempt, were there one
        await queue.close()

    _run(scenario, invoker)

    assert _lines(trace) == ["ran"] * 3
    assert _pending(tmp_path) == []
    discarded = [r.getMessage() for r in caplog.records if "discarded" in r.getMessage()]
    assert len(discarded) == 1
    assert "event-2" in discarded[0]
    assert "shop-flaky" in discarded[0]
    assert "failed 3 times" in discarded[0]


def test_an_event_older_than_the_maximum_age_is_discarded_unrun(
    tmp_path: Path,
    directory: FunctionDirectory,
    invoker: FunctionInvoker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    trace = tmp_path / "trace.txt"
    clock = Clock()
    caplog.set_level(logging.WARNING, logger=QUEUE_LOG)

    async def scenario() -> None:
        stopped = _queue(tmp_path, directory, clock)
        await stopped.accept(directory.resolve("shop-record"), {"path": str(trace)}, "event-3")
        await stopped.close()
        clock.now += 21601  # the cloud was down for over 6 hours (MaximumEventAgeInSeconds)

        restarted = _queue(tmp_path, directory, clock)
        restarted.start()
        await _until(lambda: not _pending(tmp_path))
        await restarted.close()

    _run(scenario, invoker)

    assert _pending(tmp_path) == []
    assert not trace.exists()
    assert any(
        "event-3" in r.getMessage() and "maximum age" in r.getMessage() for r in caplog.records
    )


def test_an_event_for_a_function_no_longer_declared_is_discarded(
    tmp_path: Path,
    directory: FunctionDirectory,
    invoker: FunctionInvoker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=QUEUE_LOG)
    store = AsyncEventStore(events_path(tmp_path))
    store.add(QueuedEvent("event-4", "shop-gone", None, "{}", time.time()))
    store.close()

    async def scenario() -> None:
        queue = _queue(tmp_path, directory)
        queue.start()
        await _until(lambda: not _pending(tmp_path))
        await queue.close()

    _run(scenario, invoker)

    assert _pending(tmp_path) == []
    assert any(
        "event-4" in r.getMessage() and "shop-gone" in r.getMessage() for r in caplog.records
    )


def test_a_retry_waits_for_its_due_time(
    tmp_path: Path, directory: FunctionDirectory, invoker: FunctionInvoker
) -> None:
    trace = tmp_path / "trace.txt"
    store = AsyncEventStore(events_path(tmp_path))
    payload = json.dumps({"path": str(trace)})
    store.add(
        QueuedEvent("event-5", "shop-record", None, payload, time.time(), 1, time.time() + 0.5)
    )
    store.close()

    async def scenario() -> None:
        queue = _queue(tmp_path, directory)
        queue.start()
        await asyncio.sleep(0.2)
        assert not trace.exists()  # not due yet
        await _until(trace.exists)
        await queue.close()

    _run(scenario, invoker)

    assert _lines(trace) == ["ran"]


def test_a_full_functions_backlog_does_not_hide_another_functions_events(
    tmp_path: Path,
) -> None:
    # Given a thousand events of one function, then one of another
    store = AsyncEventStore(events_path(tmp_path))
    try:
        for n in range(1000):
            store.add(QueuedEvent(f"busy-{n}", "shop-busy", None, b"{}", accepted_at=float(n)))
        store.add(QueuedEvent("other", "shop-other", None, b"{}", accepted_at=2000.0))
        # When the queue reads what is due with the busy function at its limit
        due = store.pending(limit=1000, excluding={"shop-busy"})
    finally:
        store.close()
    # Then the other function's event is there
    assert [event.id for event in due] == ["other"]


def test_errors_of_the_local_cloud_itself_are_retried_without_using_the_functions_attempts(
    tmp_path: Path, directory: FunctionDirectory, invoker: FunctionInvoker
) -> None:
    # Given a queue whose runner breaks three times (more than the function's two
    # retries) before it works
    trace = tmp_path / "trace.txt"
    broken = 0

    async def run(target: Target, event: Any) -> Invocation:
        nonlocal broken
        if broken < 3:
            broken += 1
            raise RuntimeError("the local cloud broke")
        return await run_target(target, event)

    async def scenario() -> None:
        store = AsyncEventStore(events_path(tmp_path))
        queue = AsyncEventQueue(
            store, directory, run=run, retry_delays=(0.05, 0.05), system_retry_first=0.02
        )
        queue.start()
        target = directory.resolve("shop-record")
        await queue.accept(target, {"path": str(trace)}, "event-system")
        await _until(trace.exists)
        await queue.close()
        store.close()

    # When it runs
    _run(scenario, invoker)

    # Then the event ran once the runner worked: not discarded after "three attempts"
    assert broken == 3
    assert _lines(trace) == ["ran"]
    assert _pending(tmp_path) == []
