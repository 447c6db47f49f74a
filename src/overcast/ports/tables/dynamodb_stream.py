"""A table's change stream read from DynamoDB Streams, as :class:`ChangeRecord`\\ s.

The local stream dispatcher reads a change log: records after a sequence number, in
order. :class:`DynamoDbStream` gives it one over a table in any DynamoDB-compatible
endpoint (moto's server, DynamoDB Local, AWS itself), with the boto3 ``dynamodb`` and
``dynamodbstreams`` clients:

- ``DescribeTable`` gives the table's ``LatestStreamArn`` (and its label), which is
  also the ``eventSourceARN`` Lambda puts in each record;
- ``DescribeStream`` lists the stream's shards (paged by ``LastEvaluatedShardId``).
  DynamoDB: "If you read a child shard before its parent shard, you might miss data"
  — so parents are read before their children, and a closed shard (one with an
  ``EndingSequenceNumber``) whose records all lie at or before the checkpoint is
  skipped;
- ``GetShardIterator`` starts ``AFTER_SEQUENCE_NUMBER`` the checkpoint when it falls in
  the shard, else at the shard's ``TRIM_HORIZON`` (its oldest record);
- ``GetRecords`` reads on. An open shard that answers no records has nothing newer;
  a closed one is read until it gives no ``NextShardIterator``.

Records keep DynamoDB's values: the images decoded from DynamoDB JSON, ``created_at``
from ``ApproximateCreationDateTime``, and the sequence number as an ``int`` of DynamoDB's
digit string (21 to 40 digits: beyond SQLite's 64-bit integers, so the dispatcher's
store keeps checkpoints as text).

One checkpoint per trigger works while the shards form a chain (one open shard at a
time: a small table's stream, moto's single shard). Sibling shards after a split have
no order between them; Lambda keeps a checkpoint per shard, this reader does not.

:meth:`DynamoDbStream.trim_stream` does nothing: DynamoDB Streams trims itself
("data in the stream is retained for 24 hours").
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from overcast.ports.tables.dynamodb_values import from_attributes
from overcast.ports.tables.exceptions import TableUnavailable
from overcast.ports.tables.stream import Change, ChangeRecord, EventName

# Reads of one shard per call, at most: a closed shard may answer empty pages.
MAX_READS = 20
# GetRecords returns at most 1000 records (DynamoDB's limit).
MAX_PAGE = 1000


class DynamoDbStream:
    """The stream of the DynamoDB table ``table_name``, read through ``streams`` (a boto3
    ``dynamodbstreams`` client) after ``dynamodb`` (a boto3 ``dynamodb`` client) names it."""

    def __init__(self, table_name: str, dynamodb: Any, streams: Any) -> None:
        self.table_name = table_name
        self._dynamodb = dynamodb
        self._streams = streams
        self._described: Mapping[str, Any] | None = None

    def stream_arn(self) -> str:
        """The stream's ARN (``LatestStreamArn``): Lambda's ``eventSourceARN``."""
        return str(self._table()["LatestStreamArn"])

    def stream_label(self) -> str:
        """The stream's label (``LatestStreamLabel``), as in its ARN."""
        return str(self._table()["LatestStreamLabel"])

    def trim_stream(self, before: float) -> int:
        """Nothing to do: DynamoDB Streams drops records after 24 hours itself."""
        return 0

    def stream_records(self, after: int = 0, limit: int = MAX_PAGE) -> list[ChangeRecord]:
        """Up to ``limit`` records with a sequence number above ``after``, in order."""
        found: list[ChangeRecord] = []
        try:
            for shard in lineage_order(list(self._shards())):
                end = shard["SequenceNumberRange"].get("EndingSequenceNumber")
                if end is not None and int(end) <= after:
                    continue
                found += self._read_shard(shard, after, limit - len(found), closed=bool(end))
                if len(found) >= limit:
                    break
        except (ClientError, BotoCoreError) as exc:
            raise TableUnavailable(f"The stream of {self.table_name!r}: {exc}") from exc
        return found

    def _table(self) -> Mapping[str, Any]:
        if self._described is None:
            try:
                table = self._dynamodb.describe_table(TableName=self.table_name)["Table"]
            except (ClientError, BotoCoreError) as exc:
                raise TableUnavailable(f"Table {self.table_name!r}: {exc}") from exc
            if "LatestStreamArn" not in table:
                raise TableUnavailable(f"Table {self.table_name!r} has no stream enabled.")
            self._described = table
        return self._described

    def _shards(self) -> Iterator[Mapping[str, Any]]:
        request: dict[str, Any] = {"StreamArn": self.stream_arn()}
        while True:
            description = self._streams.describe_stream(**request)["StreamDescription"]
            yield from description.get("Shards", [])
            last = description.get("LastEvaluatedShardId")
            if not last:
                return
            request["ExclusiveStartShardId"] = last

    def _read_shard(
        self, shard: Mapping[str, Any], after: int, limit: int, *, closed: bool
    ) -> list[ChangeRecord]:
        iterator: str | None = self._iterator(shard, after)
        found: list[ChangeRecord] = []
        for _ in range(MAX_READS):
            if iterator is None or len(found) >= limit:
                break
            page = self._streams.get_records(
                ShardIterator=iterator, Limit=min(MAX_PAGE, limit - len(found))
            )
            records = page.get("Records", [])
            found += [each for each in map(change_record, records) if each.sequence > after]
            iterator = page.get("NextShardIterator")
            if not records and not closed:
                break  # an open shard with nothing newer
        return found[:limit]

    def _iterator(self, shard: Mapping[str, Any], after: int) -> str | None:
        start = int(shard["SequenceNumberRange"]["StartingSequenceNumber"])
        position: dict[str, str] = {"ShardIteratorType": "TRIM_HORIZON"}
        if after >= start:
            position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": str(after)}
        answer = self._streams.get_shard_iterator(
            StreamArn=self.stream_arn(), ShardId=shard["ShardId"], **position
        )
        iterator = answer.get("ShardIterator")
        return str(iterator) if iterator else None


