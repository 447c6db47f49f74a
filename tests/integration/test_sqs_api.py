"""SQS's JSON API at the local AWS endpoint, driven by boto3 over TLS.

The topology is ``tests.fixtures.messaging_endpoint``'s: queues of service ``shop``
declared in the local messaging store, which the endpoint serves.
"""

from __future__ import annotations

import hashlib
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from overcast.local.auth.sigv4 import Credentials
from overcast.ports.queues import validation
from overcast.ports.queues.base import MessageAttribute
from tests.fixtures.aws_services import ROOT
from tests.fixtures.messaging_endpoint import MessagingCloud, messaging_cloud


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MessagingCloud]:
    with messaging_cloud(tmp_path_factory.mktemp("sqs")) as served:
        yield served


@pytest.fixture(scope="module")
def sqs(cloud: MessagingCloud) -> Any:
    return cloud.client("sqs")


def _drain(sqs: Any, url: str) -> None:
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_a_declared_queue_has_an_sqs_url_and_is_listed_by_prefix(
    cloud: MessagingCloud, sqs: Any
) -> None:
    url = sqs.get_queue_url(QueueName="shop-orders")["QueueUrl"]

    assert url == cloud.queue_url("shop-orders")
    listed = sqs.list_queues(QueueNamePrefix="shop-orders")["QueueUrls"]
    assert listed == [cloud.queue_url("shop-orders"), cloud.queue_url("shop-orders-dlq")]
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix="nothing-")


def test_create_queue_returns_a_declared_queue_and_refuses_an_undeclared_one(
    cloud: MessagingCloud, sqs: Any
) -> None:
    created = sqs.create_queue(QueueName="shop-audit", Attributes={"VisibilityTimeout": "30"})
    assert created["QueueUrl"] == cloud.queue_url("shop-audit")

    with pytest.raises(sqs.exceptions.QueueNameExists):
        sqs.create_queue(QueueName="shop-audit", Attributes={"VisibilityTimeout": "5"})
    with pytest.raises(sqs.exceptions.UnsupportedOperation, match="not declared"):
        sqs.create_queue(QueueName="made-up")


def test_send_receive_delete_round_trip_keeps_body_attributes_and_md5s(
    cloud: MessagingCloud, sqs: Any
) -> None:
    url = cloud.queue_url("shop-orders")
    attributes = {
        "kind": {"DataType": "String", "StringValue": "book"},
        "count": {"DataType": "Number", "StringValue": "3"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
    }
    body = "order #1 — €12"

    sent = sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attributes)
    received = sqs.receive_message(
        QueueUrl=url,
        MessageAttributeNames=["All"],
        MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
    )["Messages"]

    expected_attributes_md5 = validation.md5_of_attributes(
        {
            "kind": MessageAttribute("String", "book"),
            "count": MessageAttribute("Number", "3"),
            "blob": MessageAttribute("Binary", None, b"\x00\x01\xff"),
        }
    )
    assert sent["MD5OfMessageBody"] == hashlib.md5(body.encode()).hexdigest()
    assert sent["MD5OfMessageAttributes"] == expected_attributes_md5
    [message] = received
    assert message["MessageId"] == sent["MessageId"]
    assert message["Body"] == body
    assert message["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert message["MD5OfMessageAttributes"] == expected_attributes_md5
    assert message["MessageAttributes"] == attributes
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    assert set(message["Attributes"]) == {"ApproximateReceiveCount", "SentTimestamp"}
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessages"] == "0"
    assert counts["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_receive_returns_only_the_attributes_asked_for(cloud: MessagingCloud, sqs: Any) -> None:
    url = cloud.queue_url("shop-orders")
    attributes = {
        "a.one": {"DataType": "String", "StringValue": "1"},
        "b": {"DataType": "String", "StringValue": "2"},
    }
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=attributes)

    [message] = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["a.*"])["Messages"]

    assert message["MessageAttributes"] == {"a.one": attributes["a.one"]}
    assert message["MD5OfMessageAttributes"] == validation.md5_of_attributes(
        {"a.one": MessageAttribute("String", "1")}
    )
    assert "Attributes" not in message
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_queue_attributes_show_the_declaration_and_the_counts(
    cloud: MessagingCloud, sqs: Any
) -> None:
    url = cloud.queue_url("shop-orders")
    sqs.send_message(QueueUrl=url, MessageBody="visible")
    sqs.send_message(QueueUrl=url, MessageBody="delayed", DelaySeconds=600)
    sqs.send_message(QueueUrl=url, MessageBody="taken")
    sqs.receive_message(QueueUrl=url)

    found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]

    assert found["ApproximateNumberOfMessages"] == "1"
    assert found["ApproximateNumberOfMessagesNotVisible"] == "1"
    assert found["ApproximateNumberOfMessagesDelayed"] == "1"
    assert found["VisibilityTimeout"] == "30"
    assert found["QueueArn"] == "arn:aws:sqs:eu-west-1:000000000000:shop-orders"
    assert found["RedrivePolicy"] == (
        '{"deadLetterTargetArn": "arn:aws:sqs:eu-west-1:000000000000:shop-orders-dlq", '
        '"maxReceiveCount": 2}'
    )
    assert "FifoQueue" not in found
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Nonsense"])
    sqs.purge_queue(QueueUrl=url)
    emptied = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert emptied == {"ApproximateNumberOfMessages": "0"}
    with pytest.raises(sqs.exceptions.PurgeQueueInProgress):
        sqs.purge_queue(QueueUrl=url)


