"""SNS's query API at the local AWS endpoint, driven by boto3 over TLS: publishes fan
out to the subscribed queues (read back with boto3's SQS client) per filter policy.

The topology is ``tests.fixtures.messaging_endpoint``'s (service ``shop``).
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from overcast.local.auth.sigv4 import Credentials
from tests.fixtures.aws_services import ROOT
from tests.fixtures.messaging_endpoint import MessagingCloud, messaging_cloud

EVENTS = "arn:aws:sns:eu-west-1:000000000000:shop-events"
LEDGER = "arn:aws:sns:eu-west-1:000000000000:shop-ledger.fifo"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MessagingCloud]:
    with messaging_cloud(tmp_path_factory.mktemp("sns")) as served:
        yield served


@pytest.fixture(scope="module")
def sns(cloud: MessagingCloud) -> Any:
    return cloud.client("sns")


@pytest.fixture(scope="module")
def sqs(cloud: MessagingCloud) -> Any:
    return cloud.client("sqs")


def _take_all(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Receive and delete every message of the queue."""
    taken: list[dict[str, Any]] = []
    while messages := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages"):
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        taken += messages
    return taken


def _post(cloud: MessagingCloud, form: dict[str, str]) -> httpx.Response:
    return httpx.post(cloud.url, data=form, verify=ssl.create_default_context(cafile=cloud.ca))


def test_topics_and_subscriptions_are_listed_as_declared(sns: Any) -> None:
    topics = [topic["TopicArn"] for topic in sns.list_topics()["Topics"]]
    by_topic = sns.list_subscriptions_by_topic(TopicArn=EVENTS)["Subscriptions"]
    everything = sns.list_subscriptions()["Subscriptions"]
    attributes = sns.get_topic_attributes(TopicArn=LEDGER)["Attributes"]

    assert topics == [EVENTS, LEDGER]
    assert sorted(s["Endpoint"] for s in by_topic) == [
        "arn:aws:sqs:eu-west-1:000000000000:shop-audit",
        "arn:aws:sqs:eu-west-1:000000000000:shop-big-orders",
    ]
    assert {s["Protocol"] for s in by_topic} == {"sqs"}
    assert all(s["SubscriptionArn"].startswith(EVENTS + ":") for s in by_topic)
    assert len(everything) == 3
    assert attributes["TopicArn"] == LEDGER
    assert attributes["FifoTopic"] == "true"
    assert attributes["SubscriptionsConfirmed"] == "1"
    assert sns.create_topic(Name="shop-events")["TopicArn"] == EVENTS


def test_publish_fans_out_per_filter_policy_raw_and_enveloped(
    cloud: MessagingCloud, sns: Any, sqs: Any
) -> None:
    audit, big = cloud.queue_url("shop-audit"), cloud.queue_url("shop-big-orders")

    published = sns.publish(
        TopicArn=EVENTS,
        Message='{"order": 1}',
        Subject="New order",
        MessageAttributes={"size": {"DataType": "String", "StringValue": "big"}},
    )
    sns.publish(
        TopicArn=EVENTS,
        Message="small one",
        MessageAttributes={"size": {"DataType": "String", "StringValue": "small"}},
    )

    enveloped = [json.loads(m["Body"]) for m in _take_all(sqs, audit)]
    raw = _take_all(sqs, big)
    assert [e["Message"] for e in enveloped] == ['{"order": 1}', "small one"]
    first = enveloped[0]
    assert first["Type"] == "Notification"
    assert first["MessageId"] == published["MessageId"]
    assert first["TopicArn"] == EVENTS
    assert first["Subject"] == "New order"
    assert first["MessageAttributes"] == {"size": {"Type": "String", "Value": "big"}}
    [only] = raw
    assert only["Body"] == '{"order": 1}'
    assert only["MessageAttributes"] == {"size": {"DataType": "String", "StringValue": "big"}}


def test_a_fifo_topic_delivers_each_group_in_order(
    cloud: MessagingCloud, sns: Any, sqs: Any
) -> None:
    url = cloud.queue_url("shop-ledger.fifo")
    for index in range(3):
        sns.publish(TopicArn=LEDGER, Message=f"entry {index}", MessageGroupId="account-1")

    bodies = []
    while messages := sqs.receive_message(QueueUrl=url).get("Messages"):
        bodies.append(messages[0]["Body"])
        sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])

    assert bodies == ["entry 0", "entry 1", "entry 2"]
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.publish(TopicArn=LEDGER, Message="no group")


