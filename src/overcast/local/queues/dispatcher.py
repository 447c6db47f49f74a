"""The queue dispatcher: Lambda's event source mapping for an SQS queue, locally.

One :class:`QueueDispatcher` per declared :class:`~overcast.spec.QueueTrigger`. Its
pollers receive from the queue and invoke the function with batches. Mirrored from
Lambda's SQS event source mapping ("Using Lambda with Amazon SQS"):

- **Polling**: long polling (AWS: 20 s), done here in slices of ``poll_seconds`` so
  that stopping never waits long; a slice ends as soon as a message arrives.
- **Batching**: up to ``batch_size`` messages per invocation (ReceiveMessage returns
  at most 10, so larger batches take several receives); with a batching window,
  receiving goes on until the batch is full or the window has passed since the
  first message arrived.
- **Visibility**: received messages stay in the queue, hidden for the queue's
  visibility timeout. AWS: "If your batch window is greater than 0, and (batch window)
  + (function timeout) > (queue visibility timeout), your effective queue visibility
  timeout will be (batch window) + (function timeout) + 30s".
- **Success** deletes the batch. **A function error** (an exception, a timeout)
  deletes nothing: "all messages in that batch become visible in the queue again
  after the visibility timeout expires", and the queue's redrive policy moves a
  message to its dead-letter queue after ``maxReceiveCount`` receives.
- **ReportBatchItemFailures**: every message but the ``batchItemFailures``'
  ``itemIdentifier`` s is deleted. AWS: an empty or null list, or no response, is a
  complete success; "an empty string itemIdentifier, a null itemIdentifier, an
  itemIdentifier with a bad key name, an itemIdentifier value with a message ID that
  doesn't exist" (or a response that is not an object) is a complete failure.
- **FIFO**: SQS hands out one group's messages in order and none while some are in
  flight; a failed message also keeps every later message of its group in the
  batch, so the group is retried in order ("all retries are attempted on the affected
  messages before Lambda receives additional messages from the same group").
- **Concurrency**: Lambda reads up to 5 batches at a time, ``maximum_concurrency`` at
  most, and only as many as the function has concurrency for; locally as many as the
  trigger's ``maximum_concurrency``, never more than the function's local execution
  environments (the invoker's ``concurrency``). A batch received must also *start* in
  time to finish within its visibility timeout (its remaining visibility minus the
  function's timeout): else it is not run and its messages, untouched, become visible
  again. This mirrors Lambda's throttling, which returns a batch it cannot run to the
  queue; otherwise a batch waiting for a busy environment would run after its messages
  went to another poller, and its deletes (with stale receipt handles) would do nothing.

Receives block, so they run on the dispatcher's own threads, never on the event
loop's shared executor.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Protocol, TypeVar

from overcast import spec
from overcast.local.functions.invoker import FunctionError
from overcast.local.queues.events import QueueSource, sqs_event, sqs_record
from overcast.ports.queues.base import MessageQueue, ReceivedMessage
from overcast.ports.queues.exceptions import QueueError

logger = logging.getLogger(__name__)

# A batch's least time to start, when the visibility timeout leaves less beyond the
# function's timeout (AWS allows a visibility timeout equal to the function's timeout).
MIN_START_SECONDS = 0.5
# ReceiveMessage and DeleteMessageBatch: at most 10 messages per call.
RECEIVE_LIMIT = 10
# Lambda's extra visibility when the batching window and the function's run outrun it.
VISIBILITY_MARGIN_SECONDS = 30
_T = TypeVar("_T")


class BatchInvoker(Protocol):
    """What a dispatcher needs of the invoker: its functions' concurrency, and invoking
    a batch that must start in time."""

    def concurrency(self, function: spec.Function) -> int: ...

    async def invoke(
        self, function: spec.Function, event: Any, *, start_within: float | None = None
    ) -> Any: ...


class QueueDispatcher:
    """Delivers one queue's messages to one function, as ``trigger`` declares."""

    def __init__(
        self,
        trigger: spec.QueueTrigger,
        queue: MessageQueue,
        invoker: BatchInvoker,
        source: QueueSource,
        *,
        trigger_id: str,
        clock: Callable[[], float] = time.monotonic,
        poll_seconds: float = 1.0,
        pollers: int | None = None,
        stop_grace_seconds: float = 2.0,
    ) -> None:
        self.trigger = trigger
        self.trigger_id = trigger_id
        self._queue = queue
        self._invoker = invoker
        self._source = source
        self._clock = clock
        self._poll_seconds = poll_seconds
        environments = invoker.concurrency(trigger.function)
        self.pollers = pollers or min(trigger.maximum_concurrency or environments, environments)
        self._stop_grace_seconds = stop_grace_seconds
        self._threads = ThreadPoolExecutor(self.pollers, thread_name_prefix=f"queue {trigger_id}")
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start the pollers in the background (on the running loop)."""
        loop = asyncio.get_running_loop()
        self._stopping = False
        self._tasks = [loop.create_task(self._run()) for _ in range(self.pollers)]

    async def stop(self) -> None:
        """Stop polling: each poller ends after its slice and its batch in flight (waited
        for ``stop_grace_seconds`` at most, then abandoned: its messages come back after
        the visibility timeout)."""
        self._stopping = True
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=self._stop_grace_seconds)
            for task in late:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._tasks = []
        self._threads.shutdown(wait=False, cancel_futures=True)

    async def run_once(self) -> int:
        """Receive one batch, invoke the function with it, delete what succeeded; the
        number of messages received."""
        received_at = self._clock()  # at most a slice early: the budget errs on the safe side
        batch = await self.gather()
        if batch:
            await self.deliver(batch, received_at=received_at)
        return len(batch)

    async def gather(self) -> list[ReceivedMessage]:
        """The next batch: a long poll of one slice, then, within the batching window,
        more receives until the batch is full."""
        batch = await self._receive(self.trigger.batch_size, self._poll_seconds)
        if not batch:
            return []
        window_ends = self._clock() + self.trigger.batching_window_seconds
        while len(batch) < self.trigger.batch_size and not self._stopping:
            remaining = window_ends - self._clock()
            if remaining <= 0:
                break
            wanted = self.trigger.batch_size - len(batch)
            batch += await self._receive(wanted, min(remaining, self._poll_seconds))
        return batch

    async def deliver(
        self, batch: Sequence[ReceivedMessage], *, received_at: float | None = None
    ) -> None:
        """Invoke the function with ``batch`` (received at ``received_at`` on the clock,
        default now); delete the messages it processed."""
        event = sqs_event(sqs_record(message, self._source) for message in batch)
        start_within = self._start_budget(self._clock() if received_at is None else received_at)
        try:
            result = await self._invoker.invoke(
                self.trigger.function, event, start_within=start_within
            )
        except (FunctionError, TimeoutError) as exc:
            logger.warning(
                "Queue trigger %s: the batch of %d failed (%s); its messages return after "
                "the visibility timeout",
                self.trigger_id,
                len(batch),
                exc,
            )
            return
        done = processed(batch, result, self.trigger.report_batch_item_failures)
        await self._delete(done)

    # --- polling ----------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Queue trigger %s: polling failed; retrying", self.trigger_id)
                await asyncio.sleep(self._poll_seconds)

    async def _receive(self, wanted: int, wait_seconds: float) -> list[ReceivedMessage]:
        receive = partial(
            self._queue.receive,
            min(wanted, RECEIVE_LIMIT),
            wait_seconds=wait_seconds,
            visibility_timeout=self._visibility_timeout(),
        )
        return await self._in_thread(receive)

    def _start_budget(self, received_at: float) -> float:
        """Seconds left for the batch to start and still end within its visibility
        timeout; past them it is not run (Lambda's throttling returns such a batch)."""
        visibility = self._visibility_timeout() or self.trigger.queue.visibility_timeout_seconds
        visible_again = received_at + visibility
        latest_start = visible_again - self.trigger.function.timeout_seconds
        return max(latest_start - self._clock(), MIN_START_SECONDS)

    def _visibility_timeout(self) -> int | None:
        trigger = self.trigger
        window = trigger.batching_window_seconds
        busy = window + trigger.function.timeout_seconds
        if window > 0 and busy > trigger.queue.visibility_timeout_seconds:
            return int(busy + 0.999) + VISIBILITY_MARGIN_SECONDS
        return None

    async def _delete(self, messages: Sequence[ReceivedMessage]) -> None:
        handles = [message.receipt_handle for message in messages]
        for start in range(0, len(handles), RECEIVE_LIMIT):
            chunk = handles[start : start + RECEIVE_LIMIT]
            try:
                await self._in_thread(partial(self._queue.delete_batch, chunk))
            except QueueError as exc:
                logger.warning(
                    "Queue trigger %s: could not delete processed messages (%s); they "
                    "will be delivered again",
                    self.trigger_id,
                    exc,
                )

    async def _in_thread(self, call: Callable[[], _T]) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._threads, call)


def processed(
    batch: Sequence[ReceivedMessage], result: Any, report_batch_item_failures: bool
) -> list[ReceivedMessage]:
    """The messages of ``batch`` that the function's ``result`` says it processed."""
    if not report_batch_item_failures or result is None:
        return list(batch)
    if not isinstance(result, dict):
        return []  # not a response Lambda can read: the whole batch failed
    failures = result.get("batchItemFailures")
    if not failures:
        return list(batch)
    failed = _failed_ids(batch, failures)
    if failed is None:
        return []
    return [message for message in batch if message.message_id not in failed]


def _failed_ids(batch: Sequence[ReceivedMessage], failures: Any) -> set[str] | None:
    """The failed messages' ids, with every later message of a failed FIFO group;
    ``None`` when the response fails the whole batch."""
    if not isinstance(failures, list):
        return None
    ids = {message.message_id for message in batch}
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in ids:
            return None
        failed.add(identifier)
    stopped_groups: set[str] = set()
    for message in batch:  # FIFO: nothing after a failure in its group is done
        if message.group_id is None:
            continue
        if message.message_id in failed:
            stopped_groups.add(message.group_id)
        elif message.group_id in stopped_groups:
            failed.add(message.message_id)
    return failed