def test_long_polling_returns_as_soon_as_a_message_arrives(cloud: MessagingCloud, sqs: Any) -> None:
    url = cloud.queue_url("shop-big-orders")
    sender = cloud.client("sqs")
    timer = threading.Timer(0.5, lambda: sender.send_message(QueueUrl=url, MessageBody="late"))

    started = time.monotonic()
    timer.start()
    received = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10)
    elapsed = time.monotonic() - started
    timer.join()

    assert [m["Body"] for m in received["Messages"]] == ["late"]
    assert 0.4 < elapsed < 3
    _drain(sqs, url)


def test_long_polling_waits_the_whole_wait_time_when_nothing_comes(
    cloud: MessagingCloud, sqs: Any
) -> None:
    url = cloud.queue_url("shop-big-orders")
    other = cloud.client("sqs")
    results: list[float] = []

    def poll() -> None:
        started = time.monotonic()
        assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)
        results.append(time.monotonic() - started)

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.2)
    quick = time.monotonic()
    other.list_queues()  # the endpoint still answers while one call long-polls
    answered_in = time.monotonic() - quick
    poller.join()

    assert answered_in < 1
    assert 1.9 < results[0] < 4


def test_a_batch_sends_the_good_entries_and_reports_the_bad_ones(
    cloud: MessagingCloud, sqs: Any
) -> None:
    url = cloud.queue_url("shop-audit")
    _drain(sqs, url)

    sent = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "good-1", "MessageBody": "one"},
            {"Id": "bad", "MessageBody": "nul \x00 inside"},
            {"Id": "good-2", "MessageBody": "two", "DelaySeconds": 0},
        ],
    )

    assert [entry["Id"] for entry in sent["Successful"]] == ["good-1", "good-2"]
    [failure] = sent["Failed"]
    assert failure["Id"] == "bad"
    assert failure["SenderFault"] is True
    assert failure["Code"] == "InvalidParameterValue"
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in received) == ["one", "two"]
    deleted = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "a", "ReceiptHandle": received[0]["ReceiptHandle"]},
            {"Id": "b", "ReceiptHandle": "not-a-handle"},
        ],
    )
    assert [entry["Id"] for entry in deleted["Successful"]] == ["a"]
    assert [(e["Id"], e["Code"]) for e in deleted["Failed"]] == [("b", "ReceiptHandleIsInvalid")]
    with pytest.raises(sqs.exceptions.BatchEntryIdsNotDistinct):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": "x", "MessageBody": "1"}, {"Id": "x", "MessageBody": "2"}],
        )
    with pytest.raises(sqs.exceptions.TooManyEntriesInBatchRequest):
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": f"e{i}", "MessageBody": "m"} for i in range(11)]
        )


