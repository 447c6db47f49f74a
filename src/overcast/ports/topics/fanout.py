"""A :class:`~overcast.ports.topics.base.MessageTopic` over the local messaging store.

A publish is one store transaction: SNS's FIFO deduplication (5 minutes, by
deduplication id or the body's SHA-256), then one message into every subscribed queue
whose filter policy matches — raw (the body and attributes as published) or in SNS's
JSON envelope (:mod:`overcast.ports.topics.envelope`). It commits for every queue or
for none, and ``publish`` returns only after the commit. Each queue's copy gets its own
SQS message id; the envelope carries SNS's. A FIFO topic passes its group id and
deduplication id on to its FIFO queues, so each group stays in order.
"""

from __future__ import annotations

import functools
import hashlib

from overcast.ports.queues import engine
from overcast.ports.queues.base import Clock, MessageAttribute, OutgoingMessage
from overcast.ports.queues.store import MessagingStore, StoreTransaction, SubscriptionConfig
from overcast.ports.queues.stored import LOCAL_SENDER_ID
from overcast.ports.topics.base import MessageTopic, Publication
from overcast.ports.topics.envelope import envelope
from overcast.ports.topics.exceptions import TopicNotFound
from overcast.ports.topics.filter_policy import FilterPolicy, parse_policy


@functools.lru_cache(maxsize=256)
def _policy(text: str, scope: str) -> FilterPolicy:
    return parse_policy(text, scope)


def matches(
    subscription: SubscriptionConfig, body: str, attributes: dict[str, MessageAttribute]
) -> bool:
    if subscription.filter_policy is None:
        return True
    policy = _policy(subscription.filter_policy, subscription.filter_policy_scope)
    return policy.matches(body, attributes)


class StoredTopic(MessageTopic):
    """One topic of a :class:`~overcast.ports.queues.store.MessagingStore`."""

    def __init__(
        self,
        store: MessagingStore,
        name: str,
        arn: str,
        clock: Clock,
        *,
        content_based_deduplication: bool = False,
        sender_id: str = LOCAL_SENDER_ID,
    ) -> None:
        self.name = name
        self.arn = arn
        self.content_based_deduplication = content_based_deduplication
        self._store = store
        self._clock = clock
        self._sender_id = sender_id

    def _publish(self, message: Publication) -> str:
        body, attributes, group_id = message.body, message.attributes, message.group_id
        deduplication_id = message.deduplication_id
        with self._store.transaction() as transaction:
            if transaction.topic(self.name) is None:
                raise TopicNotFound(f"No topic is named {self.name!r}; is it declared?")
            now = self._clock()
            message_id = engine.new_id()
            if self.fifo:
                deduplication_id = deduplication_id or hashlib.sha256(body.encode()).hexdigest()
                seen = transaction.deduplicated(f"topic:{self.name}", deduplication_id, now)
                if seen is not None:
                    return seen
                transaction.remember(
                    f"topic:{self.name}",
                    deduplication_id,
                    message_id,
                    now + engine.DEDUPLICATION_SECONDS,
                )
            for subscription in transaction.subscriptions(self.name):
                if matches(subscription, body, attributes):
                    delivery = Delivery(message_id, body, attributes, message.subject, now)
                    self._deliver(transaction, subscription, delivery, group_id, deduplication_id)
            return message_id

    def _deliver(
        self,
        transaction: StoreTransaction,
        subscription: SubscriptionConfig,
        delivery: Delivery,
        group_id: str | None,
        deduplication_id: str | None,
    ) -> None:
        config = engine.config_of(transaction, subscription.queue)
        if subscription.raw_message_delivery:
            body, attributes = delivery.body, delivery.attributes
        else:
            body, attributes = self._envelope(subscription, delivery), {}
        message = OutgoingMessage(
            body, attributes, group_id=group_id, deduplication_id=deduplication_id
        )
        engine.enqueue(
            transaction, config, message, delivery.published_at, self._sender_id, engine.new_id()
        )

    def _envelope(self, subscription: SubscriptionConfig, delivery: Delivery) -> str:
        return envelope(
            message_id=delivery.message_id,
            topic_arn=self.arn,
            subscription_arn=subscription.arn,
            message=delivery.body,
            published_at=delivery.published_at,
            subject=delivery.subject,
            attributes=delivery.attributes,
            sequence_number=f"{int(delivery.published_at * 1e6):020d}" if self.fifo else None,
        )


class Delivery:
    """One published message on its way to the subscribed queues."""

    __slots__ = ("attributes", "body", "message_id", "published_at", "subject")

    def __init__(
        self,
        message_id: str,
        body: str,
        attributes: dict[str, MessageAttribute],
        subject: str | None,
        published_at: float,
    ) -> None:
        self.message_id = message_id
        self.body = body
        self.attributes = attributes
        self.subject = subject
        self.published_at = published_at
