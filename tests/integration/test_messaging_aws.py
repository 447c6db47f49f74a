"""The SQS queue and SNS topic adapters pass the queue and topic contracts against moto,
and map SQS's and SNS's answers (batch entry failures, errors) onto the port.

moto runs in-process (``mock_aws``), fresh for each test; the contract's service is
created through boto3 as the deployer creates it on AWS (redrive policies, FIFO
attributes, subscriptions with filter policies and raw delivery). Time is real here,
so contract tests that need minutes of it skip themselves; cases moto does not
implement as SQS or SNS do are skipped below with the reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from overcast import spec
from overcast.ports.queues import (
    InvalidMessage,
    MessageAttribute,
    MessageQueue,
    OutgoingMessage,
    QueueNotFound,
    QueueUnavailable,
    ReceiptHandleInvalid,
)
from overcast.ports.queues.sqs import SqsQueue, queue_arn
from overcast.ports.queues.validation import md5_of_attributes, md5_of_body
from overcast.ports.topics import MessageTopic, TopicNotFound
from overcast.ports.topics.sns import SnsTopic
from overcast.runtime.adapters import open_queue, open_topic
from overcast.runtime.config import RuntimeConfig, resource_variable
from tests.queues_contract import *  # noqa: F403  (the contract's tests run here)
from tests.queues_contract import EVENTS, ORDERS, SERVICE
from tests.topics_contract import *  # noqa: F403

REGION, ACCOUNT = "us-east-1", "123456789012"
_SKIPPED = {
    "test_fifo_sequence_numbers_grow": "moto draws FIFO sequence numbers at random",
    "test_a_fifo_duplicate_is_accepted_but_stored_once": (
        "moto answers a deduplicated send with a new MessageId"
    ),
    "test_deleting_with_an_old_receipt_handle_succeeds": (
        "sleeps 31 s of real time here (the queue's visibility timeout); the receipt handle "
        "errors are checked below"
    ),
    "test_a_publish_reaches_every_subscribed_queue_in_sns_envelope_or_raw": (
        "moto signs SNS envelopes with SignatureVersion 2 only (no SHA1 certificates)"
    ),
}


@pytest.fixture(autouse=True)
def _skip_where_moto_differs(request: pytest.FixtureRequest) -> None:
    name = getattr(request.node, "originalname", request.node.name)
    if name in _SKIPPED:
        pytest.skip(_SKIPPED[name])


class MotoHarness:
    """The contract's service created in moto's SQS and SNS; adapters by physical name."""

    fast_clock = False

    def __init__(self, sqs: Any, sns: Any) -> None:
        self.sqs, self.sns = sqs, sns

    def declare(self, service: spec.Service) -> None:
        created: set[str] = set()
        for queue in service.queues:
            self._create_queue(service, queue, created)
        for topic in service.topics:
            attributes = {"FifoTopic": "true"} if topic.fifo else {}
            if topic.content_based_deduplication:
                attributes["ContentBasedDeduplication"] = "true"
            self.sns.create_topic(Name=service.topic_name(topic), Attributes=attributes)
        for subscription in service.subscriptions:
            self.sns.subscribe(
                TopicArn=self.topic(service.topic_name(subscription.topic)).arn,
                Protocol="sqs",
                Endpoint=self.queue(service.queue_name(subscription.queue)).arn,
                Attributes=_subscription_attributes(subscription),
            )

    def queue(self, name: str) -> MessageQueue:
        return SqsQueue(f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}", self.sqs)

    def topic(self, name: str) -> MessageTopic:
        return SnsTopic(f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}", self.sns)

    def advance(self, seconds: float) -> None:
        time.sleep(seconds)

    def _create_queue(self, service: spec.Service, queue: spec.Queue, created: set[str]) -> None:
        if queue.name in created:
            return
        attributes = {
            "VisibilityTimeout": str(queue.visibility_timeout_seconds),
            "DelaySeconds": str(queue.delay_seconds),
            "MessageRetentionPeriod": str(queue.retention_seconds),
        }
        if queue.fifo:
            attributes["FifoQueue"] = "true"
        if queue.content_based_deduplication:
            attributes["ContentBasedDeduplication"] = "true"
        if queue.dead_letter is not None:
            self._create_queue(service, queue.dead_letter.queue, created)
            target = self.queue(service.queue_name(queue.dead_letter.queue)).arn
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": target,
                    "maxReceiveCount": queue.dead_letter.max_receive_count,
                }
            )
        self.sqs.create_queue(QueueName=service.queue_name(queue), Attributes=attributes)
        created.add(queue.name)


def _subscription_attributes(subscription: spec.Subscription) -> dict[str, str]:
    attributes = {"RawMessageDelivery": str(subscription.raw_message_delivery).lower()}
    if subscription.filter_policy is not None:
        attributes["FilterPolicy"] = subscription.filter_policy
        attributes["FilterPolicyScope"] = subscription.filter_policy_scope
    return attributes


@pytest.fixture
def moto() -> Iterator[MotoHarness]:
    with mock_aws():
        harness = MotoHarness(
            boto3.client("sqs", region_name=REGION), boto3.client("sns", region_name=REGION)
        )
        yield harness


@pytest.fixture
def messaging(moto: MotoHarness) -> MotoHarness:
    moto.declare(SERVICE)
    return moto


def orders(messaging: MotoHarness) -> MessageQueue:
    return messaging.queue(SERVICE.queue_name(ORDERS))


# --- what the adapters add to the contract ------------------------------------------


def test_the_queue_arn_comes_from_its_url_and_the_clients_region(messaging: MotoHarness) -> None:
    url = messaging.sqs.get_queue_url(QueueName="shop-orders")["QueueUrl"]
    arn = messaging.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    queue = SqsQueue(url, messaging.sqs)
    assert queue.arn == arn["Attributes"]["QueueArn"]
    assert queue.name == "shop-orders"
    with pytest.raises(ValueError, match="not an SQS queue URL"):
        queue_arn("https://sqs.us-east-1.amazonaws.com/shop-orders", REGION)


def test_a_function_on_aws_opens_its_queue_by_url_and_its_topic_by_arn(
    messaging: MotoHarness,
) -> None:
    url = messaging.sqs.get_queue_url(QueueName="shop-orders")["QueueUrl"]
    arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:shop-events"
    config = RuntimeConfig(
        service="shop",
        backend="aws",
        region=REGION,
        resources={
            resource_variable("QUEUE", "orders"): url,
            resource_variable("TOPIC", "events"): arn,
        },
    )
    queue, topic = open_queue(ORDERS, config), open_topic(EVENTS, config)
    assert isinstance(queue, SqsQueue)
    assert queue.url == url
    assert isinstance(topic, SnsTopic)
    assert topic.arn == arn
    queue.send(OutgoingMessage("through the function's adapter"))
    assert [m.body for m in orders(messaging).receive(1)] == ["through the function's adapter"]


def test_received_digests_are_sqs_own_and_match_the_local_ones(messaging: MotoHarness) -> None:
    attributes = {
        "kind": MessageAttribute("String", "order"),
        "blob": MessageAttribute("Binary", binary_value=b"\x00\x01\xff"),
    }
    orders(messaging).send(OutgoingMessage("Test message.", attributes))
    (received,) = orders(messaging).receive(1)
    assert received.md5_of_body == md5_of_body("Test message.")
    assert received.md5_of_message_attributes == md5_of_attributes(attributes)
    assert received.sender_id
    assert received.first_receive_timestamp_ms >= received.sent_timestamp_ms > 0


def test_a_refused_batch_entry_raises_and_names_what_was_sent_anyway() -> None:
    # SQS answers SendMessageBatch entry by entry; the port's checks never let a bad
    # entry through, so a client that reports a failed entry stands in for SQS here
    client = _AnsweringClient(
        {
            "Successful": [{"Id": "0", "MessageId": "m-0"}],
            "Failed": [
                {"Id": "1", "SenderFault": True, "Code": "InvalidMessageContents", "Message": "x"}
            ],
        }
    )
    queue = SqsQueue(f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/shop-orders", client)
    with pytest.raises(InvalidMessage, match=r"entries \[1\] were refused.*sent anyway: \[0\]"):
        queue.send_batch([OutgoingMessage("a"), OutgoingMessage("b")])


def test_a_server_side_batch_failure_is_unavailability() -> None:
    client = _AnsweringClient(
        {"Successful": [], "Failed": [{"Id": "0", "SenderFault": False, "Code": "InternalError"}]}
    )
    queue = SqsQueue(f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/shop-orders", client)
    with pytest.raises(QueueUnavailable):
        queue.send_batch([OutgoingMessage("a"), OutgoingMessage("b")])


def test_sqs_errors_become_the_ports_own(messaging: MotoHarness) -> None:
    queue = orders(messaging)
    queue.send(OutgoingMessage("gone"))
    (received,) = queue.receive(1)
    queue.delete(received.receipt_handle)
    # SQS: the receipt handle of a deleted message no longer changes its visibility
    with pytest.raises(ReceiptHandleInvalid):
        queue.change_visibility(received.receipt_handle, 0)
    with pytest.raises(QueueNotFound):
        messaging.queue("shop-nowhere").receive(1)
    with pytest.raises(TopicNotFound):
        messaging.topic("shop-nowhere").publish("lost")


def test_an_unreachable_endpoint_is_unavailability() -> None:
    from botocore.config import Config

    client = boto3.client(
        "sqs",
        region_name=REGION,
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}, connect_timeout=0.5),
    )
    queue = SqsQueue(f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/shop-orders", client)
    with pytest.raises(QueueUnavailable):
        queue.send(OutgoingMessage("lost"))


def test_a_topic_arn_is_required() -> None:
    with pytest.raises(ValueError, match="not an SNS topic ARN"):
        SnsTopic("shop-events", object())


class _AnsweringClient:
    """An SQS client that answers every batch send with ``answer``."""

    class meta:
        region_name = REGION

    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer

    def send_message_batch(self, **request: Any) -> dict[str, Any]:
        return self.answer