def test_changing_visibility_to_zero_makes_the_message_receivable_again(
    cloud: MessagingCloud, sqs: Any
) -> None:
    url = cloud.queue_url("shop-audit")
    _drain(sqs, url)
    sqs.send_message(QueueUrl=url, MessageBody="again")
    [first] = sqs.receive_message(QueueUrl=url, VisibilityTimeout=600)["Messages"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)

    sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0
    )

    [second] = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    assert second["MessageId"] == first["MessageId"]
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    with pytest.raises(sqs.exceptions.MessageNotInflight):
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=10
        )
    sqs.delete_message(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"])


def test_a_message_received_too_often_moves_to_the_dead_letter_queue(
    cloud: MessagingCloud, sqs: Any
) -> None:
    url, dlq = cloud.queue_url("shop-orders"), cloud.queue_url("shop-orders-dlq")
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    for _ in range(2):
        [message] = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"]
        assert message["Body"] == "poison"

    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    [dead] = sqs.receive_message(QueueUrl=dlq)["Messages"]
    assert dead["Body"] == "poison"


def test_a_fifo_queue_keeps_each_groups_order_and_deduplicates(
    cloud: MessagingCloud, sqs: Any
) -> None:
    url = cloud.queue_url("shop-ledger.fifo")
    first = [
        sqs.send_message(QueueUrl=url, MessageBody=f"a{index}", MessageGroupId="a")
        for index in range(3)
    ]
    duplicate = sqs.send_message(QueueUrl=url, MessageBody="a0", MessageGroupId="a")

    bodies = []
    while messages := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"]
    ).get("Messages"):
        [message] = messages
        assert message["Attributes"]["MessageGroupId"] == "a"
        bodies.append(message["Body"])
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    assert bodies == ["a0", "a1", "a2"]
    assert duplicate["MessageId"] == first[0]["MessageId"]  # SQS: the original's id
    with pytest.raises(ClientError, match="group"):
        sqs.send_message(QueueUrl=url, MessageBody="no group")


def test_an_unknown_queue_raises_queue_does_not_exist(cloud: MessagingCloud, sqs: Any) -> None:
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as caught:
        sqs.send_message(QueueUrl=cloud.queue_url("nope"), MessageBody="x")
    assert caught.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName="nope")


def test_unsigned_and_wrongly_signed_requests_are_refused(cloud: MessagingCloud) -> None:
    url = cloud.queue_url("shop-audit")
    forged = cloud.client("sqs", Credentials(ROOT.access_key_id, "wrong-secret"))
    unknown = cloud.client("sqs", Credentials("AKIAUNKNOWN000000000", "secret"))

    with pytest.raises(ClientError) as wrong:
        forged.send_message(QueueUrl=url, MessageBody="forged")
    with pytest.raises(ClientError) as stranger:
        unknown.send_message(QueueUrl=url, MessageBody="forged")
    unsigned = httpx.post(
        cloud.url,
        verify=ssl.create_default_context(cafile=cloud.ca),
        headers={
            "X-Amz-Target": "AmazonSQS.SendMessage",
            "Content-Type": "application/x-amz-json-1.0",
        },
        content=b'{"QueueUrl": "%s", "MessageBody": "x"}' % url.encode(),
    )

    assert wrong.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert stranger.value.response["Error"]["Code"] == "InvalidClientTokenId"
    assert unsigned.status_code == 403
    assert unsigned.headers["x-amzn-query-error"] == "MissingAuthenticationToken;Sender"
    counts = cloud.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert counts["Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_a_caller_without_permission_is_denied_and_nothing_is_sent(
    cloud: MessagingCloud, sqs: Any
) -> None:
    url = cloud.queue_url("shop-big-orders")
    _drain(sqs, url)
    stranger = cloud.client("sqs", cloud.reader_credentials())

    with pytest.raises(ClientError) as denied:
        stranger.send_message(QueueUrl=url, MessageBody="sneaky")
    with pytest.raises(ClientError) as hidden:
        stranger.get_queue_url(QueueName="nope")

    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert hidden.value.response["Error"]["Code"] == "AccessDenied"
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


@pytest.mark.parametrize(
    "wrong",
    [{"MessageGroupId": 7}, {"MessageGroupId": "g", "MessageDeduplicationId": 7}],
    ids=["group-id", "deduplication-id"],
)
def test_a_fifo_id_that_is_no_string_is_an_invalid_parameter_and_sends_nothing(
    cloud: MessagingCloud, wrong: dict[str, Any]
) -> None:
    url = cloud.queue_url("shop-ledger.fifo")
    unchecked = cloud.client("sqs", parameter_validation=False)

    with pytest.raises(ClientError) as single:
        unchecked.send_message(QueueUrl=url, MessageBody="typed", **wrong)
    with pytest.raises(ClientError) as batch:
        unchecked.send_message_batch(
            QueueUrl=url, Entries=[{"Id": "one", "MessageBody": "typed", **wrong}]
        )

    for caught in (single, batch):
        assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    counts = cloud.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert counts["Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_a_batch_too_long_counts_its_invalid_entries_too(cloud: MessagingCloud, sqs: Any) -> None:
    url = cloud.queue_url("shop-audit")
    _drain(sqs, url)
    big = "x" * (validation.MAX_MESSAGE_BYTES // 2 + 10)

    with pytest.raises(sqs.exceptions.BatchRequestTooLong):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": "valid", "MessageBody": big},
                {"Id": "invalid", "MessageBody": big + "\x00"},
            ],
        )

    assert "Messages" not in sqs.receive_message(QueueUrl=url)
