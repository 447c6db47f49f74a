"""Trigger declarations: functions invoked by a table's stream or by objects created in
a bucket.

- A :class:`StreamTrigger` is Lambda's event source mapping on a DynamoDB stream.
- An :class:`ObjectCreatedTrigger` is an S3 event notification whose destination is a
  function, invoked asynchronously.
- :func:`key_filters_overlap` is S3's rule against two notification configurations of
  one bucket that can match one key (a function, a topic or a queue alike).

Import these from :mod:`overcast.spec` (``spec.StreamTrigger``); this module only keeps
``spec.py`` small. Standard library only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from overcast.spec_base import DeclarationError

if TYPE_CHECKING:
    from overcast.spec import Bucket, Function, ObjectCreatedNotification, Table


@dataclass(frozen=True)
class StreamTrigger:
    """Lambda's event source mapping on a table's stream: batches of change records.

    Defaults and limits are Lambda's (``CreateEventSourceMapping`` for DynamoDB
    Streams): batch size 100 (1-10000), batching window 0-300 s, retries -1
    (until the record expires) or 0-10000, record age -1 or 60-604800 s.
    ``filter_patterns`` are Lambda's filter criteria, JSON patterns matched against
    each record (e.g. ``'{"eventName": ["INSERT"]}'``), at most 5. With ``on_failure``,
    records of batches that fail for good are kept (AWS: an on-failure destination)
    and can be listed and redriven.
    """

    table: Table
    function: Function
    batch_size: int = 100
    batching_window_seconds: float = 0
    maximum_retry_attempts: int = -1
    maximum_record_age_seconds: int = -1
    bisect_batch_on_function_error: bool = False
    report_batch_item_failures: bool = False
    filter_patterns: tuple[str, ...] = ()
    on_failure: bool = True

    def __post_init__(self) -> None:
        where = f"StreamTrigger {self.table.name!r} -> {self.function.name!r}"
        if self.table.stream is None:
            raise DeclarationError(f"{where}: table {self.table.name!r} declares no stream=.")
        if not 1 <= self.batch_size <= 10_000:
            raise DeclarationError(f"{where}: batch_size must be 1-10000, as in Lambda.")
        if not 0 <= self.batching_window_seconds <= 300:
            raise DeclarationError(f"{where}: the batching window must be 0-300 s, as in Lambda.")
        if not -1 <= self.maximum_retry_attempts <= 10_000:
            raise DeclarationError(f"{where}: maximum_retry_attempts must be -1 or 0-10000.")
        age = self.maximum_record_age_seconds
        if age != -1 and not 60 <= age <= 604_800:
            raise DeclarationError(f"{where}: maximum_record_age_seconds must be -1 or 60-604800.")
        if len(self.filter_patterns) > 5:
            raise DeclarationError(f"{where}: Lambda allows at most 5 filter patterns.")
        for pattern in self.filter_patterns:
            try:
                parsed = json.loads(pattern)
            except ValueError as exc:
                raise DeclarationError(f"{where}: filter {pattern!r} is not JSON: {exc}") from exc
            if not isinstance(parsed, dict):
                raise DeclarationError(f"{where}: filter {pattern!r} must be a JSON object.")


@dataclass(frozen=True)
class ObjectCreatedTrigger:
    """An S3 event notification: objects created in ``bucket`` whose key starts with
    ``prefix`` and ends with ``suffix`` invoke ``function`` asynchronously.

    Asynchronous invocation as Lambda runs it: up to ``maximum_retry_attempts`` (0-2,
    default 2) retries, events older than ``maximum_event_age_seconds`` (60-21600)
    dropped, then the on-failure destination. A function that writes into the same
    bucket must not match its own output: S3 would invoke it again, recursively.
    """

    bucket: Bucket
    function: Function
    prefix: str = ""
    suffix: str = ""
    maximum_retry_attempts: int = 2
    maximum_event_age_seconds: int = 21_600

    def __post_init__(self) -> None:
        where = f"ObjectCreatedTrigger {self.bucket.name!r} -> {self.function.name!r}"
        if not 0 <= self.maximum_retry_attempts <= 2:
            raise DeclarationError(f"{where}: maximum_retry_attempts must be 0-2, as in Lambda.")
        if not 60 <= self.maximum_event_age_seconds <= 21_600:
            raise DeclarationError(f"{where}: maximum_event_age_seconds must be 60-21600.")

    def matches(self, key: str) -> bool:
        return key.startswith(self.prefix) and key.endswith(self.suffix)

    def overlaps(self, other: ObjectCreatedTrigger | ObjectCreatedNotification) -> bool:
        """S3 refuses two notification configurations that can match one key."""
        return key_filters_overlap(self, other)


def key_filters_overlap(
    one: ObjectCreatedTrigger | ObjectCreatedNotification,
    other: ObjectCreatedTrigger | ObjectCreatedNotification,
) -> bool:
    """Whether two notification configurations of a bucket can match one key.

    S3 refuses such a pair for one event type, whatever their destinations (a function,
    a topic, a queue): "Notification configurations that use Filter cannot define
    filtering rules with overlapping prefixes, overlapping suffixes, or prefix and
    suffix overlapping."
    """
    prefixes = one.prefix.startswith(other.prefix) or other.prefix.startswith(one.prefix)
    suffixes = one.suffix.endswith(other.suffix) or other.suffix.endswith(one.suffix)
    return one.bucket == other.bucket and prefixes and suffixes
