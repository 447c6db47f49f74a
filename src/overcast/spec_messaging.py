"""Messaging declarations: queues (SQS), topics (SNS), subscriptions and queue triggers.

They mirror the AWS model, so the local SQLite-backed messaging
(``overcast.ports.queues.sqlite``) and the CDK stacks are built from the same objects:

- A :class:`Queue` is an SQS queue; its limits are SQS's ``CreateQueue`` attribute
  ranges (checked when built). With ``dead_letter``, a message received more than
  ``max_receive_count`` times moves to that queue (SQS's redrive policy).
- A :class:`Topic` is an SNS topic; a :class:`Subscription` delivers its messages to a
  queue, filtered by an SNS filter policy, raw or in SNS's JSON envelope.
- A :class:`QueueTrigger` is Lambda's SQS event source mapping.
- An :class:`ObjectCreatedNotification` is an S3 event notification whose destination is
  a topic or a queue (S3's ``TopicConfiguration`` / ``QueueConfiguration``).

Physical names are ``<service>-<name>`` (``.fifo`` appended for FIFO ones, as SQS and SNS
require): :meth:`overcast.spec.Service.queue_name` and ``topic_name``.

Import these from :mod:`overcast.spec` (``spec.Queue``); this module only keeps
``spec.py`` small. Standard library only (the filter policy parser is imported lazily).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from overcast.spec_base import DeclarationError, check_name

if TYPE_CHECKING:
    from overcast.spec import Bucket, Function, ObjectCreatedTrigger

FilterPolicyScope = Literal["MessageAttributes", "MessageBody"]

# SQS CreateQueue attribute ranges ("CreateQueue: Attributes").
MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200  # 12 hours
MAX_DELAY_SECONDS = 900  # 15 minutes
MIN_RETENTION_SECONDS, MAX_RETENTION_SECONDS = 60, 1_209_600  # 1 minute to 14 days
MAX_RECEIVE_WAIT_SECONDS = 20
MAX_RECEIVE_COUNT = 1000  # redrive policy: maxReceiveCount 1-1000
# Lambda's SQS event source mapping: "BatchSize ... Standard queues 1-10,000; FIFO 1-10".
MAX_STANDARD_BATCH, MAX_FIFO_BATCH = 10_000, 10


def _within(where: str, label: str, value: float, low: float, high: float) -> None:
    if isinstance(value, bool) or not low <= value <= high:
        raise DeclarationError(f"{where}: {label} must be {low}-{high}, as in SQS (got {value}).")


@dataclass(frozen=True)
class Queue:
    """An SQS queue (standard, or FIFO with ``fifo=True``).

    Defaults are SQS's: visibility timeout 30 s, no delay, retention 4 days, short
    polling. ``content_based_deduplication`` (FIFO only) deduplicates by the SHA-256 of
    the body when a message carries no deduplication id.
    """

    name: str
    visibility_timeout_seconds: int = 30
    delay_seconds: int = 0
    retention_seconds: int = 345_600
    receive_wait_seconds: int = 0
    fifo: bool = False
    content_based_deduplication: bool = False
    dead_letter: DeadLetter | None = None

    def __post_init__(self) -> None:
        check_name("Queue", self.name)
        where = f"Queue {self.name!r}"
        _within(
            where,
            "visibility_timeout_seconds",
            self.visibility_timeout_seconds,
            0,
            MAX_VISIBILITY_TIMEOUT_SECONDS,
        )
        _within(where, "delay_seconds", self.delay_seconds, 0, MAX_DELAY_SECONDS)
        _within(
            where,
            "retention_seconds",
            self.retention_seconds,
            MIN_RETENTION_SECONDS,
            MAX_RETENTION_SECONDS,
        )
        _within(
            where, "receive_wait_seconds", self.receive_wait_seconds, 0, MAX_RECEIVE_WAIT_SECONDS
        )
        if self.content_based_deduplication and not self.fifo:
            raise DeclarationError(
                f"{where}: content_based_deduplication needs fifo=True, as in SQS."
            )
        if self.dead_letter is not None:
            self._check_dead_letter(self.dead_letter.queue)

    def _check_dead_letter(self, target: Queue) -> None:
        # SQS: "The dead-letter queue of a FIFO queue must also be a FIFO queue. Similarly,
        # the dead-letter queue of a standard queue must also be a standard queue."
        if target.fifo != self.fifo:
            kind = "FIFO" if self.fifo else "standard"
            raise DeclarationError(
                f"Queue {self.name!r}: its dead-letter queue {target.name!r} must be a {kind} "
                f"queue too, as SQS requires; declare it with fifo={self.fifo}."
            )
        if target.name == self.name:
            raise DeclarationError(f"Queue {self.name!r} cannot be its own dead-letter queue.")


@dataclass(frozen=True)
class DeadLetter:
    """SQS's redrive policy: after ``max_receive_count`` receives, a message moves to
    ``queue`` instead of being returned again."""

    queue: Queue
    max_receive_count: int = 5

    def __post_init__(self) -> None:
        _within("DeadLetter", "max_receive_count", self.max_receive_count, 1, MAX_RECEIVE_COUNT)


@dataclass(frozen=True)
class Topic:
    """An SNS topic (standard, or FIFO with ``fifo=True``: ordered per message group,
    deduplicated for 5 minutes)."""

    name: str
    fifo: bool = False
    content_based_deduplication: bool = False

    def __post_init__(self) -> None:
        check_name("Topic", self.name)
        if self.content_based_deduplication and not self.fifo:
            raise DeclarationError(
                f"Topic {self.name!r}: content_based_deduplication needs fifo=True, as in SNS."
            )


@dataclass(frozen=True)
class Subscription:
    """An SNS subscription of ``queue`` to ``topic``.

    ``filter_policy`` is an SNS filter policy (JSON text) applied to the message
    attributes or, with ``filter_policy_scope="MessageBody"``, to the JSON body. With
    ``raw_message_delivery`` the queue receives the published body and attributes as
    they are; otherwise SNS's JSON envelope (``Type: Notification``) as the body.
    """

    topic: Topic
    queue: Queue
    filter_policy: str | None = None
    filter_policy_scope: FilterPolicyScope = "MessageAttributes"
    raw_message_delivery: bool = False

    def __post_init__(self) -> None:
        where = f"Subscription {self.topic.name!r} -> {self.queue.name!r}"
        # SNS: "Amazon SNS FIFO topics can deliver messages only to Amazon SQS FIFO queues",
        # and a standard topic cannot deliver to a FIFO queue.
        if self.topic.fifo != self.queue.fifo:
            raise DeclarationError(
                f"{where}: a {'FIFO' if self.topic.fifo else 'standard'} topic can only feed "
                f"{'FIFO' if self.topic.fifo else 'standard'} queues, as SNS requires; make "
                "both FIFO or neither."
            )
        if self.filter_policy_scope not in ("MessageAttributes", "MessageBody"):
            raise DeclarationError(
                f"{where}: filter_policy_scope must be MessageAttributes or MessageBody."
            )
        if self.filter_policy is not None:
            from overcast.ports.topics.filter_policy import FilterPolicyError, parse_policy

            try:
                parse_policy(self.filter_policy, self.filter_policy_scope)
            except FilterPolicyError as exc:
                raise DeclarationError(f"{where}: invalid filter policy: {exc}") from exc


@dataclass(frozen=True)
class QueueTrigger:
    """Lambda's SQS event source mapping: batches of messages of ``queue`` invoke
    ``function``; with ``report_batch_item_failures`` only the failed messages return
    to the queue. Limits are Lambda's ``CreateEventSourceMapping`` ones for SQS."""

    queue: Queue
    function: Function
    batch_size: int = 10
    batching_window_seconds: float = 0
    report_batch_item_failures: bool = False
    maximum_concurrency: int | None = None

    def __post_init__(self) -> None:
        where = f"QueueTrigger {self.queue.name!r} -> {self.function.name!r}"
        largest = MAX_FIFO_BATCH if self.queue.fifo else MAX_STANDARD_BATCH
        if isinstance(self.batch_size, bool) or not 1 <= self.batch_size <= largest:
            raise DeclarationError(
                f"{where}: batch_size must be 1-{largest} for this queue, as in Lambda."
            )
        if not 0 <= self.batching_window_seconds <= 300:
            raise DeclarationError(f"{where}: the batching window must be 0-300 s, as in Lambda.")
        # Lambda: "When you set BatchSize to a value greater than 10, you must set
        # MaximumBatchingWindowInSeconds to at least 1."
        if self.batch_size > 10 and self.batching_window_seconds < 1:
            raise DeclarationError(
                f"{where}: a batch_size over 10 needs a batching window of 1 s or more."
            )
        concurrency = self.maximum_concurrency
        if concurrency is not None and not 2 <= concurrency <= 1000:
            raise DeclarationError(f"{where}: maximum_concurrency must be 2-1000, as in Lambda.")
        # CloudFormation refuses a mapping whose queue's visibility timeout is shorter
        # than the function's timeout: messages would reappear while still being handled.
        if self.queue.visibility_timeout_seconds < self.function.timeout_seconds:
            raise DeclarationError(
                f"{where}: the queue's visibility timeout "
                f"({self.queue.visibility_timeout_seconds} s) is shorter than the function's "
                f"timeout ({self.function.timeout_seconds} s), which Lambda refuses; raise "
                "visibility_timeout_seconds (AWS advises 6 times the function timeout)."
            )


