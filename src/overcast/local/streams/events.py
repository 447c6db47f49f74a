"""Change records as Lambda receives them from a DynamoDB stream: ``DynamoDBStreamEvent``.

The shape is AWS's, key for key (``tests/events/dynamodb_stream.json`` is AWS's sample
and the tests compare against it)::

    {"Records": [{"eventID", "eventName", "eventVersion": "1.1",
                  "eventSource": "aws:dynamodb", "awsRegion",
                  "dynamodb": {"ApproximateCreationDateTime", "Keys", "NewImage",
                               "OldImage", "SequenceNumber", "SizeBytes",
                               "StreamViewType"},
                  "eventSourceARN"}]}

- Attribute values are typed (``{"S": ...}``, ``{"N": "..."}``, ``{"BOOL": ...}``,
  ``{"NULL": true}``, ``{"M": ...}``, ``{"L": ...}``), as in DynamoDB's wire format.
- ``NewImage`` / ``OldImage`` are present only when the view type and the event keep
  them (an INSERT has no ``OldImage``, a REMOVE no ``NewImage``).
- ``ApproximateCreationDateTime`` is epoch seconds, rounded down to the second
  (DynamoDB: "rounded down to the closest second").
- ``SequenceNumber`` is a string of digits; DynamoDB's are 21 to 40 characters long,
  so the local sequence is zero-padded to 21 digits (:func:`sequence_number`).
- ``eventID`` is a 32-hex-digit id, stable for a record, so a redelivery carries the
  same id as the first delivery.
- ``eventSourceARN`` is the stream's ARN:
  ``arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>``.
- ``SizeBytes`` approximates the record's size: the bytes of its keys and images.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from overcast import spec
from overcast.ports.tables.dynamodb_values import to_attributes
from overcast.ports.tables.stream import ChangeRecord

# DynamoDB's sequence numbers are 21 to 40 characters long.
SEQUENCE_DIGITS = 21


def sequence_number(sequence: int) -> str:
    """The local sequence as DynamoDB writes one: digits, zero-padded to 21."""
    return f"{sequence:0{SEQUENCE_DIGITS}d}"


def stream_arn(region: str, account_id: str, table_name: str, label: str) -> str:
    """The stream's ARN, as Lambda gives it in ``eventSourceARN``."""
    return f"arn:aws:dynamodb:{region}:{account_id}:table/{table_name}/stream/{label}"


@dataclass(frozen=True)
class StreamSource:
    """Where records come from: the stream's ARN, region and view type."""

    arn: str
    region: str
    view: spec.StreamView


def stream_record(record: ChangeRecord, source: StreamSource) -> dict[str, Any]:
    """One record of a ``DynamoDBStreamEvent``."""
    change = record.change
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": float(math.floor(record.created_at)),
        "Keys": to_attributes(change.keys),
    }
    if change.new_image is not None:
        body["NewImage"] = to_attributes(change.new_image)
    if change.old_image is not None:
        body["OldImage"] = to_attributes(change.old_image)
    body["SequenceNumber"] = sequence_number(record.sequence)
    body["SizeBytes"] = _size(change.keys, change.new_image, change.old_image)
    body["StreamViewType"] = source.view
    return {
        "eventID": hashlib.md5(
            f"{source.arn}/{record.sequence}".encode(), usedforsecurity=False
        ).hexdigest(),
        "eventName": change.event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": source.region,
        "dynamodb": body,
        "eventSourceARN": source.arn,
    }


def stream_event(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The event a function is invoked with: ``{"Records": [...]}``."""
    return {"Records": list(records)}


def _size(*parts: Any) -> int:
    encoded = (json.dumps(part, separators=(",", ":")) for part in parts if part is not None)
    return max(1, sum(len(text.encode()) for text in encoded))