def test_a_publish_batch_publishes_the_good_entries_and_reports_the_bad_ones(
    cloud: MessagingCloud, sns: Any, sqs: Any
) -> None:
    audit = cloud.queue_url("shop-audit")
    _take_all(sqs, audit)

    published = sns.publish_batch(
        TopicArn=EVENTS,
        PublishBatchRequestEntries=[
            {"Id": "one", "Message": "first"},
            {"Id": "bad", "Message": "second", "Subject": "line\nbreak"},
            {
                "Id": "three",
                "Message": "third",
                "MessageAttributes": {"size": {"DataType": "String", "StringValue": "big"}},
            },
        ],
    )

    assert [e["Id"] for e in published["Successful"]] == ["one", "three"]
    [failure] = published["Failed"]
    assert (failure["Id"], failure["Code"], failure["SenderFault"]) == (
        "bad",
        "InvalidParameter",
        True,
    )
    assert [json.loads(m["Body"])["Message"] for m in _take_all(sqs, audit)] == ["first", "third"]
    assert [m["Body"] for m in _take_all(sqs, cloud.queue_url("shop-big-orders"))] == ["third"]
    with pytest.raises(sns.exceptions.BatchEntryIdsNotDistinctException):
        sns.publish_batch(
            TopicArn=EVENTS,
            PublishBatchRequestEntries=[{"Id": "x", "Message": "1"}, {"Id": "x", "Message": "2"}],
        )


def test_an_unknown_topic_raises_not_found(cloud: MessagingCloud, sns: Any) -> None:
    missing = "arn:aws:sns:eu-west-1:000000000000:nope"

    with pytest.raises(sns.exceptions.NotFoundException):
        sns.publish(TopicArn=missing, Message="x")
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.get_topic_attributes(TopicArn=missing)
    with pytest.raises(sns.exceptions.InvalidParameterException, match="not declared"):
        sns.create_topic(Name="made-up")


def test_unsigned_and_wrongly_signed_publishes_are_refused(cloud: MessagingCloud, sqs: Any) -> None:
    audit = cloud.queue_url("shop-audit")
    _take_all(sqs, audit)
    forged = cloud.client("sns", Credentials(ROOT.access_key_id, "wrong-secret"))

    with pytest.raises(ClientError) as wrong:
        forged.publish(TopicArn=EVENTS, Message="forged")
    unsigned = _post(
        cloud, {"Action": "Publish", "Version": "2010-03-31", "TopicArn": EVENTS, "Message": "x"}
    )

    assert wrong.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert unsigned.status_code == 403
    assert "<Code>MissingAuthenticationToken</Code>" in unsigned.text
    assert "sns.amazonaws.com/doc/2010-03-31" in unsigned.text
    assert _take_all(sqs, audit) == []


def test_sts_still_answers_form_posts_signed_or_not(cloud: MessagingCloud) -> None:
    sts = cloud.client("sts")

    identity = sts.get_caller_identity()
    unsigned = _post(cloud, {"Action": "GetCallerIdentity", "Version": "2011-06-15"})

    assert identity["Account"] == "000000000000"
    assert unsigned.status_code == 403
    assert "sts.amazonaws.com/doc/2011-06-15" in unsigned.text


def test_a_caller_without_permission_cannot_publish_and_nothing_is_sent(
    cloud: MessagingCloud, sqs: Any
) -> None:
    audit = cloud.queue_url("shop-audit")
    _take_all(sqs, audit)
    stranger = cloud.client("sns", cloud.reader_credentials())

    with pytest.raises(stranger.exceptions.AuthorizationErrorException):
        stranger.publish(TopicArn=EVENTS, Message="sneaky")
    with pytest.raises(stranger.exceptions.AuthorizationErrorException):
        stranger.list_topics()

    assert _take_all(sqs, audit) == []


def test_a_publish_batch_counts_message_attributes_towards_its_size(
    cloud: MessagingCloud, sns: Any, sqs: Any
) -> None:
    # Given two entries whose messages fit 256 KiB together, but not with their attributes
    message = "m" * 100 * 1024
    attributes = {"note": {"DataType": "String", "StringValue": "a" * 40 * 1024}}
    entries = [
        {"Id": f"e{index}", "Message": message, "MessageAttributes": attributes}
        for index in range(2)
    ]

    # When they are published as one batch, then the batch is refused and nothing is sent
    with pytest.raises(sns.exceptions.BatchRequestTooLongException):
        sns.publish_batch(TopicArn=EVENTS, PublishBatchRequestEntries=entries)
    assert _take_all(sqs, cloud.queue_url("shop-audit")) == []
