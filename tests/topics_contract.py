"""The topic port's contract: publish fans out to subscribed queues as SNS does.

Runners define the same ``messaging`` fixture as for :mod:`tests.queues_contract` (a
harness with :data:`tests.queues_contract.SERVICE` declared) and import these tests with
``from tests.topics_contract import *``.
"""

from __future__ import annotations

import json

import pytest

from overcast.ports.queues import MessageAttribute, ReceivedMessage
from overcast.ports.topics import InvalidPublish, TopicNotFound
from tests.queues_contract import (
    EVENTS,
    FOLLOW,
    LARGE,
    ORDERED,
    PAID,
    RAW,
    SERVICE,
    WRAPPED,
    Harness,
    eventually,
    queue_of,
)


def bodies(messages: list[ReceivedMessage]) -> list[str]:
    return [message.body for message in messages]


def test_a_publish_reaches_every_subscribed_queue_in_sns_envelope_or_raw(
    messaging: Harness,
) -> None:
    events = messaging.topic(SERVICE.topic_name(EVENTS))
    attributes = {"kind": MessageAttribute("String", "greeting")}

    message_id = events.publish("Hello world!", attributes, subject="Greetings")

    (wrapped,) = eventually(lambda: queue_of(messaging, WRAPPED).receive(10))
    notification = json.loads(wrapped.body)
    assert notification["Type"] == "Notification"
    assert notification["MessageId"] == message_id
    assert notification["TopicArn"] == events.arn
    assert notification["Subject"] == "Greetings"
    assert notification["Message"] == "Hello world!"
    assert notification["SignatureVersion"] == "1"
    assert notification["Timestamp"].endswith("Z")
    assert {"Signature", "SigningCertURL", "UnsubscribeURL"} <= set(notification)
    assert notification["MessageAttributes"] == {"kind": {"Type": "String", "Value": "greeting"}}
    (raw,) = eventually(lambda: queue_of(messaging, RAW).receive(10))
    assert raw.body == "Hello world!"
    assert raw.attributes == attributes


def test_the_envelope_has_no_subject_when_none_was_given(messaging: Harness) -> None:
    messaging.topic(SERVICE.topic_name(EVENTS)).publish("plain")
    (wrapped,) = eventually(lambda: queue_of(messaging, WRAPPED).receive(10))
    assert "Subject" not in json.loads(wrapped.body)


def test_an_attribute_filter_policy_lets_only_matching_messages_through(
    messaging: Harness,
) -> None:
    events = messaging.topic(SERVICE.topic_name(EVENTS))
    events.publish("small", {"size": MessageAttribute("Number", "5")})
    events.publish("big", {"size": MessageAttribute("Number", "50")})
    events.publish("unsized")

    assert len(eventually(lambda: queue_of(messaging, RAW).receive(10))) >= 1
    assert bodies(eventually(lambda: queue_of(messaging, LARGE).receive(10))) == ["big"]


def test_a_body_filter_policy_matches_nested_keys(messaging: Harness) -> None:
    events = messaging.topic(SERVICE.topic_name(EVENTS))
    events.publish(json.dumps({"order": {"state": "open"}}))
    events.publish(json.dumps({"order": {"state": "paid", "id": 7}}))
    events.publish("not json")

    (paid,) = eventually(lambda: queue_of(messaging, PAID).receive(10))
    assert json.loads(paid.body) == {"order": {"state": "paid", "id": 7}}


def test_a_fifo_topic_keeps_each_group_in_order_and_drops_duplicates(messaging: Harness) -> None:
    ordered = messaging.topic(SERVICE.topic_name(ORDERED))
    for step in ("1", "2", "3"):
        ordered.publish(f"step {step}", group_id="order-9", deduplication_id=f"d{step}")
    ordered.publish("step 1 again", group_id="order-9", deduplication_id="d1")

    follow = queue_of(messaging, FOLLOW)
    received = eventually(lambda: follow.receive(10))
    received += follow.receive(10)
    assert bodies(received) == ["step 1", "step 2", "step 3"]
    assert {message.group_id for message in received} == {"order-9"}


@pytest.mark.parametrize(
    ("topic", "options"),
    [
        (ORDERED, {"deduplication_id": "d"}),
        (ORDERED, {"group_id": "g"}),
        (EVENTS, {"subject": "line\nbreak"}),
    ],
    ids=["fifo-without-group", "fifo-without-dedup", "subject"],
)
def test_a_publish_sns_would_refuse_is_refused_and_nothing_is_delivered(
    messaging: Harness, topic: object, options: dict[str, str]
) -> None:
    name = SERVICE.topic_name(topic)  # type: ignore[arg-type]
    with pytest.raises(InvalidPublish):
        messaging.topic(name).publish("refused", **options)  # type: ignore[arg-type]
    for queue in (WRAPPED, RAW, FOLLOW):
        assert queue_of(messaging, queue).receive(10) == []


def test_an_oversize_publish_is_refused(messaging: Harness) -> None:
    with pytest.raises(InvalidPublish):
        messaging.topic(SERVICE.topic_name(EVENTS)).publish("x" * 262_145)
    assert queue_of(messaging, RAW).receive(10) == []


def test_an_unknown_topic_is_not_found(messaging: Harness) -> None:
    with pytest.raises(TopicNotFound):
        messaging.topic("shop-nowhere").publish("lost")
