"""The queue port over Amazon SQS (boto3), for functions deployed to AWS.

The function learns its queue's URL (``OVERCAST_RESOURCE_QUEUE_<NAME>``); the ARN is
derived from it (``https://sqs.<region>.amazonaws.com/<account>/<name>``) and the
client's region. SQS itself enforces what the port's base does not check ahead.

- ``send`` is ``SendMessage``; ``send_batch`` is ``SendMessageBatch``. SQS may accept
  some entries of a batch and refuse others ("the result of sending each message is
  reported individually"): a refused entry raises the port's error for it, naming the
  entries that were sent anyway.
- ``receive`` is ``ReceiveMessage`` asking for every system attribute
  (``MessageSystemAttributeNames=["All"]``: receive count, timestamps, sender, FIFO
  group, deduplication id and sequence number) and every message attribute. SQS's
  ``WaitTimeSeconds`` is whole seconds: a fractional wait is rounded up.
- ``delete`` / ``delete_batch`` / ``change_visibility`` are ``DeleteMessage``,
  ``DeleteMessageBatch`` and ``ChangeMessageVisibility``.

Errors (botocore's ``ClientError`` codes, with or without the ``AWS.SimpleQueueService.``
prefix SQS's query-compatible JSON protocol uses) become the port's exceptions:
unknown queue → :class:`QueueNotFound`, bad receipt handle → :class:`ReceiptHandleInvalid`,
``MessageNotInflight`` → :class:`MessageNotInflight`, a refused message or parameter →
:class:`InvalidMessage`, anything else (throttling, network, 5xx) → :class:`QueueUnavailable`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlparse

from botocore.exceptions import BotoCoreError, ClientError

from overcast.ports.queues.base import (
    MAX_WAIT_SECONDS,
    MessageAttribute,
    MessageQueue,
    OutgoingMessage,
    ReceivedMessage,
)
from overcast.ports.queues.exceptions import (
    InvalidMessage,
    MessageNotInflight,
    QueueError,
    QueueNotFound,
    QueueUnavailable,
    ReceiptHandleInvalid,
    TooManyEntries,
)

_PREFIX = "AWS.SimpleQueueService."
_ERRORS: dict[str, type[QueueError]] = {
    "NonExistentQueue": QueueNotFound,
    "QueueDoesNotExist": QueueNotFound,
    "ReceiptHandleIsInvalid": ReceiptHandleInvalid,
    "InvalidReceiptHandle": ReceiptHandleInvalid,
    "MessageNotInflight": MessageNotInflight,
    "TooManyEntriesInBatchRequest": TooManyEntries,
    "EmptyBatchRequest": TooManyEntries,
    "InvalidMessageContents": InvalidMessage,
    "InvalidParameterValue": InvalidMessage,
    "InvalidAttributeValue": InvalidMessage,
    "InvalidAttributeName": InvalidMessage,
    "MissingParameter": InvalidMessage,
    "BatchRequestTooLong": InvalidMessage,
    "BatchEntryIdsNotDistinct": InvalidMessage,
    "UnsupportedOperation": InvalidMessage,
}
_SYSTEM_ATTRIBUTES = ("MessageGroupId", "MessageDeduplicationId", "SequenceNumber")


def queue_arn(queue_url: str, region: str) -> str:
    """The ARN of the queue at ``queue_url`` (``.../<account>/<name>``) in ``region``."""
    path = urlparse(queue_url).path.strip("/").split("/")
    if len(path) != 2:
        raise ValueError(f"{queue_url!r} is not an SQS queue URL (…/<account id>/<queue name>).")
    account, name = path
    return f"arn:aws:sqs:{region}:{account}:{name}"


class SqsQueue(MessageQueue):
    """One SQS queue, by its URL, through a boto3 SQS client."""

    def __init__(self, queue_url: str, client: Any) -> None:
        self.url = queue_url
        self.arn = queue_arn(queue_url, client.meta.region_name)
        self.name = self.arn.rsplit(":", 1)[1]
        self._client = client

    def _send(self, messages: list[OutgoingMessage]) -> list[str]:
        if len(messages) == 1:
            answer = self._call("send_message", **_send_entry(messages[0]))
            return [str(answer["MessageId"])]
        entries = [{"Id": str(index), **_send_entry(m)} for index, m in enumerate(messages)]
        answer = self._call("send_message_batch", Entries=entries)
        sent = {int(entry["Id"]): str(entry["MessageId"]) for entry in answer.get("Successful", [])}
        _raise_failed(answer.get("Failed", []), f"sent anyway: {sorted(sent)}")
        return [sent[index] for index in range(len(messages))]

    def _receive(
        self, max_messages: int, wait_seconds: float, visibility_timeout: int | None
    ) -> list[ReceivedMessage]:
        request: dict[str, Any] = {
            "MaxNumberOfMessages": max_messages,
            "WaitTimeSeconds": min(MAX_WAIT_SECONDS, math.ceil(wait_seconds)),
            "MessageSystemAttributeNames": ["All"],
            "MessageAttributeNames": ["All"],
        }
        if visibility_timeout is not None:
            request["VisibilityTimeout"] = visibility_timeout
        answer = self._call("receive_message", **request)
        return [_received(message) for message in answer.get("Messages", [])]

    def _delete(self, receipt_handle: str) -> None:
        self._call("delete_message", ReceiptHandle=receipt_handle)

    def _delete_batch(self, receipt_handles: list[str]) -> None:
        entries = [{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(receipt_handles)]
        answer = self._call("delete_message_batch", Entries=entries)
        _raise_failed(answer.get("Failed", []), "the other messages were deleted")

    def _change_visibility(self, receipt_handle: str, seconds: int) -> None:
        self._call(
            "change_message_visibility", ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )

    def _call(self, operation: str, **parameters: Any) -> Any:
        try:
            return getattr(self._client, operation)(QueueUrl=self.url, **parameters)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise _mapped(str(error.get("Code", "")), str(error.get("Message", exc))) from exc
        except BotoCoreError as exc:
            raise QueueUnavailable(f"SQS could not be reached: {exc}") from exc


def sqs_attributes(attributes: Mapping[str, MessageAttribute]) -> dict[str, dict[str, Any]]:
    """Message attributes as SQS's ``MessageAttributes`` parameter (and SNS's)."""
    shaped: dict[str, dict[str, Any]] = {}
    for name, attribute in attributes.items():
        value: dict[str, Any] = {"DataType": attribute.data_type}
        if attribute.string_value is not None:
            value["StringValue"] = attribute.string_value
        if attribute.binary_value is not None:
            value["BinaryValue"] = attribute.binary_value
        shaped[name] = value
    return shaped


def _send_entry(message: OutgoingMessage) -> dict[str, Any]:
    entry: dict[str, Any] = {"MessageBody": message.body}
    if message.attributes:
        entry["MessageAttributes"] = sqs_attributes(message.attributes)
    if message.delay_seconds is not None:
        entry["DelaySeconds"] = message.delay_seconds
    if message.group_id is not None:
        entry["MessageGroupId"] = message.group_id
    if message.deduplication_id is not None:
        entry["MessageDeduplicationId"] = message.deduplication_id
    return entry


def _received(message: Mapping[str, Any]) -> ReceivedMessage:
    system = message.get("Attributes", {})
    attributes = {
        name: MessageAttribute(
            data_type=value["DataType"],
            string_value=value.get("StringValue"),
            binary_value=value.get("BinaryValue"),
        )
        for name, value in message.get("MessageAttributes", {}).items()
    }
    group, deduplication, sequence = (system.get(name) for name in _SYSTEM_ATTRIBUTES)
    return ReceivedMessage(
        message_id=message["MessageId"],
        receipt_handle=message["ReceiptHandle"],
        body=message["Body"],
        md5_of_body=message["MD5OfBody"],
        attributes=attributes,
        md5_of_message_attributes=message.get("MD5OfMessageAttributes") if attributes else None,
        receive_count=int(system.get("ApproximateReceiveCount", 1)),
        sent_timestamp_ms=int(system.get("SentTimestamp", 0)),
        first_receive_timestamp_ms=int(system.get("ApproximateFirstReceiveTimestamp", 0)),
        sender_id=str(system.get("SenderId", "")),
        group_id=group,
        deduplication_id=deduplication,
        sequence_number=sequence,
    )


def _raise_failed(failed: Sequence[Mapping[str, Any]], others: str) -> None:
    if not failed:
        return
    first = failed[0]
    code, message = str(first.get("Code", "")), str(first.get("Message", ""))
    ids = sorted(int(entry["Id"]) for entry in failed)
    error = _mapped(code, f"batch entries {ids} were refused ({code}: {message}); {others}")
    if not first.get("SenderFault", True) and not isinstance(error, QueueUnavailable):
        error = QueueUnavailable(str(error))
    raise error


def _mapped(code: str, message: str) -> QueueError:
    kind = _ERRORS.get(code.removeprefix(_PREFIX), QueueUnavailable)
    return kind(f"SQS: {message}")
