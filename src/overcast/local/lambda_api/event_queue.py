"""Lambda's asynchronous invocation: a durable queue and the dispatcher that drains it.

Mirrored from the Lambda developer guide ("Asynchronous invocation", "How Lambda
handles errors and retries with asynchronous invocation", "Configuring error handling
settings for Lambda asynchronous invocations"):

- Lambda "places the event in a queue and returns a success response": :meth:`accept`
  commits the event to the :class:`AsyncEventStore` before the 202 is sent; a crash or
  a stop loses nothing acknowledged.
- "If the function returns an error, by default Lambda attempts to run it two more
  times, with a one-minute wait between the first two attempts, and two minutes between
  the second and third" (``MaximumRetryAttempts`` 2; function errors include timeouts):
  the same, the waits injectable (``retry_delays``; one retry per delay).
- ``MaximumEventAgeInSeconds``, "the maximum amount of time ... that Lambda keeps an
  event in the asynchronous event queue before discarding it", 6 hours by default: an
  event older than ``max_event_age`` when its attempt is due is discarded unrun.
- An event that failed its last attempt, or aged out, goes to the function's on-failure
  destination or dead-letter queue; the local cloud declares none, so, as on Lambda
  without one, it is discarded: its row deleted and a warning logged naming it.
- "If the function doesn't have enough concurrency ... or the service returns an
  error, Lambda retries with exponential backoff", up to the maximum event age, and
  such retries do not count against ``MaximumRetryAttempts``: an error of the local
  cloud itself (not the function's) is retried after 1, 2, 4 ... seconds (at most
  :data:`SYSTEM_RETRY_MAX`), the event's attempts left as they were.
- Lambda's queue delivers at least once ("it's possible for it to receive the same
  event from Lambda multiple times"): an event whose attempt was under way when the
  local cloud stopped or crashed runs again when it starts (its row is deleted or
  updated only once the attempt is over).

The dispatcher runs due events (``next_attempt_at`` reached), at most ``per_function``
at once per function: the invoker bounds concurrency itself, this only keeps a backlog
from becoming thousands of waiting tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from overcast.local.lambda_api import errors
from overcast.local.lambda_api.directory import FunctionDirectory, Target
from overcast.local.lambda_api.event_store import AsyncEventStore, QueuedEvent
from overcast.local.lambda_api.invocation import Invocation, Run, run_target

# Lambda's waits before the second and the third attempt of a failed Event invocation.
ASYNC_RETRY_DELAYS = (60.0, 120.0)
# MaximumEventAgeInSeconds' default (and maximum): 6 hours.
MAX_EVENT_AGE = 21600.0
PER_FUNCTION = 4
# Backoff for errors of the local cloud itself (Lambda's for throttles and system errors).
SYSTEM_RETRY_FIRST = 1.0
SYSTEM_RETRY_MAX = 300.0
# The longest the dispatcher sleeps without being woken (new event, attempt over).
IDLE_POLL = 1.0
_log = logging.getLogger(__name__)


class AsyncEventQueue:
    """Accepted ``Event`` invocations: kept in ``store``, run on ``directory``'s
    functions, retried and discarded as Lambda's asynchronous queue does."""

    def __init__(
        self,
        store: AsyncEventStore,
        directory: FunctionDirectory,
        *,
        run: Run = run_target,
        retry_delays: Sequence[float] = ASYNC_RETRY_DELAYS,
        max_event_age: float = MAX_EVENT_AGE,
        clock: Callable[[], float] = time.time,
        per_function: int = PER_FUNCTION,
        system_retry_first: float = SYSTEM_RETRY_FIRST,
    ) -> None:
        self._store = store
        self._directory = directory
        self._run = run
        self._retry_delays = tuple(retry_delays)
        self._max_event_age = max_event_age
        self._clock = clock
        self._per_function = per_function
        self._wake = asyncio.Event()
        self._running: dict[str, tuple[str, asyncio.Task[None]]] = {}
        self._dispatcher: asyncio.Task[None] | None = None
        self._system_failures: dict[str, int] = {}  # by event id, this run only
        self._system_retry_first = system_retry_first

    async def accept(self, target: Target, event: Any, event_id: str) -> None:
        """Keep ``event`` for ``target``; it is committed when this returns."""
        now = self._clock()
        queued = QueuedEvent(
            event_id, target.local.name, target.alias, json.dumps(event), now, 0, now
        )
        await asyncio.to_thread(self._store.add, queued)
        self._wake.set()

    def start(self) -> None:
        """Start dispatching, beginning with whatever a previous run left queued."""
        if self._dispatcher is None:
            self._dispatcher = asyncio.get_running_loop().create_task(self._dispatch_forever())

    async def close(self) -> None:
        """Stop dispatching; attempts under way are cancelled (their events stay queued,
        to run again at the next start) and the store is closed."""
        tasks = [task for _, task in self._running.values()]
        if self._dispatcher is not None:
            tasks.append(self._dispatcher)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._dispatcher = None
        self._store.close()

    async def _dispatch_forever(self) -> None:
        while True:
            self._wake.clear()
            try:
                wait = await self._dispatch_due()
            except Exception:  # the store unreadable for now: try again, not give up
                _log.exception("Asynchronous event queue: cannot read the queued events")
                wait = IDLE_POLL
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def _dispatch_due(self) -> float:
        """Start every due event a function has room for; how long until the next one."""
        running = [name for name, _ in self._running.values()]
        full = {name for name in running if running.count(name) >= self._per_function}
        pending = await asyncio.to_thread(self._store.pending, excluding=full)
        now = self._clock()
        wait = IDLE_POLL
        for queued in pending:
            if queued.id in self._running:
                continue
            if queued.next_attempt_at > now:
                return min(wait, queued.next_attempt_at - now)
            if self._busy(queued.function) < self._per_function:
                task = asyncio.get_running_loop().create_task(self._attempt(queued))
                self._running[queued.id] = (queued.function, task)
        return wait

    def _busy(self, function: str) -> int:
        return sum(1 for name, _ in self._running.values() if name == function)

    async def _attempt(self, queued: QueuedEvent) -> None:
        try:
            await self._attempt_once(queued)
        except Exception:
            _log.exception(
                "Asynchronous event %s of %s: attempt failed", queued.id, queued.function
            )
        finally:
            del self._running[queued.id]
            self._wake.set()

    async def _attempt_once(self, queued: QueuedEvent) -> None:
        age = self._clock() - queued.accepted_at
        if age > self._max_event_age:
            await self._discard(queued, f"older than the maximum age ({self._max_event_age:g} s)")
            return
        target = self._target(queued)
        if target is None:
            await self._discard(queued, "the function is no longer declared")
            return
        outcome = await self._outcome(target, json.loads(queued.payload))
        if outcome is None:
            await self._retry_system_error(queued)
            return
        self._system_failures.pop(queued.id, None)
        if outcome.function_error is None:
            await asyncio.to_thread(self._store.remove, queued.id)
            return
        attempts = queued.attempts + 1
        _log.warning(
            "Function %s: asynchronous event %s failed (attempt %d): %s",
            queued.function,
            queued.id,
            attempts,
            outcome.payload.decode(errors="replace"),
        )
        if attempts > len(self._retry_delays):
            await self._discard(queued, f"failed {attempts} times")
            return
        next_at = self._clock() + self._retry_delays[attempts - 1]
        await asyncio.to_thread(self._store.retry_at, queued.id, attempts, next_at)

    async def _outcome(self, target: Target, event: Any) -> Invocation | None:
        """The attempt's outcome; None for an error of the local cloud itself (not the
        function's), which is retried apart (:meth:`_retry_system_error`)."""
        try:
            return await self._run(target, event)
        except Exception:
            _log.exception("Function %s: asynchronous invocation broke", target.local.name)
            return None

    async def _retry_system_error(self, queued: QueuedEvent) -> None:
        """Try again after 1, 2, 4 ... s (capped), its attempts unchanged: the maximum
        event age still ends it."""
        failures = self._system_failures.get(queued.id, 0) + 1
        self._system_failures[queued.id] = failures
        delay = min(SYSTEM_RETRY_MAX, self._system_retry_first * 2 ** (failures - 1))
        next_at = self._clock() + delay
        await asyncio.to_thread(self._store.retry_at, queued.id, queued.attempts, next_at)

    def _target(self, queued: QueuedEvent) -> Target | None:
        try:
            return self._directory.resolve(queued.function, queued.qualifier)
        except errors.LambdaError:
            return None

    async def _discard(self, queued: QueuedEvent, reason: str) -> None:
        self._system_failures.pop(queued.id, None)
        # No on-failure destination or DLQ can be declared: discarded, as on Lambda.
        _log.warning(
            "Function %s: asynchronous event %s discarded, %s (no on-failure destination)",
            queued.function,
            queued.id,
            reason,
        )
        await asyncio.to_thread(self._store.remove, queued.id)
