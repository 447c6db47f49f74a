"""SQS events of Lambda's exact shape, built from received messages.

Lambda's event source mapping for SQS invokes a function with ``{"Records": [...]}``,
one record per message, key for key as ``tests/events/sqs_standard.json`` and
``sqs_fifo.json`` (AWS's samples) show:

- ``messageId``, ``receiptHandle``, ``body``, ``md5OfBody`` as ReceiveMessage returns them;
- ``attributes``: the system attributes Lambda asks for, as strings —
  ``ApproximateReceiveCount``, ``SentTimestamp``, ``SenderId``,
  ``ApproximateFirstReceiveTimestamp``, and for FIFO queues ``SequenceNumber``,
  ``MessageGroupId`` and ``MessageDeduplicationId``;
- ``messageAttributes``: each user attribute as ``{"stringValue" | "binaryValue"
  (base64), "stringListValues": [], "binaryListValues": [], "dataType"}`` (the list
  values are "reserved for future use" by SQS, and always empty);
- ``md5OfMessageAttributes`` only when the message has attributes;
- ``eventSource`` ``aws:sqs``, the queue's ARN and the region.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from overcast.ports.queues.base import MessageAttribute, ReceivedMessage


@dataclass(frozen=True)
class QueueSource:
    """Where the records come from: the queue's ARN and its region."""

    arn: str
    region: str


def sqs_event(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Lambda's event for a batch of SQS records."""
    return {"Records": list(records)}


def sqs_record(message: ReceivedMessage, source: QueueSource) -> dict[str, Any]:
    """One message, as Lambda's SQS event holds it."""
    record: dict[str, Any] = {
        "messageId": message.message_id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": system_attributes(message),
        "messageAttributes": message_attributes(message.attributes),
        "md5OfBody": message.md5_of_body,
    }
    if message.attributes and message.md5_of_message_attributes is not None:
        record["md5OfMessageAttributes"] = message.md5_of_message_attributes
    record["eventSource"] = "aws:sqs"
    record["eventSourceARN"] = source.arn
    record["awsRegion"] = source.region
    return record


def system_attributes(message: ReceivedMessage) -> dict[str, str]:
    """The message's system attributes, in the order of AWS's samples."""
    attributes = {
        "ApproximateReceiveCount": str(message.receive_count),
        "SentTimestamp": str(message.sent_timestamp_ms),
    }
    if message.sequence_number is not None:
        attributes["SequenceNumber"] = message.sequence_number
    if message.group_id is not None:
        attributes["MessageGroupId"] = message.group_id
    attributes["SenderId"] = message.sender_id
    if message.deduplication_id is not None:
        attributes["MessageDeduplicationId"] = message.deduplication_id
    attributes["ApproximateFirstReceiveTimestamp"] = str(message.first_receive_timestamp_ms)
    return attributes


def message_attributes(attributes: Mapping[str, MessageAttribute]) -> dict[str, dict[str, Any]]:
    """User message attributes in the event's camel-case form (binary values in base64)."""
    return {name: _attribute(value) for name, value in attributes.items()}


def _attribute(attribute: MessageAttribute) -> dict[str, Any]:
    shaped: dict[str, Any] = {}
    if attribute.string_value is not None:
        shaped["stringValue"] = attribute.string_value
    if attribute.binary_value is not None:
        shaped["binaryValue"] = base64.b64encode(attribute.binary_value).decode("ascii")
    shaped["stringListValues"] = []
    shaped["binaryListValues"] = []
    shaped["dataType"] = attribute.data_type
    return shaped
