"""The local cloud creates its declared tables in a DynamoDB endpoint (moto, in-process)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from overcast import spec
from overcast.local.remote_tables import create_tables

NOTES = spec.Table(
    "notes",
    spec.Key("id"),
    indexes=(spec.Index("by-author", spec.Key("author"), spec.Key("created")),),
)
USES_NOTES = spec.Function("reader", "notes.handler:handler", tables=(NOTES,))


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client(
            "dynamodb",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


def test_each_declared_table_is_created_once_with_its_keys_and_indexes(dynamodb: Any) -> None:
    # Given a service declaring a table with an index
    service = spec.Service("notes", tables=(NOTES,), functions=(USES_NOTES,))

    # When the cloud starts twice on the same endpoint
    first = create_tables([service], dynamodb)
    second = create_tables([service], dynamodb)

    # Then the table was created once, under the name the functions are given
    assert first == ["notes-notes"]
    assert second == []
    table = dynamodb.describe_table(TableName="notes-notes")["Table"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == ["by-author"]


def test_a_declared_stream_is_enabled_with_its_view_type(dynamodb: Any) -> None:
    streamed = spec.Table("events", spec.Key("id"), stream="NEW_AND_OLD_IMAGES")

    create_tables([spec.Service("audit", tables=(streamed,))], dynamodb)

    table = dynamodb.describe_table(TableName="audit-events")["Table"]
    assert table["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
