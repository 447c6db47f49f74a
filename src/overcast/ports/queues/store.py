"""What the local messaging keeps, and the primitives a backend offers to keep it.

The local queues and topics have one implementation of SQS's and SNS's behaviour
(:mod:`overcast.ports.queues.engine`, :mod:`overcast.ports.topics.fanout`) over a
:class:`MessagingStore`: SQLite for the local cloud, dictionaries for unit tests. A
store hands out transactions; everything one request does happens in one of them, so a
send, a receive or a publish's whole fan-out commits entirely or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from overcast.ports.queues.base import MessageAttribute


@dataclass(frozen=True)
class QueueConfig:
    """A declared queue, as the store keeps it (so every process sees the topology).

    The store keeps it as JSON text: a field added later (``receive_wait_seconds``) takes
    its default when an older store's row lacks it, until the next ``declare`` rewrites it.
    """

    name: str
    arn: str
    fifo: bool = False
    content_based_deduplication: bool = False
    visibility_timeout: int = 30
    delay: int = 0
    retention: int = 345_600
    dead_letter: str | None = None
    max_receive_count: int = 0
    receive_wait_seconds: int = 0  # SQS's ReceiveMessageWaitTimeSeconds


@dataclass(frozen=True)
class TopicConfig:
    name: str
    arn: str
    fifo: bool = False
    content_based_deduplication: bool = False


@dataclass(frozen=True)
class SubscriptionConfig:
    topic: str
    queue: str
    arn: str
    filter_policy: str | None = None
    filter_policy_scope: str = "MessageAttributes"
    raw_message_delivery: bool = False


@dataclass
class StoredMessage:
    """A message in a queue. ``sequence`` orders messages; the store assigns it."""

    queue: str
    message_id: str
    body: str
    sent_at: float
    visible_at: float
    expires_at: float
    sender_id: str
    attributes: Mapping[str, MessageAttribute] = field(default_factory=dict)
    group_id: str | None = None
    deduplication_id: str | None = None
    sequence: int = 0
    receive_count: int = 0
    first_received_at: float | None = None
    received_at: float | None = None
    receipt: str | None = None


class StoreTransaction(Protocol):
    """One transaction of a :class:`MessagingStore` (serialised against every other)."""

    def queue(self, name: str) -> QueueConfig | None: ...
    def topic(self, name: str) -> TopicConfig | None: ...
    def subscriptions(self, topic: str) -> list[SubscriptionConfig]: ...
    def put_queue(self, config: QueueConfig) -> None: ...
    def put_topic(self, config: TopicConfig, subscriptions: list[SubscriptionConfig]) -> None: ...

    def deduplicated(self, scope: str, deduplication_id: str, now: float) -> str | None:
        """The id of the message sent with this deduplication id less than 5 minutes ago."""
        ...

    def remember(
        self, scope: str, deduplication_id: str, message_id: str, until: float
    ) -> None: ...

    def insert(self, message: StoredMessage) -> int:
        """Add ``message``; return its sequence number."""
        ...

    def visible(self, queue: str, now: float, after: int, limit: int) -> list[StoredMessage]:
        """Up to ``limit`` unexpired messages visible at ``now``, by sequence, after ``after``."""
        ...

    def in_flight_groups(self, queue: str, now: float) -> set[str]: ...
    def get(self, message_id: str) -> StoredMessage | None: ...
    def update(self, message: StoredMessage) -> None: ...
    def delete(self, message_id: str) -> None: ...

    def expire(self, queue: str, now: float) -> None:
        """Drop the queue's messages whose retention period has ended."""
        ...


class MessagingStore(Protocol):
    """Where the local messaging keeps queues, topics and messages."""

    def transaction(self) -> AbstractContextManager[StoreTransaction]: ...

    def wait(self, seconds: float) -> None:
        """Sleep up to ``seconds``, or less when something changed (long polling)."""
        ...


def pages(
    transaction: StoreTransaction, queue: str, now: float, size: int
) -> Iterator[StoredMessage]:
    """Every message of ``queue`` visible at ``now``, fetched ``size`` at a time."""
    after = 0
    while True:
        page = transaction.visible(queue, now, after, size)
        yield from page
        if len(page) < size:
            return
        after = page[-1].sequence
