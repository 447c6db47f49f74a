"""SNS topics, SQS queues, subscriptions and queue triggers from their declarations.

- ``spec.Queue`` → an SQS queue with the declared visibility timeout, delay, retention,
  long polling, FIFO and content-based deduplication; encrypted with SQS's own keys
  (SSE-SQS, which SNS can deliver to without a key grant), refusing plain HTTP
  (``aws:SecureTransport``). A declared ``dead_letter`` is the queue's redrive policy
  (``maxReceiveCount``); a queue that is some queue's dead-letter queue keeps its
  messages 14 days, SQS's maximum, as long as an operator may need to look at them
  (SQS: "always set the retention period of a dead-letter queue to be longer than the
  retention period of the original queue").
- ``spec.Topic`` → an SNS topic (FIFO and content-based deduplication as declared),
  encrypted with SNS's AWS-managed key (``alias/aws/sns``), refusing plain HTTP. A topic
  a bucket notifies gets a customer managed key S3 may use instead
  (:mod:`overcast.aws.notifications`).
- ``spec.ObjectCreatedNotification`` → the bucket's S3 event notification to the topic
  or queue, with the policies that let S3 deliver (:mod:`overcast.aws.notifications`).
- ``spec.Subscription`` → an SQS subscription (CDK's ``SqsSubscription``, which also
  lets the topic, and only it, send to the queue), with raw delivery as declared. The
  filter policy is SNS's own JSON, set as the subscription's ``FilterPolicy`` and
  ``FilterPolicyScope`` as written: the local cloud and SNS read the same text.
- ``spec.QueueTrigger`` → Lambda's SQS event source mapping: batch size, batching
  window (whole seconds, as Lambda's ``MaximumBatchingWindowInSeconds``; a fractional
  one, which the local dispatcher honours, is refused rather than rounded),
  ``ReportBatchItemFailures``, maximum concurrency. CDK grants the function's role
  what the mapping needs to receive and delete.
- Functions learn ``OVERCAST_RESOURCE_QUEUE_<NAME>`` (the queue URL) for each queue
  they declare, with ``sqs:SendMessage`` on it, and ``OVERCAST_RESOURCE_TOPIC_<NAME>``
  (the topic ARN) for each topic, with ``sns:Publish`` on it.

The stack outputs each queue's URL and each topic's ARN.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from overcast import spec
from overcast.aws import nag
from overcast.aws.naming import construct_id
from overcast.aws.notifications import (
    deploy_object_notifications,
    find_buckets,
    notified_topics,
    topic_key,
)
from overcast.runtime.config import resource_variable

_KEEP_DEAD_LETTERS = Duration.days(14)
SNS_MANAGED_KEY = "alias/aws/sns"

NO_DEAD_LETTER_QUEUE = nag.Reason(
    "AwsSolutions-SQS3",
    "The declaration (spec.Queue) gives this queue no dead_letter: a message that keeps "
    "failing stays until the declared retention ends, as the local queue keeps it.",
)


class Messaging(Construct):
    """A service's topics, queues and subscriptions, by declared name."""

    def __init__(self, scope: Construct, service: spec.Service) -> None:
        super().__init__(scope, "Messaging")
        self.service = service
        self.queues: dict[str, sqs.Queue] = {}
        self.topics: dict[str, sns.Topic] = {}
        self._dead_letters = {
            queue.dead_letter.queue.name for queue in service.queues if queue.dead_letter
        }
        self._notified = notified_topics(service)
        for queue in service.queues:
            self._queue(queue)
        for topic in service.topics:
            self._topic(topic)
        for subscription in service.subscriptions:
            self._subscribe(subscription)
        deploy_object_notifications(
            self,
            service.object_notifications,
            find_buckets(self, service),
            self.topics,
            self.queues,
        )

    def connect(
        self,
        functions: Mapping[str, lambda_.Function],
        own_code: Mapping[tuple[str, str], lambda_.Function] | None = None,
    ) -> None:
        """Give each function its queues and topics, and map its queue triggers.

        ``own_code`` (by stage and function name) are the copies of functions deployed
        for API stages' own code: each gets its function's queues and topics too (the
        triggers stay on the function itself).
        """
        copies = own_code or {}
        for declaration in self.service.all_functions:
            deployments = [functions[declaration.name]] + [
                copy for (_, name), copy in copies.items() if name == declaration.name
            ]
            for function in deployments:
                self._connect_one(declaration, function)
        for trigger in self.service.queue_triggers:
            functions[trigger.function.name].add_event_source(
                queue_event_source(trigger, self.queues[trigger.queue.name])
            )

    def _connect_one(self, declaration: spec.Function, function: lambda_.Function) -> None:
        for queue in declaration.queues:
            deployed = self.queues[queue.name]
            function.add_environment(resource_variable("QUEUE", queue.name), deployed.queue_url)
            deployed.grant_send_messages(function)
        for topic in declaration.topics:
            deployed_topic = self.topics[topic.name]
            function.add_environment(
                resource_variable("TOPIC", topic.name), deployed_topic.topic_arn
            )
            deployed_topic.grant_publish(function)

    def _queue(self, declaration: spec.Queue) -> sqs.Queue:
        if declaration.name in self.queues:
            return self.queues[declaration.name]
        dead_letter = declaration.dead_letter
        redrive = None
        if dead_letter is not None:
            redrive = sqs.DeadLetterQueue(
                max_receive_count=dead_letter.max_receive_count,
                queue=self._queue(dead_letter.queue),
            )
        is_dead_letter = declaration.name in self._dead_letters
        queue = sqs.Queue(
            self,
            construct_id("Queue", declaration.name),
            fifo=declaration.fifo or None,
            content_based_deduplication=declaration.content_based_deduplication or None,
            visibility_timeout=Duration.seconds(declaration.visibility_timeout_seconds),
            delivery_delay=Duration.seconds(declaration.delay_seconds),
            retention_period=_KEEP_DEAD_LETTERS
            if is_dead_letter
            else Duration.seconds(declaration.retention_seconds),
            receive_message_wait_time=Duration.seconds(declaration.receive_wait_seconds),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=redrive,
        )
        if redrive is None and not is_dead_letter:
            nag.acknowledge(queue, NO_DEAD_LETTER_QUEUE)
        self.queues[declaration.name] = queue
        key = construct_id("Queue", declaration.name)
        CfnOutput(Stack.of(self), f"{key}Url", value=queue.queue_url, description="queue URL")
        return queue

    def _topic(self, declaration: spec.Topic) -> None:
        key = construct_id("Topic", declaration.name)
        topic = sns.Topic(
            self,
            key,
            fifo=declaration.fifo or None,
            content_based_deduplication=declaration.content_based_deduplication or None,
            master_key=topic_key(self, f"{key}Key", f"{declaration.name}: S3 may publish")
            if declaration.name in self._notified
            else kms.Alias.from_alias_name(self, f"{key}Key", SNS_MANAGED_KEY),
            enforce_ssl=True,
        )
        self.topics[declaration.name] = topic
        CfnOutput(Stack.of(self), f"{key}Arn", value=topic.topic_arn, description="topic ARN")

    def _subscribe(self, declaration: spec.Subscription) -> None:
        subscription = self.topics[declaration.topic.name].add_subscription(
            subscriptions.SqsSubscription(
                self.queues[declaration.queue.name],
                raw_message_delivery=declaration.raw_message_delivery or None,
            )
        )
        if declaration.filter_policy is None:
            return
        resource = subscription.node.default_child
        assert isinstance(resource, sns.CfnSubscription)
        resource.filter_policy = json.loads(declaration.filter_policy)
        resource.filter_policy_scope = declaration.filter_policy_scope


