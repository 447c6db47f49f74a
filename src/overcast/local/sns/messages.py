"""SNS's ``MessageAttributes`` in the query protocol, as the topic port's attributes:
``MessageAttributes.entry.<n>.Name``, ``.Value.DataType``, ``.Value.StringValue`` or
``.Value.BinaryValue`` (base64)."""

from __future__ import annotations

import base64
import binascii

from overcast.local.sns import errors
from overcast.local.sns.query import Params, members
from overcast.ports.queues.base import MessageAttribute


def attributes_in(params: Params) -> dict[str, MessageAttribute]:
    """The message attributes of a ``Publish`` (or of one ``PublishBatch`` entry)."""
    found: dict[str, MessageAttribute] = {}
    for entry in members(params, "MessageAttributes", "entry"):
        name, kind = entry.get("Name"), entry.get("Value.DataType")
        if not name or not kind:
            raise errors.InvalidParameter(
                "Invalid parameter: MessageAttributes: each needs a Name and a DataType."
            )
        found[name] = _value(name, kind, entry)
    return found


def _value(name: str, kind: str, entry: dict[str, str]) -> MessageAttribute:
    binary = entry.get("Value.BinaryValue")
    if binary is None:
        return MessageAttribute(kind, entry.get("Value.StringValue"))
    try:
        return MessageAttribute(kind, None, base64.b64decode(binary, validate=True))
    except (binascii.Error, ValueError):
        raise errors.InvalidParameter(
            f"Invalid parameter: MessageAttributes: {name!r} BinaryValue is not base64."
        ) from None
