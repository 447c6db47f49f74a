"""IAM on every SQS call at the local AWS endpoint: a caller allowed only
``sqs:SendMessage`` sends (one message or a batch) and is refused everything else,
which changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.messaging_endpoint import MessagingCloud, messaging_cloud


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MessagingCloud]:
    with messaging_cloud(tmp_path_factory.mktemp("sqs-iam")) as served:
        yield served


@pytest.fixture(scope="module")
def sender(cloud: MessagingCloud) -> Any:
    arn = f"arn:aws:sqs:*:{cloud.aws.account_id}:shop-audit"
    return cloud.client("sqs", cloud.credentials_allowed("audit-sender", ["sqs:SendMessage"], arn))


def _refusals(sender: Any, url: str, handle: str) -> dict[str, Callable[[], Any]]:
    return {
        "ReceiveMessage": lambda: sender.receive_message(QueueUrl=url),
        "DeleteMessage": lambda: sender.delete_message(QueueUrl=url, ReceiptHandle=handle),
        "DeleteMessageBatch": lambda: sender.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": "one", "ReceiptHandle": handle}]
        ),
        "ChangeMessageVisibility": lambda: sender.change_message_visibility(
            QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0
        ),
        "PurgeQueue": lambda: sender.purge_queue(QueueUrl=url),
        "GetQueueAttributes": lambda: sender.get_queue_attributes(QueueUrl=url),
    }


def test_a_send_only_caller_sends_single_and_batch_messages(
    cloud: MessagingCloud, sender: Any
) -> None:
    url = cloud.queue_url("shop-audit")

    one = sender.send_message(QueueUrl=url, MessageBody="single")
    batch = sender.send_message_batch(QueueUrl=url, Entries=[{"Id": "b", "MessageBody": "batch"}])

    root = cloud.client("sqs")
    received = root.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in received) == ["batch", "single"]
    assert one["MessageId"] in {m["MessageId"] for m in received}
    assert [entry["Id"] for entry in batch["Successful"]] == ["b"]
    for message in received:
        root.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


@pytest.mark.parametrize(
    "operation",
    [
        "ReceiveMessage",
        "DeleteMessage",
        "DeleteMessageBatch",
        "ChangeMessageVisibility",
        "PurgeQueue",
        "GetQueueAttributes",
    ],
)
def test_a_send_only_caller_is_refused_every_other_call_and_nothing_changes(
    cloud: MessagingCloud, sender: Any, operation: str
) -> None:
    # Given a message in flight, received by a caller allowed everything
    url = cloud.queue_url("shop-audit")
    root = cloud.client("sqs")
    root.send_message(QueueUrl=url, MessageBody="guarded")
    [message] = root.receive_message(QueueUrl=url, VisibilityTimeout=600)["Messages"]

    # When the send-only caller tries the operation with its receipt handle
    with pytest.raises(ClientError) as denied:
        _refusals(sender, url, message["ReceiptHandle"])[operation]()

    # Then it is denied, and the message is still there and still in flight
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    counts = root.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessagesNotVisible"] == "1"
    assert counts["ApproximateNumberOfMessages"] == "0"
    root.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    after = root.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert after["ApproximateNumberOfMessagesNotVisible"] == "0"
