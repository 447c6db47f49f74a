"""The local messaging of a whole local cloud: every service's queues and topics in one
store, so a topic of one process fans out to queues read by others.

``declare(service)`` writes a service's queues, topics and subscriptions into the
store (the local cloud calls it at start; every process then sees the same topology);
``queue(name)`` and ``topic(name)`` open one by its physical name.
"""

from __future__ import annotations

import uuid

from overcast import spec
from overcast.ports.queues import engine
from overcast.ports.queues.base import Clock
from overcast.ports.queues.store import (
    MessagingStore,
    QueueConfig,
    SubscriptionConfig,
    TopicConfig,
)
from overcast.ports.queues.stored import StoredQueue
from overcast.ports.topics.base import MessageTopic
from overcast.ports.topics.exceptions import TopicNotFound
from overcast.ports.topics.fanout import StoredTopic


class StoredMessaging:
    """Queues and topics of one :class:`~overcast.ports.queues.store.MessagingStore`."""

    def __init__(
        self,
        store: MessagingStore,
        clock: Clock,
        *,
        region: str = "us-east-1",
        account_id: str = "000000000000",
    ) -> None:
        self.store = store
        self.clock = clock
        self.region = region
        self.account_id = account_id

    def declare(self, service: spec.Service) -> None:
        """Write ``service``'s queues, topics and subscriptions (replacing its old ones)."""
        with self.store.transaction() as transaction:
            for queue in service.queues:
                transaction.put_queue(self._queue_config(service, queue))
            for topic in service.topics:
                config = self._topic_config(service, topic)
                subscriptions = [
                    self._subscription_config(service, subscription, config)
                    for subscription in service.subscriptions
                    if subscription.topic == topic
                ]
                transaction.put_topic(config, subscriptions)

    def queue(self, name: str) -> StoredQueue:
        """The queue of physical name ``name`` (raises ``QueueNotFound``)."""
        with self.store.transaction() as transaction:
            config = engine.config_of(transaction, name)
        return StoredQueue(self.store, config, self.clock)

    def topic(self, name: str) -> MessageTopic:
        """The topic of physical name ``name`` (raises ``TopicNotFound``)."""
        with self.store.transaction() as transaction:
            config = transaction.topic(name)
        if config is None:
            raise TopicNotFound(f"No topic is named {name!r}; is it declared in the service?")
        return StoredTopic(
            self.store,
            config.name,
            config.arn,
            self.clock,
            content_based_deduplication=config.content_based_deduplication,
        )

    def arn(self, kind: str, name: str) -> str:
        return f"arn:aws:{kind}:{self.region}:{self.account_id}:{name}"

    def _queue_config(self, service: spec.Service, queue: spec.Queue) -> QueueConfig:
        name = service.queue_name(queue)
        dead_letter = queue.dead_letter
        return QueueConfig(
            name=name,
            arn=self.arn("sqs", name),
            fifo=queue.fifo,
            content_based_deduplication=queue.content_based_deduplication,
            visibility_timeout=queue.visibility_timeout_seconds,
            delay=queue.delay_seconds,
            retention=queue.retention_seconds,
            receive_wait_seconds=queue.receive_wait_seconds,
            dead_letter=service.queue_name(dead_letter.queue) if dead_letter else None,
            max_receive_count=dead_letter.max_receive_count if dead_letter else 0,
        )

    def _topic_config(self, service: spec.Service, topic: spec.Topic) -> TopicConfig:
        name = service.topic_name(topic)
        return TopicConfig(
            name, self.arn("sns", name), topic.fifo, topic.content_based_deduplication
        )

    def _subscription_config(
        self, service: spec.Service, subscription: spec.Subscription, topic: TopicConfig
    ) -> SubscriptionConfig:
        queue = service.queue_name(subscription.queue)
        # SNS: a subscription ARN is the topic's ARN and a UUID; stable across restarts here.
        identity = uuid.uuid5(uuid.NAMESPACE_URL, f"{topic.arn}/{queue}")
        return SubscriptionConfig(
            topic=topic.name,
            queue=queue,
            arn=f"{topic.arn}:{identity}",
            filter_policy=subscription.filter_policy,
            filter_policy_scope=subscription.filter_policy_scope,
            raw_message_delivery=subscription.raw_message_delivery,
        )
