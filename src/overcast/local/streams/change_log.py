"""What a stream dispatcher reads: a table's change log, local or in DynamoDB Streams.

:class:`ChangeLog` is the little a dispatcher needs of a stream: its ARN (Lambda's
``eventSourceARN``, and the identity its checkpoint is kept under), the records after
its checkpoint, and a way to drop old ones. Two kinds satisfy it:

- :class:`LocalChangeLog`, a local table's
  (:class:`~overcast.ports.tables.sqlite.SqliteTable`), whose change log is written in
  the same transaction as each change; its ARN is made up as DynamoDB's would be,
  ``arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>``, with the label
  the table's file got when it was created (a recreated file is a new stream);
- a table in a DynamoDB endpoint
  (:class:`~overcast.ports.tables.dynamodb_stream.DynamoDbStream`), whose records
  DynamoDB Streams keeps; its ARN is the stream's own ``LatestStreamArn``, looked up
  when first asked (so an endpoint that is down at start only delays the trigger).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from overcast.local.streams.events import stream_arn
from overcast.ports.tables.stream import ChangeRecord


class ChangeLog(Protocol):
    """A table's ordered change records (a stream with one shard, as far as readers see)."""

    def stream_arn(self) -> str:
        """The ARN of the stream the records come from."""
        ...

    def stream_records(self, after: int = 0, limit: int = 1000) -> list[ChangeRecord]:
        """Up to ``limit`` records with a sequence number above ``after``, in order."""
        ...

    def trim_stream(self, before: float) -> int:
        """Drop records created before ``before`` (epoch seconds); how many went."""
        ...


class LocalTable(Protocol):
    """A local table with a change log (SQLite's, or the in-memory one)."""

    def stream_records(self, after: int = 0, limit: int = 1000) -> list[ChangeRecord]: ...

    def trim_stream(self, before: float) -> int: ...

    def stream_label(self) -> str: ...


class LocalChangeLog:
    """The change log of ``table`` (physical name ``table_name``), with its made-up ARN."""

    def __init__(self, table: LocalTable, *, region: str, account_id: str, table_name: str):
        self.table = table
        self._region = region
        self._account_id = account_id
        self._table_name = table_name
        self._arn: str | None = None

    def stream_arn(self) -> str:
        if self._arn is None:  # the label of an open table's file does not change
            label = self.table.stream_label()
            self._arn = stream_arn(self._region, self._account_id, self._table_name, label)
        return self._arn

    def stream_records(self, after: int = 0, limit: int = 1000) -> list[ChangeRecord]:
        return self.table.stream_records(after, limit)

    def trim_stream(self, before: float) -> int:
        return self.table.trim_stream(before)


@dataclass(frozen=True)
class RemoteStreams:
    """Boto3 clients of the DynamoDB endpoint holding the tables: ``dynamodb`` names each
    table's stream, ``streams`` (``dynamodbstreams``) reads it."""

    dynamodb: Any
    streams: Any