def queue_event_source(trigger: spec.QueueTrigger, queue: sqs.IQueue) -> sources.SqsEventSource:
    """Lambda's SQS event source mapping, as ``trigger`` declares it."""
    return sources.SqsEventSource(
        queue,
        batch_size=trigger.batch_size,
        max_batching_window=_batching_window(trigger),
        report_batch_item_failures=trigger.report_batch_item_failures,
        max_concurrency=trigger.maximum_concurrency,
    )


def deploy_messaging(
    scope: Construct,
    service: spec.Service,
    functions: Mapping[str, lambda_.Function],
    own_code: Mapping[tuple[str, str], lambda_.Function] | None = None,
) -> Messaging | None:
    """The service's messaging, connected to its functions and their stage copies
    (``own_code``, see :meth:`Messaging.connect`); ``None`` if it declares none."""
    if not (service.queues or service.topics):
        return None
    messaging = Messaging(scope, service)
    messaging.connect(functions, own_code)
    return messaging


def _batching_window(trigger: spec.QueueTrigger) -> Duration | None:
    seconds = trigger.batching_window_seconds
    if seconds != int(seconds):
        raise spec.DeclarationError(
            f"QueueTrigger {trigger.queue.name!r} -> {trigger.function.name!r}: Lambda's "
            f"batching window is a whole number of seconds, not {seconds}; declare "
            f"{int(seconds)} or {int(seconds) + 1}."
        )
    return Duration.seconds(seconds) if seconds else None