def lineage_order(shards: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """``shards`` with each parent before its children (and, among those ready, by
    starting sequence number)."""
    known = {shard["ShardId"] for shard in shards}
    placed: set[str] = set()
    ordered: list[Mapping[str, Any]] = []
    pending = sorted(shards, key=_start)
    while pending:
        # A parent that is not listed (trimmed, or none) does not hold its child back.
        ready = [s for s in pending if s.get("ParentShardId") not in known - placed]
        ready = ready or pending
        ordered.append(ready[0])
        placed.add(ready[0]["ShardId"])
        pending.remove(ready[0])
    return ordered


def change_record(record: Mapping[str, Any]) -> ChangeRecord:
    """A ``GetRecords`` record as the port's :class:`ChangeRecord`."""
    body = record["dynamodb"]
    event: EventName = record["eventName"]
    return ChangeRecord(
        sequence=int(body["SequenceNumber"]),
        created_at=_epoch(body.get("ApproximateCreationDateTime")),
        change=Change(
            event_name=event,
            keys=from_attributes(body.get("Keys", {})),
            new_image=from_attributes(body["NewImage"]) if "NewImage" in body else None,
            old_image=from_attributes(body["OldImage"]) if "OldImage" in body else None,
        ),
    )


def _epoch(moment: Any) -> float:
    """``ApproximateCreationDateTime``: boto3 parses it to a datetime (epoch seconds on
    the wire)."""
    if isinstance(moment, datetime.datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.UTC)
        return float(moment.timestamp())
    return float(moment or 0)


def _start(shard: Mapping[str, Any]) -> int:
    return int(shard["SequenceNumberRange"]["StartingSequenceNumber"])
