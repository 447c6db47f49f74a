"""In-memory messaging for unit tests: the local queues' and topics' behaviour (the same
engine as SQLite's) over dictionaries.

A transaction holds one lock and works on a copy of the state that replaces the state
only when the transaction ends without an exception — all or nothing, as SQLite's.
Long polling waits on a condition that every commit notifies.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from overcast.ports.queues.base import Clock
from overcast.ports.queues.messaging import StoredMessaging
from overcast.ports.queues.store import (
    QueueConfig,
    StoredMessage,
    SubscriptionConfig,
    TopicConfig,
)


@dataclass
class _State:
    queues: dict[str, QueueConfig] = field(default_factory=dict)
    topics: dict[str, TopicConfig] = field(default_factory=dict)
    subscriptions: dict[str, list[SubscriptionConfig]] = field(default_factory=dict)
    messages: dict[str, StoredMessage] = field(default_factory=dict)
    deduplication: dict[tuple[str, str], tuple[str, float]] = field(default_factory=dict)
    sequence: int = 0


class _Transaction:
    def __init__(self, state: _State) -> None:
        self.state = state

    def queue(self, name: str) -> QueueConfig | None:
        return self.state.queues.get(name)

    def topic(self, name: str) -> TopicConfig | None:
        return self.state.topics.get(name)

    def subscriptions(self, topic: str) -> list[SubscriptionConfig]:
        return list(self.state.subscriptions.get(topic, []))

    def put_queue(self, config: QueueConfig) -> None:
        self.state.queues[config.name] = config

    def put_topic(self, config: TopicConfig, subscriptions: list[SubscriptionConfig]) -> None:
        self.state.topics[config.name] = config
        self.state.subscriptions[config.name] = list(subscriptions)

    def deduplicated(self, scope: str, deduplication_id: str, now: float) -> str | None:
        seen = self.state.deduplication.get((scope, deduplication_id))
        return seen[0] if seen is not None and seen[1] > now else None

    def remember(self, scope: str, deduplication_id: str, message_id: str, until: float) -> None:
        self.state.deduplication[(scope, deduplication_id)] = (message_id, until)

    def insert(self, message: StoredMessage) -> int:
        self.state.sequence += 1
        message = copy.copy(message)
        message.sequence = self.state.sequence
        self.state.messages[message.message_id] = message
        return message.sequence

    def visible(self, queue: str, now: float, after: int, limit: int) -> list[StoredMessage]:
        found = [
            copy.copy(message)
            for message in self.state.messages.values()
            if message.queue == queue
            and message.sequence > after
            and message.visible_at <= now < message.expires_at
        ]
        return sorted(found, key=lambda message: message.sequence)[:limit]

    def in_flight_groups(self, queue: str, now: float) -> set[str]:
        return {
            message.group_id
            for message in self.state.messages.values()
            if message.queue == queue
            and message.group_id is not None
            and message.receive_count > 0
            and message.visible_at > now
        }

    def get(self, message_id: str) -> StoredMessage | None:
        message = self.state.messages.get(message_id)
        return None if message is None else copy.copy(message)

    def update(self, message: StoredMessage) -> None:
        self.state.messages[message.message_id] = copy.copy(message)

    def delete(self, message_id: str) -> None:
        self.state.messages.pop(message_id, None)

    def expire(self, queue: str, now: float) -> None:
        for message in list(self.state.messages.values()):
            if message.queue == queue and message.expires_at <= now:
                del self.state.messages[message.message_id]


class MemoryStore:
    """A :class:`~overcast.ports.queues.store.MessagingStore` in dictionaries."""

    def __init__(self) -> None:
        self._state = _State()
        self._changed = threading.Condition()

    @contextmanager
    def transaction(self) -> Iterator[_Transaction]:
        with self._changed:
            working = _State(
                queues=dict(self._state.queues),
                topics=dict(self._state.topics),
                subscriptions=dict(self._state.subscriptions),
                messages=dict(self._state.messages),  # entries are replaced, never mutated
                deduplication=dict(self._state.deduplication),
                sequence=self._state.sequence,
            )
            yield _Transaction(working)
            self._state = working
            self._changed.notify_all()

    def wait(self, seconds: float) -> None:
        with self._changed:
            self._changed.wait(seconds)

    def message_count(self, queue: str) -> int:
        """How many messages ``queue`` holds (visible, delayed or in flight)."""
        return sum(1 for message in self._state.messages.values() if message.queue == queue)


class MemoryMessaging(StoredMessaging):
    """Queues and topics in memory, with SQS's and SNS's behaviour; ``clock`` is
    injected so tests move time (visibility timeouts, delays, retention, deduplication)."""

    def __init__(self, clock: Clock = time.time, **arns: str) -> None:
        self.memory = MemoryStore()
        super().__init__(self.memory, clock, **arns)
