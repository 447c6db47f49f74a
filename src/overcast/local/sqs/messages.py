"""SQS's JSON shapes of a message, to and from the queue port's types.

- ``MessageAttributes`` are ``{name: {"DataType", "StringValue" | "BinaryValue"}}``;
  ``BinaryValue`` is base64 text on the wire (JSON protocol's blobs).
- ``ReceiveMessage`` returns only the message attributes named in
  ``MessageAttributeNames`` ("All" or ``.*`` for every one, ``prefix.*`` for those of a
  prefix) and only the system attributes named in ``MessageSystemAttributeNames`` or the
  older ``AttributeNames`` ("All" for every one). ``MD5OfMessageAttributes`` digests the
  attributes returned, so an SDK can check what it got; it is absent when none are.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from typing import Any

from overcast.local.sqs import errors
from overcast.ports.queues import validation
from overcast.ports.queues.base import MessageAttribute, ReceivedMessage

SYSTEM_ATTRIBUTES = (
    "SenderId",
    "SentTimestamp",
    "ApproximateReceiveCount",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageDeduplicationId",
    "MessageGroupId",
)


def attributes_in(raw: Any) -> dict[str, MessageAttribute]:
    """``MessageAttributes`` of a request, as the port's attributes."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise errors.InvalidParameterValue("MessageAttributes must be a map.")
    return {str(name): _attribute(str(name), value) for name, value in raw.items()}


def _attribute(name: str, value: Any) -> MessageAttribute:
    if not isinstance(value, Mapping) or not isinstance(value.get("DataType"), str):
        raise errors.InvalidParameterValue(f"Message attribute {name!r} must have a DataType.")
    binary = value.get("BinaryValue")
    if binary is not None:
        try:
            decoded = base64.b64decode(str(binary), validate=True)
        except (binascii.Error, ValueError):
            raise errors.InvalidParameterValue(
                f"Message attribute {name!r}: BinaryValue is not base64."
            ) from None
        return MessageAttribute(value["DataType"], None, decoded)
    string = value.get("StringValue")
    return MessageAttribute(value["DataType"], None if string is None else str(string))


def attributes_out(attributes: Mapping[str, MessageAttribute]) -> dict[str, dict[str, str]]:
    rendered: dict[str, dict[str, str]] = {}
    for name, value in attributes.items():
        entry = {"DataType": value.data_type}
        if value.binary_value is not None:
            entry["BinaryValue"] = base64.b64encode(value.binary_value).decode()
        else:
            entry["StringValue"] = value.string_value or ""
        rendered[name] = entry
    return rendered


def selected_attributes(
    attributes: Mapping[str, MessageAttribute], names: Iterable[str]
) -> dict[str, MessageAttribute]:
    """The attributes ``MessageAttributeNames`` asks for."""
    wanted = list(names)
    if "All" in wanted or ".*" in wanted:
        return dict(attributes)
    prefixes = tuple(name[:-1] for name in wanted if name.endswith(".*"))
    exact = set(wanted)
    return {
        name: value
        for name, value in attributes.items()
        if name in exact or (prefixes and name.startswith(prefixes))
    }


def system_attributes(message: ReceivedMessage, names: Iterable[str]) -> dict[str, str]:
    """The system attributes ``MessageSystemAttributeNames`` (or ``AttributeNames``) asks for."""
    wanted = set(names)
    every = {
        "SenderId": message.sender_id,
        "SentTimestamp": str(message.sent_timestamp_ms),
        "ApproximateReceiveCount": str(message.receive_count),
        "ApproximateFirstReceiveTimestamp": str(message.first_receive_timestamp_ms),
        "SequenceNumber": message.sequence_number,
        "MessageDeduplicationId": message.deduplication_id,
        "MessageGroupId": message.group_id,
    }
    return {
        name: value
        for name, value in every.items()
        if value is not None and ("All" in wanted or name in wanted)
    }


def received(
    message: ReceivedMessage, attribute_names: Iterable[str], system_names: Iterable[str]
) -> dict[str, Any]:
    """One message of ``ReceiveMessage``'s ``Messages``."""
    rendered: dict[str, Any] = {
        "MessageId": message.message_id,
        "ReceiptHandle": message.receipt_handle,
        "MD5OfBody": message.md5_of_body,
        "Body": message.body,
    }
    system = system_attributes(message, system_names)
    if system:
        rendered["Attributes"] = system
    chosen = selected_attributes(message.attributes, attribute_names)
    if chosen:
        rendered["MD5OfMessageAttributes"] = validation.md5_of_attributes(chosen)
        rendered["MessageAttributes"] = attributes_out(chosen)
    return rendered


def entry_size(entry: Mapping[str, Any]) -> int:
    """The bytes a batch entry counts towards its batch's size, whether it is valid or
    not: its body, and its attributes' names, types and values (SQS's message size)."""
    size = _text_size(entry.get("MessageBody"))
    raw = entry.get("MessageAttributes")
    for name, value in raw.items() if isinstance(raw, Mapping) else ():
        size += _text_size(name)
        if isinstance(value, Mapping):
            size += _text_size(value.get("DataType")) + _text_size(value.get("StringValue"))
            binary = value.get("BinaryValue")
            size += len(binary) * 3 // 4 if isinstance(binary, str) else 0  # base64's payload
    return size


def _text_size(value: Any) -> int:
    return len(value.encode()) if isinstance(value, str) else 0
