"""The DynamoDB Streams reader against moto: the change records a dispatcher reads."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from overcast import spec
from overcast.apps.blog.service import service as blog_service
from overcast.local.remote_tables import create_tables
from overcast.local.streams.change_log import RemoteStreams
from overcast.local.streams.store import StreamStore
from overcast.local.streams.triggers import ServiceStreams
from overcast.ports.tables.dynamodb_stream import DynamoDbStream, lineage_order

REGION = "us-east-1"


@pytest.fixture
def clients() -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        options: dict[str, Any] = {
            "region_name": REGION,
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
        # Given a stream ARN, botocore picks an account-based endpoint
        # (<account>.streams-ddb.<region>...) that mock_aws does not route: name the
        # classic one, as the local cloud names its endpoint.
        streams = boto3.client(
            "dynamodbstreams",
            endpoint_url=f"https://streams.dynamodb.{REGION}.amazonaws.com",
            **options,
        )
        yield boto3.client("dynamodb", **options), streams


def make_table(dynamodb: Any, name: str = "blog-blog", view: str = "NEW_AND_OLD_IMAGES") -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
    )


def put(dynamodb: Any, pk: str, **values: str) -> None:
    item = {"pk": {"S": pk}} | {name: {"S": value} for name, value in values.items()}
    dynamodb.put_item(TableName="blog-blog", Item=item)


def test_insert_modify_and_remove_arrive_in_order_with_the_views_images(
    clients: tuple[Any, Any],
) -> None:
    # Given a table whose stream keeps new and old images
    dynamodb, streams = clients
    make_table(dynamodb)
    stream = DynamoDbStream("blog-blog", dynamodb, streams)
    # When an item is created, changed and deleted
    put(dynamodb, "a", title="First")
    put(dynamodb, "a", title="Second")
    dynamodb.delete_item(TableName="blog-blog", Key={"pk": {"S": "a"}})
    # Then the three records come in order, each with the images its event keeps
    records = stream.stream_records()
    changes = [record.change for record in records]
    assert [change.event_name for change in changes] == ["INSERT", "MODIFY", "REMOVE"]
    assert [change.keys for change in changes] == [{"pk": "a"}] * 3
    assert [change.new_image for change in changes] == [
        {"pk": "a", "title": "First"},
        {"pk": "a", "title": "Second"},
        None,
    ]
    assert [change.old_image for change in changes] == [
        None,
        {"pk": "a", "title": "First"},
        {"pk": "a", "title": "Second"},
    ]
    sequences = [record.sequence for record in records]
    assert sequences == sorted(sequences)
    assert len(set(sequences)) == 3
    assert all(record.created_at > 1_600_000_000 for record in records)


def test_the_stream_arn_is_dynamodbs_own(clients: tuple[Any, Any]) -> None:
    dynamodb, streams = clients
    make_table(dynamodb)
    described = dynamodb.describe_table(TableName="blog-blog")["Table"]
    stream = DynamoDbStream("blog-blog", dynamodb, streams)
    assert stream.stream_arn() == described["LatestStreamArn"]
    assert stream.stream_label() == described["LatestStreamLabel"]


def test_reading_after_a_checkpoint_returns_only_newer_records_and_respects_the_limit(
    clients: tuple[Any, Any],
) -> None:
    # Given five writes
    dynamodb, streams = clients
    make_table(dynamodb)
    stream = DynamoDbStream("blog-blog", dynamodb, streams)
    for number in range(5):
        put(dynamodb, f"item-{number}")
    everything = stream.stream_records()
    # When a reader takes two, then reads after the second
    first_two = stream.stream_records(limit=2)
    rest = stream.stream_records(after=first_two[-1].sequence)
    # Then it gets exactly the other three; after the last there is nothing
    assert first_two == everything[:2]
    assert [record.change.keys["pk"] for record in rest] == ["item-2", "item-3", "item-4"]
    assert stream.stream_records(after=everything[-1].sequence) == []


def test_an_empty_stream_has_no_records_and_trimming_is_dynamodbs_own(
    clients: tuple[Any, Any],
) -> None:
    dynamodb, streams = clients
    make_table(dynamodb, view="KEYS_ONLY")
    stream = DynamoDbStream("blog-blog", dynamodb, streams)
    assert stream.stream_records() == []
    assert stream.trim_stream(before=2e9) == 0
    # A keys-only record has no images
    put(dynamodb, "k", title="t")
    (record,) = stream.stream_records()
    assert (record.change.new_image, record.change.old_image) == (None, None)


def test_dynamodbs_long_sequence_numbers_are_kept_as_checkpoints(
    clients: tuple[Any, Any], tmp_path: Any
) -> None:
    # Given a record whose sequence number does not fit in 64 bits (DynamoDB's 21+ digits)
    dynamodb, streams = clients
    make_table(dynamodb)
    put(dynamodb, "a")
    (record,) = DynamoDbStream("blog-blog", dynamodb, streams).stream_records()
    assert record.sequence > 2**63
    # When a dispatcher's store checkpoints it, then a smaller one
    store = StreamStore(tmp_path / "streams.sqlite3")
    arn = DynamoDbStream("blog-blog", dynamodb, streams).stream_arn()
    store.save_checkpoint("blog->welcome", record.sequence, stream=arn)
    store.save_checkpoint("blog->welcome", 7, stream=arn)
    # Then the checkpoint is the exact, larger number
    assert store.checkpoint("blog->welcome") == record.sequence
    store.close()


def test_parent_shards_are_read_before_their_children() -> None:
    def shard(shard_id: str, start: int, parent: str | None = None) -> dict[str, Any]:
        found: dict[str, Any] = {
            "ShardId": shard_id,
            "SequenceNumberRange": {"StartingSequenceNumber": str(start)},
        }
        if parent:
            found["ParentShardId"] = parent
        return found

    # A child listed first, with a lower start than an unrelated shard; an orphan whose
    # parent was trimmed away
    shards = [shard("child", 300, "parent"), shard("parent", 100), shard("orphan", 50, "gone")]
    assert [s["ShardId"] for s in lineage_order(shards)] == ["orphan", "parent", "child"]


class RecordingInvoker:
    """Records each invocation and succeeds."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def __contains__(self, function: object) -> bool:
        return True

    async def invoke(self, function: spec.Function, event: Any, **options: Any) -> Any:
        self.events.append((function.name, event))
        return None


