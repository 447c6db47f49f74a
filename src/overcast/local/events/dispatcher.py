"""Deliver object-created events to functions, as S3 and Lambda's asynchronous invocation do.

Events are rows in each bucket's catalog, written in the same transaction as the
object (:mod:`overcast.ports.objects.filesystem_events`), by whatever process wrote
it — the S3 endpoint or a function worker. The dispatcher polls every bucket that has
triggers and invokes each due event's function; the row is deleted only once the
function returned, so delivery is at-least-once and a crash (even ``kill -9``)
never loses an event: the next start delivers what is left.

Lambda's asynchronous invocation, mirrored:

- "If the function returns an error, by default Lambda attempts to run it two more
  times, with a one-minute wait between the first two attempts, and two minutes
  between the second and third" (``maximum_retry_attempts`` 0-2; the delays are
  configurable here, for tests).
- "If ... an event ... is older than the maximum event age, Lambda discards it"
  (``maximum_event_age_seconds``, default 6 hours).
- Events that failed every attempt, or expired, go to the on-failure destination,
  with Lambda's ``condition`` (``RetriesExhausted`` / ``EventAgeExceeded``): locally
  the bucket's ``event_failures`` store (:meth:`ObjectEventDispatcher.failures`).
- An invoker failure that is not the function's own (its environment could not run)
  is retried like a function error.

Notifications to a topic or a queue (``spec.ObjectCreatedNotification``) share the
bucket's event rows and are sent through a :class:`~overcast.local.events.notifier.
Notifier`; the row is deleted only once the send committed. A send that fails (the
messaging store busy or unavailable) is retried after the same delays, for as long as
it takes: S3 gives no on-failure destination for topics and queues, and an event is
never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from overcast import spec
from overcast.local.events.notifier import Notifier
from overcast.local.events.records import notification_event
from overcast.local.functions.invoker import Invoker
from overcast.ports.objects.filesystem import FilesystemBuckets
from overcast.ports.objects.filesystem_catalog import Catalog
from overcast.ports.objects.filesystem_events import ObjectEvent

logger = logging.getLogger(__name__)

# Lambda: one minute before the first retry, two before the second.
RETRY_DELAYS = (60.0, 120.0)
POLL_SECONDS = 0.1
BATCH = 100


Configuration = spec.ObjectCreatedTrigger | spec.ObjectCreatedNotification


@dataclass(frozen=True)
class Subscription:
    """One object-created trigger or notification, wired: its bucket's physical name and
    configuration id."""

    bucket: str
    configuration_id: str
    trigger: Configuration


class ObjectEventDispatcher:
    """Polls the buckets' event rows and invokes the subscribed functions."""

    def __init__(
        self,
        buckets: FilesystemBuckets,
        subscriptions: Sequence[Subscription],
        invoker: Invoker,
        *,
        region: str,
        account_id: str,
        clock: Callable[[], float] = time.time,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        poll_seconds: float = POLL_SECONDS,
        concurrency: int = 4,
        notifier: Notifier | None = None,
    ) -> None:
        if notifier is None and any(
            isinstance(s.trigger, spec.ObjectCreatedNotification) for s in subscriptions
        ):
            raise ValueError("Object notifications to topics or queues need a notifier.")
        self._notifier = notifier
        self._buckets = buckets
        self._subscriptions = {(s.bucket, s.configuration_id): s for s in subscriptions}
        self._invoker = invoker
        self._region = region
        self._account_id = account_id
        self._clock = clock
        self._retry_delays = tuple(retry_delays)
        self._poll_seconds = poll_seconds
        self._slots = asyncio.Semaphore(concurrency)
        self._in_flight: set[tuple[str, int]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None

    def configure(self) -> None:
        """Write each bucket's notification configurations into its catalog."""
        by_bucket: dict[str, list[tuple[str, str, str]]] = {}
        for subscription in self._subscriptions.values():
            trigger = subscription.trigger
            configurations = by_bucket.setdefault(subscription.bucket, [])
            configurations.append((subscription.configuration_id, trigger.prefix, trigger.suffix))
        for bucket, configurations in by_bucket.items():
            self._catalog(bucket).configure_notifications(configurations)

    async def start(self) -> None:
        """Configure the buckets, then deliver in the background until :meth:`close`."""
        self._loop = asyncio.create_task(self._run())

    async def run_until(self, stopped: Callable[[], bool]) -> None:
        """Configure, then deliver until ``stopped()``; then let deliveries finish."""
        await asyncio.to_thread(self.configure)
        while not stopped():
            try:
                await self._poll()
            except Exception:
                logger.exception("Object-created events: polling failed; trying again.")
            await asyncio.sleep(self._poll_seconds)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        """Stop polling; let deliveries in progress finish (undelivered rows stay)."""
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def run_once(self) -> int:
        """Start delivering every due event; wait for them; how many were started."""
        started = await self._poll()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        return started

    def failures(self, bucket: str) -> list[tuple[ObjectEvent, str]]:
        """The bucket's on-failure store: events given up on, with Lambda's condition."""
        return self._catalog(bucket).event_failures()

    # --- internals ---------------------------------------------------------------------

    async def _run(self) -> None:
        await self.run_until(lambda: False)

    async def _poll(self) -> int:
        started = 0
        now = self._clock()
        for bucket in sorted({s.bucket for s in self._subscriptions.values()}):
            due = await asyncio.to_thread(self._catalog(bucket).due_events, now, BATCH)
            for event in due:
                if (bucket, event.sequence) not in self._in_flight:
                    self._in_flight.add((bucket, event.sequence))
                    task = asyncio.create_task(self._deliver(bucket, event))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                    started += 1
        return started

    async def _deliver(self, bucket: str, event: ObjectEvent) -> None:
        try:
            async with self._slots:
                await self._attempt(bucket, event)
        except Exception:
            logger.exception(
                "Object-created event %s of %s: delivery failed.", event.sequence, bucket
            )
        finally:
            self._in_flight.discard((bucket, event.sequence))

    async def _attempt(self, bucket: str, event: ObjectEvent) -> None:
        catalog = self._catalog(bucket)
        subscription = self._subscriptions.get((bucket, event.configuration))
        if subscription is None:  # its configuration was removed since it was written
            await asyncio.to_thread(catalog.event_delivered, event.sequence)
            return
        trigger = subscription.trigger
        if isinstance(trigger, spec.ObjectCreatedNotification):
            await self._notify(catalog, bucket, event, trigger.target)
            return
        if self._clock() - event.event_time.timestamp() > trigger.maximum_event_age_seconds:
            await self._give_up(catalog, event, event.error or "", "EventAgeExceeded")
            return
        payload = self._payload(bucket, event)
        try:
            await self._invoker.invoke(trigger.function, payload)
        except Exception as exc:  # the function's error, timeout, or its environment's
            await self._failed(catalog, event, trigger, f"{type(exc).__name__}: {exc}")
            return
        await asyncio.to_thread(catalog.event_delivered, event.sequence)

    async def _notify(
        self, catalog: Catalog, bucket: str, event: ObjectEvent, target: spec.Topic | spec.Queue
    ) -> None:
        assert self._notifier is not None  # checked when built
        message = json.dumps(self._payload(bucket, event))
        try:
            await asyncio.to_thread(self._notifier.send, target, message)
        except Exception as exc:  # the messaging store's failure: try again later
            error = f"{type(exc).__name__}: {exc}"
            logger.warning("Object-created event for %r to %r: %s", event.key, target.name, error)
            await asyncio.to_thread(
                catalog.event_postponed, event.sequence, self._later(event), error
            )
            return
        await asyncio.to_thread(catalog.event_delivered, event.sequence)

    def _later(self, event: ObjectEvent) -> float:
        delay = self._retry_delays[min(event.attempts, len(self._retry_delays) - 1)]
        return self._clock() + delay

    async def _failed(
        self, catalog: Catalog, event: ObjectEvent, trigger: spec.ObjectCreatedTrigger, error: str
    ) -> None:
        logger.warning("Object-created event for %r: %s", event.key, error)
        if event.attempts >= trigger.maximum_retry_attempts:
            await self._give_up(catalog, event, error, "RetriesExhausted")
            return
        await asyncio.to_thread(catalog.event_postponed, event.sequence, self._later(event), error)

    async def _give_up(self, catalog: Catalog, event: ObjectEvent, error: str, why: str) -> None:
        logger.error("Object-created event for %r given up (%s): %s", event.key, why, error)
        await asyncio.to_thread(catalog.event_failed, event.sequence, error, why)

    def _payload(self, bucket: str, event: ObjectEvent) -> dict[str, Any]:
        return notification_event(
            event, bucket=bucket, region=self._region, account_id=self._account_id
        )

    def _catalog(self, bucket: str) -> Catalog:
        return self._buckets.store(bucket).catalog


def subscriptions_of(service: spec.Service, bucket_names: Mapping[str, str]) -> list[Subscription]:
    """The service's object-created triggers and notifications, each with its bucket's
    physical name."""
    triggers = [
        Subscription(
            bucket_names[trigger.bucket.name],
            f"{service.name}-{trigger.function.name}-{position}",
            trigger,
        )
        for position, trigger in enumerate(service.object_triggers)
    ]
    return triggers + [
        Subscription(
            bucket_names[notification.bucket.name],
            f"{service.name}-{_kind(notification.target)}-{notification.target.name}-{position}",
            notification,
        )
        for position, notification in enumerate(service.object_notifications)
    ]


def _kind(target: spec.Topic | spec.Queue) -> str:
    return "topic" if isinstance(target, spec.Topic) else "queue"
