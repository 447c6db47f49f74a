"""A :class:`~overcast.ports.queues.base.MessageQueue` over a messaging store: the local
queue (SQLite in the local cloud, dictionaries in unit tests).

Long polling: a receive that finds nothing looks again every ``poll_seconds`` (or as
soon as the store sees a change) until a message is there or ``wait_seconds`` have
passed — SQS's "returns as soon as a message is available". Other processes write the
same store, so the store's wait cannot rely on in-process notifications alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from overcast.ports.queues import engine
from overcast.ports.queues.base import Clock, MessageQueue, OutgoingMessage, ReceivedMessage
from overcast.ports.queues.store import MessagingStore, QueueConfig

LOCAL_SENDER_ID = "AIDAOVERCASTLOCAL0000"


class StoredQueue(MessageQueue):
    """One queue of a :class:`~overcast.ports.queues.store.MessagingStore`; ``config`` is
    its declaration as the store kept it when the queue was opened."""

    def __init__(
        self,
        store: MessagingStore,
        config: QueueConfig,
        clock: Clock,
        *,
        sender_id: str = LOCAL_SENDER_ID,
        poll_seconds: float = 0.02,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.name = config.name
        self.arn = config.arn
        self.content_based_deduplication = config.content_based_deduplication
        self._store = store
        self._clock = clock
        self._sender_id = sender_id
        self._poll_seconds = poll_seconds
        self._monotonic = monotonic

    def _send(self, messages: list[OutgoingMessage]) -> list[str]:
        with self._store.transaction() as transaction:
            config = engine.config_of(transaction, self.name)
            now = self._clock()
            return [
                engine.enqueue(transaction, config, message, now, self._sender_id, engine.new_id())
                for message in messages
            ]

    def _receive(
        self, max_messages: int, wait_seconds: float, visibility_timeout: int | None
    ) -> list[ReceivedMessage]:
        deadline = self._monotonic() + wait_seconds
        while True:
            with self._store.transaction() as transaction:
                config = engine.config_of(transaction, self.name)
                taken = engine.receive(
                    transaction, config, max_messages, visibility_timeout, self._clock()
                )
            remaining = deadline - self._monotonic()
            if taken or remaining <= 0:
                return taken
            self._store.wait(min(self._poll_seconds, remaining))

    def _delete(self, receipt_handle: str) -> None:
        self._delete_batch([receipt_handle])

    def _delete_batch(self, receipt_handles: list[str]) -> None:
        for handle in receipt_handles:  # check every handle before deleting any
            engine.parse_receipt_handle(self.name, handle)
        with self._store.transaction() as transaction:
            for handle in receipt_handles:
                engine.delete(transaction, self.name, handle)

    def _change_visibility(self, receipt_handle: str, seconds: int) -> None:
        with self._store.transaction() as transaction:
            engine.change_visibility(transaction, self.name, receipt_handle, seconds, self._clock())
