"""The local cloud's event dispatchers: what invokes functions besides the API.

Once every invoker has started and the listeners serve, the cloud starts, as
background tasks:

- one object-event dispatcher per service with object-created triggers or
  notifications (S3 event notifications, to its functions, topics and queues);
- one stream dispatcher per service with stream triggers (Lambda's event source
  mappings on DynamoDB streams), one log line each;
- one queue dispatcher per service with queue triggers (Lambda's SQS event source
  mappings), likewise.

They run until shutdown tells the listeners to exit (the AWS endpoint's listener is
the signal), so they stop before the invokers close.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from overcast.local import servers
from overcast.local.aws_services import AwsServices
from overcast.local.service_runtime import ServiceRuntime
from overcast.local.settings import CloudSettings

if TYPE_CHECKING:
    from overcast.ports.queues.sqlite import SqliteMessaging


def start_dispatchers(
    runtimes: Sequence[ServiceRuntime],
    aws: AwsServices,
    messaging: SqliteMessaging | None,
    settings: CloudSettings,
    shutdown: servers.Listener,
) -> list[asyncio.Task[None]]:
    """Start every dispatcher the services need; they end once ``shutdown`` exits."""
    return [
        *deliver_object_events(runtimes, aws, messaging, settings, shutdown),
        *dispatch_streams(runtimes, settings, shutdown),
        *dispatch_queues(runtimes, messaging, settings, shutdown),
    ]


def deliver_object_events(
    runtimes: Sequence[ServiceRuntime],
    aws: AwsServices,
    messaging: SqliteMessaging | None,
    settings: CloudSettings,
    shutdown: servers.Listener,
) -> list[asyncio.Task[None]]:
    """One dispatcher per service with object-created triggers or notifications (to its
    topics and queues, through the cloud's messaging), until shutdown."""
    from overcast.local.events.dispatcher import ObjectEventDispatcher, subscriptions_of
    from overcast.local.events.notifier import MessagingNotifier

    def stopped() -> bool:
        return shutdown.server is not None and shutdown.server.should_exit

    tasks = []
    for runtime in runtimes:
        service = runtime.service
        if service.object_triggers or service.object_notifications:
            dispatcher = ObjectEventDispatcher(
                aws.buckets,
                subscriptions_of(service, runtime.resources.buckets),
                runtime.invoker,
                region=settings.region,
                account_id=settings.account_id,
                notifier=MessagingNotifier(messaging, service.name) if messaging else None,
            )
            tasks.append(asyncio.create_task(dispatcher.run_until(stopped)))
    return tasks


def dispatch_streams(
    runtimes: Sequence[ServiceRuntime], settings: CloudSettings, shutdown: servers.Listener
) -> list[asyncio.Task[None]]:
    """One dispatcher per stream trigger (one log line each), after the invokers start;
    they stop when shutdown tells the listeners to exit, before the invokers close."""
    from overcast.local.streams import ServiceStreams

    remote = None
    if settings.dynamodb_endpoint is not None and any(r.service.stream_triggers for r in runtimes):
        # The tables are in a DynamoDB endpoint: their streams are read from there.
        from overcast.local.credentials import load_or_create_root_credentials
        from overcast.local.remote_tables import remote_streams

        root = load_or_create_root_credentials(settings.data_dir)
        remote = remote_streams(settings.dynamodb_endpoint, settings.region, root)
    streams = [
        ServiceStreams(
            runtime.service,
            runtime.invoker,
            data_dir=settings.data_dir,
            region=settings.region,
            account_id=settings.account_id,
            remote=remote,
        )
        for runtime in runtimes
        if runtime.service.stream_triggers
    ]

    return _run_until_exit(streams, shutdown)


def dispatch_queues(
    runtimes: Sequence[ServiceRuntime],
    messaging: SqliteMessaging | None,
    settings: CloudSettings,
    shutdown: servers.Listener,
) -> list[asyncio.Task[None]]:
    """One dispatcher per queue trigger (one log line each), like the stream triggers."""
    from overcast.local.queues import ServiceQueues

    queues = [
        ServiceQueues(runtime.service, runtime.invoker, messaging, region=settings.region)
        for runtime in runtimes
        if runtime.service.queue_triggers and messaging is not None
    ]

    return _run_until_exit(queues, shutdown)


class _Runner(Protocol):
    def start(self) -> None: ...

    async def stop(self) -> None: ...


def _run_until_exit(
    runners: Sequence[_Runner], shutdown: servers.Listener
) -> list[asyncio.Task[None]]:
    """Start ``runners`` now; stop them when shutdown tells the listeners to exit (before
    the invokers close). One task for all, none if there are none."""

    async def run() -> None:
        for each in runners:
            each.start()
        await _until_exit(shutdown)
        await asyncio.gather(*(each.stop() for each in runners))

    return [asyncio.create_task(run())] if runners else []


async def _until_exit(listener: servers.Listener) -> None:
    while listener.server is not None and not listener.server.should_exit:
        await asyncio.sleep(0.05)
