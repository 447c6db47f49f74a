"""The DynamoDB Streams reader against a scripted ``dynamodbstreams`` client: it keeps
each shard's iterator between calls, follows empty pages, and starts a shard again only
when its iterator expired or it is asked from further back."""

from __future__ import annotations

from collections import deque
from typing import Any

from botocore.exceptions import ClientError

from overcast.ports.tables.dynamodb_stream import EMPTY_PAGES_PER_CALL, DynamoDbStream

ARN = "arn:aws:dynamodb:us-east-1:1:table/blog-blog/stream/2026-01-01T00:00:00.000"
START = 100000000000000000000
SHARD = {"ShardId": "shard-1", "SequenceNumberRange": {"StartingSequenceNumber": str(START)}}


class FakeDynamoDb:
    def __init__(self) -> None:
        self.described = 0

    def describe_table(self, TableName: str) -> dict[str, Any]:
        self.described += 1
        label = ARN.rpartition("/")[2]
        return {"Table": {"LatestStreamArn": ARN, "LatestStreamLabel": label}}


def record(sequence: int) -> dict[str, Any]:
    keys = {"pk": {"S": f"item-{sequence - START}"}}
    body = {"SequenceNumber": str(sequence), "Keys": keys, "ApproximateCreationDateTime": 1.0}
    return {"eventName": "INSERT", "dynamodb": body}


class ScriptedStreams:
    """An open shard whose pages are scripted: each GetRecords answers the next page (a
    list of sequence numbers, or an error code to raise); after the script, empty pages."""

    def __init__(self, *pages: list[int] | str) -> None:
        self.pages: deque[list[int] | str] = deque(pages)
        self.iterators_made: list[dict[str, str]] = []
        self.reads: list[str] = []

    def describe_stream(self, StreamArn: str, **_: Any) -> dict[str, Any]:
        label = ARN.rpartition("/")[2]
        return {"StreamDescription": {"StreamLabel": label, "Shards": [SHARD]}}

    def get_shard_iterator(self, **request: str) -> dict[str, Any]:
        self.iterators_made.append(request)
        return {"ShardIterator": f"it-{len(self.iterators_made)}-0"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        self.reads.append(ShardIterator)
        page = self.pages.popleft() if self.pages else []
        if isinstance(page, str):
            error = {"Error": {"Code": page, "Message": page}}
            raise ClientError(error, "GetRecords")  # type: ignore[arg-type]
        if len(page) > Limit:  # GetRecords answers at most Limit records
            page, rest = page[:Limit], page[Limit:]
            self.pages.appendleft(rest)
        made, step = ShardIterator.rsplit("-", 1)
        return {
            "Records": [record(s) for s in page],
            "NextShardIterator": f"{made}-{int(step) + 1}",
        }


def reader(streams: ScriptedStreams) -> DynamoDbStream:
    return DynamoDbStream("blog-blog", FakeDynamoDb(), streams)


def keys(records: list[Any]) -> list[str]:
    return [each.change.keys["pk"] for each in records]


def test_records_behind_empty_pages_of_an_open_shard_are_reached() -> None:
    # Given an open shard whose first pages are empty, more than one call follows
    empties: list[list[int] | str] = [[] for _ in range(EMPTY_PAGES_PER_CALL + 2)]
    streams = ScriptedStreams(*empties, [START + 1, START + 2])
    stream = reader(streams)

    # When a poller calls again and again from the same checkpoint
    found = [stream.stream_records(after=0) for _ in range(4)]

    # Then the records arrive, and the shard's iterator was made once and followed
    assert [keys(each) for each in found] == [[], [], [], ["item-1", "item-2"]]
    assert len(streams.iterators_made) == 1
    assert streams.reads == [f"it-1-{step}" for step in range(len(streams.reads))]


def test_a_record_is_read_once_and_later_calls_continue_where_the_iterator_stopped() -> None:
    streams = ScriptedStreams([START + 1, START + 2, START + 3], [], [START + 4])
    stream = reader(streams)

    first = stream.stream_records(after=0, limit=2)
    rest = stream.stream_records(after=first[-1].sequence)
    idle = stream.stream_records(after=rest[-1].sequence)
    last = stream.stream_records(after=rest[-1].sequence)

    assert (keys(first), keys(rest), keys(idle), keys(last)) == (
        ["item-1", "item-2"],
        ["item-3"],
        [],
        ["item-4"],
    )
    assert len(streams.iterators_made) == 1


def test_records_not_yet_checkpointed_are_given_again() -> None:
    # Given a reader whose caller did not move its checkpoint (a batching window waits)
    streams = ScriptedStreams([START + 1], [START + 2])
    stream = reader(streams)
    first = stream.stream_records(after=0)
    # When it asks again from the same checkpoint
    again = stream.stream_records(after=0)
    # Then the unconsumed record comes first, then the next page's, from one iterator
    assert keys(first) == ["item-1"]
    assert keys(again) == ["item-1", "item-2"]
    assert keys(stream.stream_records(after=0, limit=1)) == ["item-1"]
    assert len(streams.iterators_made) == 1


def test_an_expired_iterator_is_made_again_from_the_checkpoint() -> None:
    # Given a reader that read a record, whose iterator then expired (15 minutes)
    streams = ScriptedStreams([START + 1], "ExpiredIteratorException", [START + 2])
    stream = reader(streams)
    first = stream.stream_records(after=0)

    # When it reads after that record
    then = stream.stream_records(after=first[-1].sequence)

    # Then it made a new iterator after the checkpoint and read on, with no error
    assert keys(then) == ["item-2"]
    assert streams.iterators_made[-1] == {
        "StreamArn": ARN,
        "ShardId": "shard-1",
        "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
        "SequenceNumber": str(START + 1),
    }
    assert len(streams.iterators_made) == 2


def test_asking_from_an_older_checkpoint_starts_the_shard_again() -> None:
    streams = ScriptedStreams([START + 1, START + 2], [], [START + 1, START + 2])
    stream = reader(streams)
    read = stream.stream_records(after=0)
    stream.stream_records(after=read[-1].sequence)

    again = stream.stream_records(after=0)

    assert keys(again) == ["item-1", "item-2"]
    assert streams.iterators_made[-1]["ShardIteratorType"] == "TRIM_HORIZON"
    assert len(streams.iterators_made) == 2


def test_another_read_error_drops_the_iterator_and_reports_the_table_unavailable() -> None:
    from overcast.ports.tables.exceptions import TableUnavailable

    streams = ScriptedStreams("InternalServerError", [START + 1])
    stream = reader(streams)
    try:
        stream.stream_records()
        raise AssertionError("expected TableUnavailable")
    except TableUnavailable:
        pass
    assert keys(stream.stream_records()) == ["item-1"]
    assert len(streams.iterators_made) == 2
