"""A service's queue triggers, wired: one dispatcher per declared ``QueueTrigger``.

Each dispatcher receives from its queue in the local cloud's messaging database
(:class:`~overcast.ports.queues.sqlite.SqliteMessaging`, the one the functions send
to). Triggers are named ``<queue>-><function>`` (``#2``, ``#3``... for a repeated pair).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from overcast import spec
from overcast.local.queues.dispatcher import BatchInvoker, QueueDispatcher
from overcast.local.queues.events import QueueSource
from overcast.local.trigger_ids import trigger_ids

if TYPE_CHECKING:
    from overcast.ports.queues.sqlite import SqliteMessaging

logger = logging.getLogger("overcast.queues")


class ServiceQueues:
    """The dispatchers of one service's queue triggers, started and stopped together."""

    def __init__(
        self,
        service: spec.Service,
        invoker: BatchInvoker,
        messaging: SqliteMessaging,
        *,
        region: str,
        poll_seconds: float = 1.0,
    ) -> None:
        self.service = service
        self.dispatchers: list[QueueDispatcher] = []
        triggers = service.queue_triggers
        names = trigger_ids((t.queue.name, t.function.name) for t in triggers)
        for trigger, name in zip(triggers, names, strict=True):
            queue = messaging.queue(service.queue_name(trigger.queue))
            self.dispatchers.append(
                QueueDispatcher(
                    trigger,
                    queue,
                    invoker,
                    QueueSource(arn=queue.arn, region=region),
                    trigger_id=name,
                    poll_seconds=poll_seconds,
                )
            )

    def start(self) -> None:
        """Start every dispatcher on the running loop; log one line per trigger."""
        for dispatcher in self.dispatchers:
            trigger = dispatcher.trigger
            logger.info(
                "Queue trigger %s %s (batch %d%s%s, %d pollers)",
                self.service.name,
                dispatcher.trigger_id,
                trigger.batch_size,
                f", window {trigger.batching_window_seconds:g} s"
                if trigger.batching_window_seconds
                else "",
                ", partial failures" if trigger.report_batch_item_failures else "",
                dispatcher.pollers,
            )
            dispatcher.start()

    async def stop(self) -> None:
        """Stop every dispatcher (side by side: each waits for its batches in flight)."""
        await asyncio.gather(*(dispatcher.stop() for dispatcher in self.dispatchers))
