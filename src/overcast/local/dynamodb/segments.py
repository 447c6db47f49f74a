"""Parallel ``Scan``: ``Segment`` and ``TotalSegments``.

Mirrored from DynamoDB ("Parallel scan", the Scan API reference):

- ``TotalSegments`` is 1 to 1,000,000; ``Segment`` is zero-based and less than
  ``TotalSegments``; each needs the other ("If you specify TotalSegments, you must also
  specify Segment", and the reverse).
- Each segment is a disjoint part of the table, and the segments together are the
  whole table: every item is read by exactly one segment. How DynamoDB assigns items to
  segments is internal (only that partitioning is promised); here an item belongs to
  segment ``h % TotalSegments``, where ``h`` is the first 8 bytes (big-endian) of the
  MD5 of its partition key's canonical text, so that every item of one partition is in
  one segment and the assignment is stable across requests and restarts.
- A segment's ``Limit`` counts the items read *in that segment* (a segment is its own
  part of the table there), so the items of other segments read past locally are not
  counted, and a page of only foreign items never ends the segment's scan early.
- "Exclusive start key must lie within the segment": DynamoDB refuses a start key of
  another segment ("The provided starting key is invalid: Invalid ExclusiveStartKey.
  Please use ExclusiveStartKey with correct Segment ...").
"""

from __future__ import annotations

import decimal
import hashlib
from dataclasses import dataclass
from typing import Any

from overcast.local.dynamodb import errors
from overcast.local.dynamodb.params import Params
from overcast.ports.tables.values import Item, is_number

MAX_TOTAL_SEGMENTS = 1_000_000


@dataclass(frozen=True)
class Segment:
    """One segment of a parallel scan, by the table's partition key ``partition_key``."""

    segment: int
    total: int
    partition_key: str

    def holds(self, item: Item) -> bool:
        """Whether ``item`` (or key) belongs to this segment."""
        return segment_of(item.get(self.partition_key), self.total) == self.segment

    def check_start(self, start: Item) -> None:
        """Refuse a start key of another segment, as DynamoDB does."""
        if not self.holds(start):
            raise errors.ValidationException(
                "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use "
                f"ExclusiveStartKey with correct Segment. TotalSegments: {self.total} "
                f"Segment: {self.segment}"
            )


def segment_of(partition_value: Any, total: int) -> int:
    """The segment (of ``total``) of the items whose partition key is ``partition_value``."""
    digest = hashlib.md5(_canonical(partition_value).encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big") % total


def _canonical(value: Any) -> str:
    # One text per DynamoDB value: numbers by value ("2" and "2.0" are one key).
    if is_number(value):
        number = decimal.Decimal(value if isinstance(value, int) else repr(value))
        return "N:" + str(number.normalize())
    return f"S:{value}"


def segment_of_request(request: Params, partition_key: str) -> Segment | None:
    """The request's segment, or ``None`` for a sequential scan; ValidationException for
    what DynamoDB refuses."""
    segment, total = request.get("Segment"), request.get("TotalSegments")
    if segment is None and total is None:
        return None
    if total is None:
        raise errors.ValidationException(
            "The TotalSegments parameter is required but was not present in the request "
            "when Segment parameter is present"
        )
    if segment is None:
        raise errors.ValidationException(
            "The Segment parameter is required but was not present in the request when "
            "parameter TotalSegments is present"
        )
    _check_bounds(int(segment), int(total))
    return Segment(int(segment), int(total), partition_key)


def _check_bounds(segment: int, total: int) -> None:
    if not 1 <= total <= MAX_TOTAL_SEGMENTS:
        bound = "greater than or equal to 1" if total < 1 else "less than or equal to 1000000"
        raise errors.ValidationException(
            f"1 validation error detected: Value '{total}' at 'totalSegments' failed to "
            f"satisfy constraint: Member must have value {bound}"
        )
    if segment < 0:
        raise errors.ValidationException(
            f"1 validation error detected: Value '{segment}' at 'segment' failed to satisfy "
            "constraint: Member must have value greater than or equal to 0"
        )
    if segment >= total:
        raise errors.ValidationException(
            "The Segment parameter is zero-based and must be less than parameter "
            f"TotalSegments: Segment: {segment} is out of bounds for TotalSegments: {total}"
        )
