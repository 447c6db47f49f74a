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
  the shard, else at the shard's ``TRIM_HORIZON`` (its oldest record; also when the
  checkpoint's records were trimmed: ``TrimmedDataAccessException``);
- ``GetRecords`` reads on. DynamoDB: "If there are no stream records available in the
  portion of the shard that the iterator points to, GetRecords returns an empty list.
  Note that it might take multiple calls to get to a portion of the shard that contains
  stream records." So a reader keeps each shard's ``NextShardIterator`` (and the records
  it read but was not yet asked past) from one call to the next, as Lambda's poller
  does, and only starts the shard again when the iterator expired
  (``ExpiredIteratorException``: "a shard iterator expires 15 minutes after it is
  retrieved"), when it failed, or when it is asked for records before those it holds
  (the dispatcher retries from an older checkpoint). An open shard's empty pages are
  followed a few at a time in the first call of a new iterator
  (``EMPTY_PAGES_PER_CALL``), then one ``GetRecords`` per call (DynamoDB Streams allows
  about five per second per shard); a closed shard is read until it gives no
  ``NextShardIterator``, and its child is not read before that.

The stream is found once (``DescribeTable``) and named again when it is gone
(``ResourceNotFoundException``) or replaced: ``DescribeStream`` answers with another
label (moto, for a recreated table) or a ``DISABLED`` stream whose records are all read
(DynamoDB keeps a deleted table's stream readable for 24 hours). A call that finds the
stream replaced returns no records: the caller learns the new :meth:`stream_arn` first,
as a checkpoint of the old stream is no position in the new one.

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
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from overcast.ports.tables.dynamodb_values import from_attributes
from overcast.ports.tables.exceptions import TableUnavailable
from overcast.ports.tables.stream import Change, ChangeRecord, EventName

# Reads of one shard per call, at most: a closed shard may answer empty pages.
MAX_READS = 20
# Empty pages of an open shard followed in the first call of a new iterator.
EMPTY_PAGES_PER_CALL = 3
# GetRecords returns at most 1000 records (DynamoDB's limit).
MAX_PAGE = 1000


@dataclass
class ShardCursor:
    """Where a reader is in one shard: the records after ``base`` are ``buffer`` (read,
    not yet asked past), then what ``iterator`` reads (``None``: the closed shard is
    read to its end)."""

    base: int
    iterator: str | None
    buffer: list[ChangeRecord] = field(default_factory=list)
    settled: bool = False  # past its first call: one GetRecords per call on an open shard

    def advance(self, after: int) -> None:
        """Forget the records up to ``after`` (at or beyond ``base``)."""
        self.buffer = [record for record in self.buffer if record.sequence > after]
        self.base = after


class DynamoDbStream:
    """The stream of the DynamoDB table ``table_name``, read through ``streams`` (a boto3
    ``dynamodbstreams`` client) after ``dynamodb`` (a boto3 ``dynamodb`` client) names it.

    A reader keeps its place in each shard: give each consumer its own."""

    def __init__(self, table_name: str, dynamodb: Any, streams: Any) -> None:
        self.table_name = table_name
        self._dynamodb = dynamodb
        self._streams = streams
        self._described: Mapping[str, Any] | None = None
        self._cursors: dict[str, ShardCursor] = {}

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
        """Up to ``limit`` records with a sequence number above ``after``, in order;
        none if the stream was replaced (see :meth:`stream_arn`)."""
        try:
            return self._records(after, limit)
        except ClientError as exc:
            if _code(exc) == "ResourceNotFoundException":
                self._forget()
            raise TableUnavailable(f"The stream of {self.table_name!r}: {exc}") from exc
        except BotoCoreError as exc:
            raise TableUnavailable(f"The stream of {self.table_name!r}: {exc}") from exc

    def _records(self, after: int, limit: int) -> list[ChangeRecord]:
        arn = self.stream_arn()
        description = self._streams.describe_stream(StreamArn=arn)["StreamDescription"]
        if description.get("StreamLabel", self.stream_label()) != self.stream_label():
            self._forget()  # moto: the table was recreated under the same name
            return []
        shards = lineage_order(list(self._shards(description)))
        self._cursors = {k: v for k, v in self._cursors.items() if k in _ids(shards)}
        found: list[ChangeRecord] = []
        for shard in shards:
            end = shard["SequenceNumberRange"].get("EndingSequenceNumber")
            if end is not None and int(end) <= after:
                self._cursors.pop(shard["ShardId"], None)
                continue
            cursor = self._read_shard(shard, after, limit - len(found), closed=end is not None)
            found += cursor.buffer[: limit - len(found)]
            if len(found) >= limit or (end is not None and cursor.iterator is not None):
                break  # a child is read only after its parent's last record
        if not found and description.get("StreamStatus") == "DISABLED":
            self._forget()  # read to its end: the table may have a new stream
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

    def _forget(self) -> None:
        self._described = None
        self._cursors.clear()

    def _shards(self, description: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        while True:
            yield from description.get("Shards", [])
            last = description.get("LastEvaluatedShardId")
            if not last:
                return
            request = {"StreamArn": self.stream_arn(), "ExclusiveStartShardId": last}
            description = self._streams.describe_stream(**request)["StreamDescription"]

    def _read_shard(
        self, shard: Mapping[str, Any], after: int, limit: int, *, closed: bool
    ) -> ShardCursor:
        """The shard's cursor, advanced to ``after`` and read on until it holds ``limit``
        records or has nothing more to give now."""
        cursor = self._cursor(shard, after)
        empty_pages, bound = 0, 1 if cursor.settled else EMPTY_PAGES_PER_CALL
        for _ in range(MAX_READS):
            if cursor.iterator is None or len(cursor.buffer) >= limit:
                break
            records = self._next_page(shard, cursor, after, limit - len(cursor.buffer))
            if records is None:
                continue  # the iterator expired and was made again
            empty_pages += 0 if records else 1
            # An open shard: one page with records, or a few empty ones, per call.
            if not closed and (records or empty_pages >= bound):
                break
        cursor.settled = True
        return cursor

    def _cursor(self, shard: Mapping[str, Any], after: int) -> ShardCursor:
        cursor = self._cursors.get(shard["ShardId"])
        if cursor is None or after < cursor.base:  # new, or asked again from further back
            cursor = ShardCursor(base=after, iterator=self._iterator(shard, after))
            self._cursors[shard["ShardId"]] = cursor
        cursor.advance(after)
        return cursor

    def _next_page(
        self, shard: Mapping[str, Any], cursor: ShardCursor, after: int, limit: int
    ) -> list[ChangeRecord] | None:
        """The next page's records, kept in the cursor; ``None`` if the iterator expired."""
        try:
            page = self._streams.get_records(
                ShardIterator=cursor.iterator, Limit=min(MAX_PAGE, limit)
            )
        except ClientError as exc:
            if _code(exc) != "ExpiredIteratorException":
                self._cursors.pop(shard["ShardId"], None)  # made again at the next call
                raise
            # DynamoDB: "A shard iterator expires 15 minutes after it is retrieved".
            cursor.buffer, cursor.iterator = [], self._iterator(shard, after)
            cursor.base, cursor.settled = after, False
            return None
        records = list(map(change_record, page.get("Records", [])))
        cursor.buffer += [record for record in records if record.sequence > after]
        cursor.iterator = page.get("NextShardIterator")
        return records

    def _iterator(self, shard: Mapping[str, Any], after: int) -> str | None:
        start = int(shard["SequenceNumberRange"]["StartingSequenceNumber"])
        position: dict[str, str] = {"ShardIteratorType": "TRIM_HORIZON"}
        if after >= start:
            position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": str(after)}
        request = {"StreamArn": self.stream_arn(), "ShardId": shard["ShardId"]}
        try:
            answer = self._streams.get_shard_iterator(**request, **position)
        except ClientError as exc:
            if _code(exc) != "TrimmedDataAccessException":
                raise
            # The checkpoint's records are gone (older than 24 hours): read what is left.
            answer = self._streams.get_shard_iterator(**request, ShardIteratorType="TRIM_HORIZON")
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


def _ids(shards: list[Mapping[str, Any]]) -> set[str]:
    return {shard["ShardId"] for shard in shards}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
