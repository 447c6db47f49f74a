"""The stream dispatcher: Lambda's event source mapping for a DynamoDB stream, locally.

One :class:`StreamDispatcher` per declared :class:`~overcast.spec.StreamTrigger`. It
polls the table's change records (every ``poll_seconds``, 50 ms by default; AWS polls
each shard four times a second) and invokes the function with batches. Mirrored from
Lambda's event source mapping for DynamoDB Streams:

- **Order**: the table's stream is one ordered sequence (a single shard); one batch
  is in flight at a time, so records reach the function in order, per item and
  overall.
- **Batching**: up to ``batch_size`` records per invocation; with a batching window,
  Lambda waits up to that long for a full batch (counted here from the first
  waiting record's creation time).
- **Filtering**: filter criteria are applied before batching; records filtered out
  are never delivered and are checkpointed past ("Lambda drops the events that
  don't match").
- **At least once**: the checkpoint is saved only after the function returned, so
  a crash re-delivers the batch.
- **Errors**: an unhandled exception or a timeout fails the whole batch. The batch
  is retried (with backoff) until ``maximum_retry_attempts`` retries are used or a
  record is older than ``maximum_record_age_seconds``; then the records go to the
  on-failure destination (:class:`~overcast.local.streams.store.StreamStore`) and the
  dispatcher moves on. With ``bisect_batch_on_function_error``, a failed batch is
  split in two and each half retried on its own (the first half first, to keep the
  order), so one bad record cannot hold up the rest for long.
- **Stream identity**: the checkpoint is kept with the stream's ARN, read from the
  change log at each poll. A checkpoint of another stream (the table was recreated,
  or the data dir was used with a DynamoDB endpoint) says nothing about this one, so
  the trigger starts at this stream's oldest record (``TRIM_HORIZON``) and logs it.
- **Unreadable stream**: a poll that fails is retried with backoff, logged once per
  run of failures (:mod:`overcast.local.streams.poll_errors`).
- **Retention**: as in DynamoDB Streams, records older than 24 hours are dropped
  (checked hourly), delivered or not.
- **ReportBatchItemFailures**: a response ``{"batchItemFailures": [{"itemIdentifier":
  "<SequenceNumber>"}]}`` marks the records from the lowest failed sequence number on
  as failed: the records before it are done ("Lambda checkpoints ... before the
  lowest sequence number"), the rest are retried. An identifier that is not in the
  batch (or empty) fails the whole batch, as Lambda does. An empty list (or no
  ``batchItemFailures``) is success.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from overcast import spec
from overcast.local.functions.invoker import FunctionError, Invoker
from overcast.local.streams.change_log import ChangeLog
from overcast.local.streams.events import StreamSource, stream_event, stream_record
from overcast.local.streams.filters import RecordFilter
from overcast.local.streams.poll_errors import PollErrors
from overcast.local.streams.store import Failure, StreamStore
from overcast.ports.tables.stream import ChangeRecord

logger = logging.getLogger(__name__)

# Records read per poll; filters may drop many, so read more than a batch.
READ_LIMIT = 1000
# How often a running dispatcher looks for redrive requests (overcast streams redrive).
REDRIVE_CHECK_SECONDS = 1.0
# DynamoDB Streams: "data in the stream is retained for 24 hours"; trimmed hourly.
RETENTION_SECONDS = 24 * 3600
TRIM_EVERY_SECONDS = 3600


@dataclass(frozen=True)
class Pending:
    """A record read from the stream, as it will be delivered."""

    sequence: int
    created_at: float
    record: dict[str, Any]


@dataclass(frozen=True)
class _Outcome:
    """A failed invocation: from which record of the batch on, why, and whether it was
    a function error (which bisects)."""

    start: int
    reason: str
    function_error: bool


class StreamDispatcher:
    """Delivers one table's change records to one function, as ``trigger`` declares.

    ``table`` is the table's change log: a local table's, or its stream in DynamoDB
    Streams (:mod:`overcast.local.streams.change_log`); records name it as their
    ``eventSourceARN``, in ``region``."""

    def __init__(
        self,
        trigger: spec.StreamTrigger,
        table: ChangeLog,
        invoker: Invoker,
        store: StreamStore,
        *,
        region: str,
        trigger_id: str,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        poll_seconds: float = 0.05,
        retry_seconds: float = 0.1,
        max_retry_seconds: float = 2.0,
        poll_errors: PollErrors | None = None,
    ) -> None:
        self.trigger = trigger
        self.trigger_id = trigger_id
        self._table = table
        self._invoker = invoker
        self._store = store
        self._region = region
        self._source: StreamSource | None = None
        self._filter = RecordFilter(trigger.filter_patterns)
        self._clock = clock
        self._sleep = sleep
        self._poll_seconds = poll_seconds
        self._retry_seconds = retry_seconds
        self._max_retry_seconds = max_retry_seconds
        self._position = 0
        self._errors = poll_errors or PollErrors(trigger_id)
        self._next_redrive_check = 0.0
        self._next_trim = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start polling in the background (on the running loop)."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop polling; a batch in flight is abandoned, to be re-delivered next time."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def run_once(self) -> bool:
        """One poll: deliver the next batch, if any; whether there was work to do."""
        await self._redrive_if_asked()
        await self._trim_if_due()
        await self._follow_stream()
        records = await asyncio.to_thread(self._table.stream_records, self._position, READ_LIMIT)
        if not records:
            return False
        batch, last = self._select(records)
        if batch and self._should_wait(batch, len(records)):
            return False
        if batch:
            await self.deliver(batch)
        await asyncio.to_thread(self._save_checkpoint, last)
        self._position = last
        return True

    async def deliver(self, batch: list[Pending]) -> None:
        """Deliver ``batch`` until it succeeds or its records reach the failure destination."""
        pending: deque[tuple[list[Pending], int]] = deque([(batch, 0)])
        while pending:
            records, attempts = pending.popleft()
            records = await self._drop_expired(records, attempts)
            if not records:
                continue
            outcome = await self._invoke(records)
            if outcome is None:
                continue
            remaining, attempts = records[outcome.start :], attempts + 1
            if self._exhausted(attempts):
                await self._fail(remaining, f"{outcome.reason} (retries exhausted)", attempts)
            elif (
                outcome.function_error
                and self.trigger.bisect_batch_on_function_error
                and (len(remaining) > 1)
            ):
                half = len(remaining) // 2
                pending.extendleft([(remaining[half:], attempts), (remaining[:half], attempts)])
            else:
                await self._sleep(self._backoff(attempts))
                pending.appendleft((remaining, attempts))

    # --- polling ----------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            try:
                busy = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await self._sleep(self._errors.failed(exc))
                continue
            self._errors.succeeded()
            if not busy:
                await self._sleep(self._poll_seconds)

    async def _follow_stream(self) -> None:
        """Name the stream being read; on the first poll, or when the stream changed,
        resume from the checkpoint if it is this stream's, else from its oldest record."""
        arn = await asyncio.to_thread(self._table.stream_arn)
        if self._source is not None and self._source.arn == arn:
            return
        saved = await asyncio.to_thread(self._store.saved_checkpoint, self.trigger_id)
        self._position = 0
        if saved is not None and saved.belongs_to(arn):
            self._position = saved.sequence
        elif saved is not None:
            logger.warning(
                "Stream trigger %s: its checkpoint %d is in another stream (%s); "
                "starting at the oldest record (TRIM_HORIZON) of %s",
                self.trigger_id,
                saved.sequence,
                saved.stream or "of unknown ARN",
                arn,
            )
        assert self.trigger.table.stream is not None  # StreamTrigger checks it
        self._source = StreamSource(arn=arn, region=self._region, view=self.trigger.table.stream)

    def _save_checkpoint(self, sequence: int) -> None:
        assert self._source is not None  # named by _follow_stream
        self._store.save_checkpoint(self.trigger_id, sequence, stream=self._source.arn)

    def _select(self, records: list[ChangeRecord]) -> tuple[list[Pending], int]:
        """The next batch (filtered, at most ``batch_size``) and the last sequence examined;
        records are turned into events only as far as the batch needs."""
        source = self._source
        assert source is not None  # named by _follow_stream
        batch: list[Pending] = []
        last = records[-1].sequence
        for record in records:
            if len(batch) == self.trigger.batch_size:
                last = batch[-1].sequence
                break
            event = stream_record(record, source)
            if self._filter.matches(event):
                batch.append(Pending(record.sequence, record.created_at, event))
        return batch, last

    def _should_wait(self, batch: list[Pending], read: int) -> bool:
        window = self.trigger.batching_window_seconds
        if window <= 0 or len(batch) >= self.trigger.batch_size or read >= READ_LIMIT:
            return False
        return self._clock() < batch[0].created_at + window

    # --- delivery -----------------------------------------------------------------------

    async def _invoke(self, records: list[Pending]) -> _Outcome | None:
        event = stream_event(each.record for each in records)
        try:
            result = await self._invoker.invoke(self.trigger.function, event)
        except FunctionError as exc:
            return _Outcome(0, f"{exc.error_type}: {exc.error_message}", function_error=True)
        except TimeoutError as exc:
            return _Outcome(0, f"Sandbox.Timedout: {exc}", function_error=True)
        if not self.trigger.report_batch_item_failures:
            return None
        return _partial_failure(result, records)

    async def _drop_expired(self, records: list[Pending], attempts: int) -> list[Pending]:
        age = self.trigger.maximum_record_age_seconds
        if age == -1:
            return records
        now = self._clock()
        expired = [each for each in records if now - each.created_at > age]
        if expired:
            await self._fail(expired, f"records older than {age} s (MaximumRecordAge)", attempts)
        return [each for each in records if now - each.created_at <= age]

    def _exhausted(self, attempts: int) -> bool:
        retries = self.trigger.maximum_retry_attempts
        return retries != -1 and attempts > retries

    def _backoff(self, attempts: int) -> float:
        return float(min(self._max_retry_seconds, self._retry_seconds * 2 ** (attempts - 1)))

    async def _fail(self, records: list[Pending], reason: str, attempts: int) -> None:
        failure = Failure(
            trigger=self.trigger_id,
            function=self.trigger.function.name,
            reason=reason,
            attempts=attempts,
            created_at=self._clock(),
            first_sequence=records[0].sequence,
            last_sequence=records[-1].sequence,
            records=[each.record for each in records] if self.trigger.on_failure else [],
        )
        logger.error(
            "Stream trigger %s: records %d-%d failed for good: %s",
            self.trigger_id,
            failure.first_sequence,
            failure.last_sequence,
            reason,
        )
        if self.trigger.on_failure:
            await asyncio.to_thread(self._store.add_failure, failure)

    async def _trim_if_due(self) -> None:
        now = self._clock()
        if now >= self._next_trim:
            self._next_trim = now + TRIM_EVERY_SECONDS
            await asyncio.to_thread(self._table.trim_stream, now - RETENTION_SECONDS)

    # --- redrive --------------------------------------------------------------------

    async def _redrive_if_asked(self) -> None:
        now = self._clock()
        if now < self._next_redrive_check:
            return
        self._next_redrive_check = now + REDRIVE_CHECK_SECONDS
        asked = await asyncio.to_thread(self._store.failures, self.trigger_id, redrive_only=True)
        for failure in asked:
            await self._redrive(failure)

    async def _redrive(self, failure: Failure) -> None:
        records = [Pending(0, failure.created_at, record) for record in failure.records]
        outcome = await self._invoke(records) if records else None
        if outcome is None:
            await asyncio.to_thread(self._store.remove_failure, failure.id)
        else:
            await asyncio.to_thread(self._store.redrive_failed, failure.id, outcome.reason)


def _partial_failure(result: Any, records: list[Pending]) -> _Outcome | None:
    """The outcome a ``batchItemFailures`` response reports (``None``: all succeeded)."""
    failures = result.get("batchItemFailures") if isinstance(result, dict) else None
    if not failures:
        return None
    if not isinstance(failures, list):
        return _Outcome(0, "invalid batchItemFailures: the whole batch failed", False)
    positions = {each.record["dynamodb"]["SequenceNumber"]: i for i, each in enumerate(records)}
    found = [
        positions.get(item.get("itemIdentifier")) if isinstance(item, dict) else None
        for item in failures
    ]
    if None in found:
        return _Outcome(0, "invalid batchItemFailures: the whole batch failed", False)
    start = min(index for index in found if index is not None)
    reason = f"batchItemFailures from {records[start].record['dynamodb']['SequenceNumber']}"
    return _Outcome(start, reason, function_error=False)