def test_a_trigger_on_a_table_in_dynamodb_gets_its_records_with_the_streams_own_arn(
    clients: tuple[Any, Any], tmp_path: Path
) -> None:
    # Given the blog's tables created in (moto's) DynamoDB, and a subscriber written there
    dynamodb, streams = clients
    create_tables([blog_service], dynamodb)
    item = {"pk": {"S": "SUBSCRIBER#a@example.com"}, "sk": {"S": "SUBSCRIBER"}}
    dynamodb.put_item(TableName="blog-blog", Item=item | {"status": {"S": "subscribed"}})
    arn = dynamodb.describe_table(TableName="blog-blog")["Table"]["LatestStreamArn"]
    invoker = RecordingInvoker()
    wired = ServiceStreams(
        blog_service,
        invoker,  # type: ignore[arg-type]
        data_dir=tmp_path,
        region=REGION,
        account_id="000000000000",
        remote=RemoteStreams(dynamodb=dynamodb, streams=streams),
    )

    # When each trigger polls once
    async def poll() -> None:
        for each in wired.dispatchers:
            await each.run_once()
        await wired.stop()

    asyncio.run(poll())

    # Then the welcome function got the INSERT, whose source is DynamoDB's stream ARN
    welcome = [event for name, event in invoker.events if name == "welcome"]
    (record,) = welcome[0]["Records"]
    assert record["eventName"] == "INSERT"
    assert record["eventSourceARN"] == arn
    assert record["dynamodb"]["Keys"] == item


def test_a_table_recreated_in_the_endpoint_is_read_from_its_new_streams_start(
    clients: tuple[Any, Any], tmp_path: Path
) -> None:
    # Given a welcome trigger that consumed a subscriber from moto's stream
    dynamodb, streams = clients
    create_tables([blog_service], dynamodb)
    invoker = RecordingInvoker()
    wired = ServiceStreams(
        blog_service,
        invoker,  # type: ignore[arg-type]
        data_dir=tmp_path,
        region=REGION,
        account_id="000000000000",
        remote=RemoteStreams(dynamodb=dynamodb, streams=streams),
    )
    (welcome,) = [each for each in wired.dispatchers if each.trigger.function.name == "welcome"]

    def subscribe(email: str) -> None:
        item = {"pk": {"S": f"SUBSCRIBER#{email}"}, "sk": {"S": "SUBSCRIBER"}}
        dynamodb.put_item(TableName="blog-blog", Item=item | {"status": {"S": "subscribed"}})

    def welcomed() -> list[str]:
        return [
            record["dynamodb"]["Keys"]["pk"]["S"]
            for name, event in invoker.events
            if name == "welcome"
            for record in event["Records"]
        ]

    async def poll(times: int) -> None:
        for _ in range(times):
            await welcome.run_once()

    subscribe("a@example.com")
    subscribe("b@example.com")
    asyncio.run(poll(1))
    assert welcomed() == ["SUBSCRIBER#a@example.com", "SUBSCRIBER#b@example.com"]

    # When the table is recreated (moto starts its new stream at the same sequence number)
    # and gets one subscriber, below the checkpoint
    dynamodb.delete_table(TableName="blog-blog")
    create_tables([blog_service], dynamodb)
    subscribe("c@example.com")
    asyncio.run(poll(3))
    asyncio.run(wired.stop())

    # Then the running trigger found the new stream and delivered its record
    assert welcomed()[2:] == ["SUBSCRIBER#c@example.com"]
    store = StreamStore(tmp_path / "streams" / "blog.sqlite3")
    arn = dynamodb.describe_table(TableName="blog-blog")["Table"]["LatestStreamArn"]
    assert store.saved_checkpoint("blog->welcome").stream == arn  # type: ignore[union-attr]
    store.close()