@dataclass(frozen=True)
class ObjectCreatedNotification:
    """An S3 event notification to a topic or a queue: each object created in ``bucket``
    whose key starts with ``prefix`` and ends with ``suffix`` sends S3's event message
    (``{"Records": [<one record>]}``, the record a function would get) to ``target``.

    A queue receives the event as its message body; a topic publishes it (subject
    ``Amazon S3 Notification``) to its subscriptions, each deciding, as SNS does, whether
    its queue gets SNS's envelope or the raw event. S3's overlap rule spans a bucket's
    triggers and notifications alike (:meth:`overcast.spec.Service` checks it).
    """

    bucket: Bucket
    target: Topic | Queue
    prefix: str = ""
    suffix: str = ""

    def __post_init__(self) -> None:
        target = self.target
        kind = "topic" if isinstance(target, Topic) else "queue"
        where = f"ObjectCreatedNotification {self.bucket.name!r} -> {kind} {target.name!r}"
        # S3: "Currently, Standard SNS is only allowed as an S3 event notification
        # destination, whereas SNS FIFO is not allowed"; CloudFormation's
        # QueueConfiguration: "FIFO queues are not allowed when enabling an SQS queue as
        # the event notification destination."
        if target.fifo:
            raise DeclarationError(
                f"{where}: S3 cannot send event notifications to a FIFO {kind}; declare a "
                f"standard {kind} (fifo=False) as the destination."
            )

    def matches(self, key: str) -> bool:
        return key.startswith(self.prefix) and key.endswith(self.suffix)

    def overlaps(self, other: ObjectCreatedTrigger | ObjectCreatedNotification) -> bool:
        """S3 refuses two notification configurations that can match one key."""
        from overcast.spec import key_filters_overlap

        return key_filters_overlap(self, other)


def queue_name(service: str, queue: Queue) -> str:
    """SQS's queue name: ``<service>-<queue>``, plus ``.fifo`` for a FIFO queue."""
    return f"{service}-{queue.name}{'.fifo' if queue.fifo else ''}"


def topic_name(service: str, topic: Topic) -> str:
    """SNS's topic name: ``<service>-<topic>``, plus ``.fifo`` for a FIFO topic."""
    return f"{service}-{topic.name}{'.fifo' if topic.fifo else ''}"
