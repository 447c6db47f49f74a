"""What a stream dispatcher reads: a table's change log, local or in DynamoDB Streams.

:class:`ChangeLog` is the little a dispatcher needs of a stream: the records after its
checkpoint, a way to drop old ones, and the stream's label. Two kinds satisfy it:

- a local table (:class:`~overcast.ports.tables.sqlite.SqliteTable`), whose change log
  is written in the same transaction as each change; its ARN is made up as DynamoDB's
  would be, ``arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>``;
- a table in a DynamoDB endpoint
  (:class:`~overcast.ports.tables.dynamodb_stream.DynamoDbStream`), whose records
  DynamoDB Streams keeps; its ARN is the stream's own ``LatestStreamArn``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from overcast.ports.tables.stream import ChangeRecord


class ChangeLog(Protocol):
    """A table's ordered change records (a stream with one shard, as far as readers see)."""

    def stream_records(self, after: int = 0, limit: int = 1000) -> list[ChangeRecord]:
        """Up to ``limit`` records with a sequence number above ``after``, in order."""
        ...

    def trim_stream(self, before: float) -> int:
        """Drop records created before ``before`` (epoch seconds); how many went."""
        ...

    def stream_label(self) -> str:
        """The stream's label, as in its ARN."""
        ...


@dataclass(frozen=True)
class RemoteStreams:
    """Boto3 clients of the DynamoDB endpoint holding the tables: ``dynamodb`` names each
    table's stream, ``streams`` (``dynamodbstreams``) reads it."""

    dynamodb: Any
    streams: Any
