"""The queue dispatcher runs Lambda's SQS event source mapping over in-memory queues: it
deletes what succeeded, leaves failed batches to come back after the visibility timeout
(and to the dead-letter queue after maxReceiveCount), honours reported item failures,
keeps FIFO groups in order, batches beyond 10 within the window, and stops quickly."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from overcast import spec
from overcast.local.functions.invoker import FunctionError
from overcast.local.queues.dispatcher import QueueDispatcher
from overcast.local.queues.events import QueueSource
from overcast.ports.queues import MessageQueue, OutgoingMessage
from overcast.ports.queues.memory import MemoryMessaging

pytestmark = pytest.mark.anyio

DEAD = spec.Queue("dead")
JOBS = spec.Queue("jobs", visibility_timeout_seconds=30, dead_letter=spec.DeadLetter(DEAD, 3))
ORDERS = spec.Queue("orders", fifo=True, content_based_deduplication=True)
WORKER = spec.Function("worker", "tests.fixtures.handlers:echo")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


class ScriptedInvoker:
    """Answers each batch with ``answer(bodies)`` (raising it if it is an exception)."""

    def __init__(
        self, answer: Callable[[list[str]], Any] = lambda bodies: None, concurrency: int = 10
    ) -> None:
        self.batches: list[list[str]] = []
        self.events: list[dict[str, Any]] = []
        self.answer = answer
        self.environments = asyncio.Semaphore(concurrency)
        self._concurrency = concurrency

    def __contains__(self, function: object) -> bool:
        return True

    def concurrency(self, function: spec.Function) -> int:
        return self._concurrency

    async def invoke(
        self, function: spec.Function, event: Any, *, start_within: float | None = None
    ) -> Any:
        # As the local invoker: wait for a free environment, until start_within at most.
        await asyncio.wait_for(self.environments.acquire(), start_within)
        self.environments.release()
        self.events.append(event)
        bodies = [record["body"] for record in event["Records"]]
        self.batches.append(bodies)
        return self.answer(bodies)


def failing(bodies: list[str]) -> Any:
    raise FunctionError("ValueError", "bad batch")


def messaging(clock: Clock, *queues: spec.Queue) -> MemoryMessaging:
    memory = MemoryMessaging(clock, region="us-east-1", account_id="123456789012")
    memory.declare(spec.Service("shop", queues=(*queues, DEAD)))
    return memory


def dispatcher(
    queue: MessageQueue, invoker: ScriptedInvoker, trigger: spec.QueueTrigger, **options: Any
) -> QueueDispatcher:
    return QueueDispatcher(
        trigger,
        queue,
        invoker,
        QueueSource(queue.arn, "us-east-1"),
        trigger_id="jobs->worker",
        poll_seconds=0.01,
        **options,
    )


def send(queue: MessageQueue, *bodies: str, group: str | None = None) -> None:
    for body in bodies:
        queue.send(OutgoingMessage(body, group_id=group))


async def test_a_processed_batch_is_deleted() -> None:
    # Given three messages and a function that succeeds
    clock = Clock()
    queue = messaging(clock, JOBS).queue("shop-jobs")
    send(queue, "a", "b", "c")
    invoker = ScriptedInvoker()
    # When the dispatcher polls once
    handled = await dispatcher(queue, invoker, spec.QueueTrigger(JOBS, WORKER)).run_once()
    # Then the function got one batch of the three, as Lambda's event, and they are gone
    assert handled == 3
    assert invoker.batches == [["a", "b", "c"]]
    record = invoker.events[0]["Records"][0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:shop-jobs"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    clock.now += 31
    assert queue.receive(10) == []


async def test_a_failed_batch_returns_after_the_visibility_timeout_not_before() -> None:
    clock = Clock()
    queue = messaging(clock, JOBS).queue("shop-jobs")
    send(queue, "a", "b")
    invoker = ScriptedInvoker(failing)
    await dispatcher(queue, invoker, spec.QueueTrigger(JOBS, WORKER)).run_once()
    # Nothing was deleted, but nothing is visible within the timeout
    clock.now += 29
    assert queue.receive(10) == []
    clock.now += 2
    again = queue.receive(10)
    assert sorted(m.body for m in again) == ["a", "b"]
    assert {m.receive_count for m in again} == {2}


async def test_a_message_that_keeps_failing_moves_to_the_dead_letter_queue() -> None:
    # Given a queue whose redrive policy allows 3 receives
    clock = Clock()
    memory = messaging(clock, JOBS)
    queue, dead = memory.queue("shop-jobs"), memory.queue("shop-dead")
    send(queue, "poison")
    invoker = ScriptedInvoker(failing)
    mapping = dispatcher(queue, invoker, spec.QueueTrigger(JOBS, WORKER))
    # When the function fails it three times (and the timeout passes each time)
    for _ in range(4):
        await mapping.run_once()
        clock.now += 31
    # Then it was delivered 3 times, and now waits in the dead-letter queue
    assert invoker.batches == [["poison"]] * 3
    (parked,) = dead.receive(10)
    assert parked.body == "poison"


async def test_only_reported_item_failures_stay_in_the_queue() -> None:
    clock = Clock()
    queue = messaging(clock, JOBS).queue("shop-jobs")
    send(queue, "a", "b", "c")

    def report_b(bodies: list[str]) -> Any:
        return {"batchItemFailures": [{"itemIdentifier": ids["b"]}]}

    invoker = ScriptedInvoker(report_b)
    trigger = spec.QueueTrigger(JOBS, WORKER, report_batch_item_failures=True)
    mapping = dispatcher(queue, invoker, trigger)
    batch = await mapping.gather()
    ids = {message.body: message.message_id for message in batch}
    await mapping.deliver(batch)
    clock.now += 31
    assert [m.body for m in queue.receive(10)] == ["b"]


async def test_fifo_groups_keep_their_order_across_a_reported_failure() -> None:
    # Given two groups of a FIFO queue, and a function that fails on "a2" the first time
    clock = Clock()
    queue = messaging(clock, ORDERS).queue("shop-orders.fifo")
    send(queue, "a1", "a2", "a3", group="a")
    send(queue, "b1", "b2", group="b")
    failed_once: set[str] = set()

    def fail_a2_once(bodies: list[str]) -> Any:
        if "a2" in bodies and "a2" not in failed_once:
            failed_once.add("a2")
            return {"batchItemFailures": [{"itemIdentifier": ids["a2"]}]}
        return None

    invoker = ScriptedInvoker(fail_a2_once)
    trigger = spec.QueueTrigger(ORDERS, WORKER, report_batch_item_failures=True)
    mapping = dispatcher(queue, invoker, trigger)
    ids: dict[str, str] = {}
    for _ in range(2):
        batch = await mapping.gather()
        ids.update({message.body: message.message_id for message in batch})
        await mapping.deliver(batch)
        clock.now += 31
    # Then a3 was not taken as done while a2 failed; a2 and a3 came again, in order
    delivered = [body for batch in invoker.batches for body in batch]
    assert [b for b in delivered if b.startswith("a")] == ["a1", "a2", "a3", "a2", "a3"]
    assert [b for b in delivered if b.startswith("b")] == ["b1", "b2"]
    assert queue.receive(10) == []


async def test_batches_beyond_ten_are_gathered_within_the_window() -> None:
    # Given 25 waiting messages, a batch size of 20 and a batching window
    clock = Clock()
    queue = messaging(clock, JOBS).queue("shop-jobs")
    for start in range(0, 25, 5):
        queue.send_batch([OutgoingMessage(str(n)) for n in range(start, start + 5)])
    invoker = ScriptedInvoker()
    trigger = spec.QueueTrigger(JOBS, WORKER, batch_size=20, batching_window_seconds=1)
    mapping = dispatcher(queue, invoker, trigger)
    # When the dispatcher polls twice
    await mapping.run_once()
    await mapping.run_once()
    # Then the first batch is full and the second holds the rest
    assert [len(batch) for batch in invoker.batches] == [20, 5]


async def test_the_window_sends_a_partial_batch_when_it_ends() -> None:
    clock = Clock()
    queue = messaging(clock, JOBS).queue("shop-jobs")
    send(queue, "only")
    invoker = ScriptedInvoker()
    trigger = spec.QueueTrigger(JOBS, WORKER, batch_size=50, batching_window_seconds=1)
    started = time.monotonic()
    await dispatcher(queue, invoker, trigger, clock=_ticking(0.25)).run_once()
    assert invoker.batches == [["only"]]
    assert time.monotonic() - started < 1.0  # the window is counted on the given clock


async def test_a_window_and_timeout_beyond_the_visibility_timeout_extend_it() -> None:
    # Lambda: visibility becomes window + function timeout + 30 s
    clock = Clock()
    queue = messaging(clock, JOBS).queue("shop-jobs")
    send(queue, "slow")
    slow = spec.Function("slow", "tests.fixtures.handlers:echo", timeout_seconds=29)
    trigger = spec.QueueTrigger(JOBS, slow, batch_size=20, batching_window_seconds=5)
    await dispatcher(queue, ScriptedInvoker(failing), trigger, clock=_ticking(5)).run_once()
    clock.now += 63
    assert queue.receive(1) == []
    clock.now += 2
    assert [m.body for m in queue.receive(1)] == ["slow"]


async def test_running_pollers_deliver_and_stop_within_a_slice() -> None:
    clock = Clock()
    queue = messaging(clock, JOBS).queue("shop-jobs")
    invoker = ScriptedInvoker()
    mapping = dispatcher(queue, invoker, spec.QueueTrigger(JOBS, WORKER, maximum_concurrency=3))
    mapping.start()
    send(queue, "late")
    deadline = time.monotonic() + 5
    while not invoker.batches and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    started = time.monotonic()
    await mapping.stop()
    assert invoker.batches == [["late"]]
    assert mapping.pollers == 3
    assert time.monotonic() - started < 0.5


def _ticking(step: float) -> Callable[[], float]:
    """A monotonic clock that moves ``step`` seconds at each reading."""
    now = [0.0]

    def clock() -> float:
        now[0] += step
        return now[0]

    return clock


async def test_pollers_never_outnumber_the_functions_environments() -> None:
    # Given a trigger allowing 3 concurrent batches of a function with 1 environment
    queue = messaging(Clock(), JOBS).queue("shop-jobs")
    trigger = spec.QueueTrigger(JOBS, WORKER, maximum_concurrency=3)
    # When the dispatcher is built
    mapping = dispatcher(queue, ScriptedInvoker(concurrency=1), trigger)
    # Then it polls for one batch at a time, as Lambda takes only what it can run
    assert mapping.pollers == 1


async def test_a_batch_that_cannot_start_in_time_is_not_run_and_comes_back() -> None:
    # Given a message, and the function's only environment busy (another caller) for
    # longer than the batch's visibility timeout leaves it (30 s - 29 s = 1 s)
    clock = Clock()
    queue = messaging(clock, JOBS).queue("shop-jobs")
    send(queue, "a")
    invoker = ScriptedInvoker(concurrency=1)
    await invoker.environments.acquire()
    asyncio.get_running_loop().call_later(1.5, invoker.environments.release)
    mapping = dispatcher(queue, invoker, spec.QueueTrigger(JOBS, WORKER), clock=clock)
    # When a poller receives it
    await mapping.run_once()
    # Then the batch is not run (it would end after its messages went to another poller)
    assert invoker.batches == []
    # And the message, untouched, is received again after the visibility timeout
    clock.now += 30
    await asyncio.sleep(0.6)  # the environment is free again
    assert await mapping.run_once() == 1
    assert invoker.batches == [["a"]]
    clock.now += 30
    assert queue.receive(1) == []
