"""What the SQS and SNS APIs ask of the messaging store beyond the port: list queues,
topics and subscriptions, count a queue's messages, purge a queue.

The port (:class:`~overcast.ports.queues.store.StoreTransaction`) serves functions,
which never list or count; these read-mostly queries run on the SQLite file's own
transactions (:class:`~overcast.ports.queues.sqlite.SqliteStore`), against its tables.

Counts mirror ``GetQueueAttributes``: ``ApproximateNumberOfMessages`` are the messages
visible now, ``...NotVisible`` those received and in flight, ``...Delayed`` those not
yet received whose delay has not ended. Expired messages (past retention) count in none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from overcast.ports.queues.sqlite import SqliteStore
from overcast.ports.queues.store import QueueConfig, SubscriptionConfig, TopicConfig

_COUNTS = (
    "SELECT "
    "COALESCE(SUM(visible_at <= :now), 0), "
    "COALESCE(SUM(visible_at > :now AND receive_count > 0), 0), "
    "COALESCE(SUM(visible_at > :now AND receive_count = 0), 0) "
    "FROM messages WHERE queue = :queue AND expires_at > :now"
)


@dataclass(frozen=True)
class MessageCounts:
    """A queue's approximate message counts."""

    visible: int
    not_visible: int
    delayed: int


class MessagingInventory:
    """Listing, counting and purging over the local messaging's SQLite file."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    def queues(self, prefix: str = "") -> list[QueueConfig]:
        """Every queue whose name starts with ``prefix``, by name."""
        with self._store.transaction() as transaction:
            rows = transaction.connection.execute(
                "SELECT name, config FROM queues ORDER BY name"
            ).fetchall()
        return [QueueConfig(**json.loads(text)) for name, text in rows if name.startswith(prefix)]

    def topics(self) -> list[TopicConfig]:
        """Every topic, by name."""
        with self._store.transaction() as transaction:
            rows = transaction.connection.execute("SELECT config FROM topics ORDER BY name")
            return [TopicConfig(**json.loads(text)) for (text,) in rows]

    def subscriptions(self, topic: str | None = None) -> list[SubscriptionConfig]:
        """Every subscription (of ``topic`` only, when given), by topic and queue."""
        with self._store.transaction() as transaction:
            if topic is not None:
                return transaction.subscriptions(topic)
            rows = transaction.connection.execute(
                "SELECT config FROM subscriptions ORDER BY topic, queue"
            )
            return [SubscriptionConfig(**json.loads(text)) for (text,) in rows]

    def counts(self, queue: str, now: float) -> MessageCounts:
        with self._store.transaction() as transaction:
            row = transaction.connection.execute(_COUNTS, {"now": now, "queue": queue}).fetchone()
        return MessageCounts(int(row[0]), int(row[1]), int(row[2]))

    def purge(self, queue: str) -> int:
        """Delete every message of ``queue``; return how many there were."""
        with self._store.transaction() as transaction:
            cursor = transaction.connection.execute(
                "DELETE FROM messages WHERE queue = ?", (queue,)
            )
            return cursor.rowcount
