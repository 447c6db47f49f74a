"""What the local DynamoDB API refuses rather than get silently wrong, driven by boto3.

Legacy parameters, numbers the local tables cannot hold exactly, bad start keys, a
condition checked before its update, parallel scans, and table names that collide.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from overcast import spec
from tests.fixtures.aws_services import local_aws
from tests.fixtures.tables_endpoint import TablesCloud, items, tables_cloud

ITEMS = "notes-items"
COUNTERS = "notes-counters"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TablesCloud]:
    with tables_cloud(tmp_path_factory.mktemp("dynamodb-strict")) as served:
        yield served


@pytest.fixture(scope="module")
def ddb(cloud: TablesCloud) -> Any:
    return cloud.client("dynamodb")


def key(owner: str, ident: str) -> dict[str, Any]:
    return {"owner": {"S": owner}, "id": {"S": ident}}


def refusal(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    found = error.value.response["Error"]
    return str(found["Code"]), str(found["Message"])


# --- legacy parameters -------------------------------------------------------------------


def test_a_delete_with_a_legacy_expected_is_refused_and_deletes_nothing(ddb: Any) -> None:
    ddb.put_item(TableName=ITEMS, Item={**key("leg", "1"), "v": {"S": "kept"}})

    with pytest.raises(ClientError) as refused:
        ddb.delete_item(TableName=ITEMS, Key=key("leg", "1"), Expected={"v": {"Exists": False}})

    code, message = refusal(refused)
    assert code == "ValidationException"
    assert "expression parameters only" in message
    assert "Expected" in message
    assert ddb.get_item(TableName=ITEMS, Key=key("leg", "1"))["Item"]["v"] == {"S": "kept"}


@pytest.mark.parametrize(
    ("operation", "legacy"),
    [
        ("put_item", {"Item": key("leg", "2"), "Expected": {"v": {"Exists": False}}}),
        (
            "update_item",
            {"Key": key("leg", "2"), "AttributeUpdates": {"v": {"Value": {"S": "x"}}}},
        ),
        ("get_item", {"Key": key("leg", "2"), "AttributesToGet": ["v"]}),
        ("scan", {"ScanFilter": {"v": {"ComparisonOperator": "NOT_NULL"}}}),
        (
            "query",
            {
                "KeyConditions": {
                    "owner": {"AttributeValueList": [{"S": "leg"}], "ComparisonOperator": "EQ"}
                }
            },
        ),
        (
            "query",
            {
                "KeyConditionExpression": "#o = :o",
                "ExpressionAttributeNames": {"#o": "owner"},
                "ExpressionAttributeValues": {":o": {"S": "leg"}},
                "QueryFilter": {"v": {"ComparisonOperator": "NOT_NULL"}},
                "ConditionalOperator": "OR",
            },
        ),
    ],
)
def test_legacy_parameters_are_refused_and_nothing_is_written(
    ddb: Any, operation: str, legacy: dict[str, Any]
) -> None:
    with pytest.raises(ClientError) as refused:
        getattr(ddb, operation)(TableName=ITEMS, **legacy)

    assert refusal(refused)[0] == "ValidationException"
    assert "expression parameters only" in refusal(refused)[1]
    assert "Item" not in ddb.get_item(TableName=ITEMS, Key=key("leg", "2"))


def test_a_batch_get_with_attributes_to_get_or_no_tables_is_refused(ddb: Any) -> None:
    with pytest.raises(ClientError) as legacy:
        ddb.batch_get_item(
            RequestItems={ITEMS: {"Keys": [key("leg", "1")], "AttributesToGet": ["v"]}}
        )
    with pytest.raises(ClientError) as empty:
        ddb.batch_write_item(RequestItems={})

    assert "expression parameters only" in refusal(legacy)[1]
    assert "requestItems" in refusal(empty)[1]


# --- values ------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["12345678901234567.5", "1.00000000000000000001"])
def test_a_number_the_tables_cannot_hold_exactly_is_refused(ddb: Any, number: str) -> None:
    with pytest.raises(ClientError) as refused:
        ddb.put_item(TableName=ITEMS, Item={**key("num", number), "n": {"N": number}})

    code, message = refusal(refused)
    assert code == "ValidationException"
    assert number in message
    assert "local limit" in message
    assert "Item" not in ddb.get_item(TableName=ITEMS, Key=key("num", number))


def test_exact_numbers_read_back_unchanged(ddb: Any) -> None:
    exact = {"big": "123456789012345678901234567890", "half": "-3.25", "tenth": "0.1"}
    item = {**key("num", "ok"), **{name: {"N": text} for name, text in exact.items()}}
    ddb.put_item(TableName=ITEMS, Item=item)

    assert ddb.get_item(TableName=ITEMS, Key=key("num", "ok"))["Item"] == item


def test_an_increment_that_would_lose_precision_is_refused(ddb: Any) -> None:
    ddb.put_item(TableName=ITEMS, Item={**key("num", "drift"), "x": {"N": "0.1"}})

    with pytest.raises(ClientError) as refused:
        ddb.update_item(
            TableName=ITEMS,
            Key=key("num", "drift"),
            UpdateExpression="SET x = x + :h",
            ExpressionAttributeValues={":h": {"N": "100000000000000000"}},
        )

    assert refusal(refused)[0] == "ValidationException"
    assert "local limit" in refusal(refused)[1]
    assert ddb.get_item(TableName=ITEMS, Key=key("num", "drift"))["Item"]["x"] == {"N": "0.1"}


def test_a_null_of_false_is_refused(ddb: Any) -> None:
    with pytest.raises(ClientError) as refused:
        ddb.put_item(TableName=ITEMS, Item={**key("nul", "1"), "z": {"NULL": False}})

    assert "Null attribute value types must have the value of true" in refusal(refused)[1]


# --- start keys and filters --------------------------------------------------------------


@pytest.mark.parametrize(
    "start",
    [
        {"owner": {"S": "a"}},
        {**key("a", "b"), "extra": {"S": "c"}},
    ],
    ids=["missing-sort-key", "extra-attribute"],
)
def test_a_scan_start_key_that_is_not_a_key_is_refused(ddb: Any, start: Any) -> None:
    with pytest.raises(ClientError) as refused:
        ddb.scan(TableName=ITEMS, ExclusiveStartKey=start)

    assert refusal(refused) == (
        "ValidationException",
        "The provided starting key is invalid: The provided key element does not match the schema",
    )


def test_a_query_start_key_with_an_extra_attribute_is_refused(ddb: Any) -> None:
    with pytest.raises(ClientError) as refused:
        ddb.query(
            TableName=ITEMS,
            KeyConditionExpression="#o = :o",
            ExpressionAttributeNames={"#o": "owner"},
            ExpressionAttributeValues={":o": {"S": "a"}},
            ExclusiveStartKey={**key("a", "b"), "extra": {"S": "c"}},
        )

    assert refusal(refused) == ("ValidationException", "The provided starting key is invalid")


def test_a_query_filter_on_a_key_attribute_is_refused(ddb: Any) -> None:
    with pytest.raises(ClientError) as refused:
        ddb.query(
            TableName=ITEMS,
            KeyConditionExpression="#o = :o",
            FilterExpression="id = :i",
            ExpressionAttributeNames={"#o": "owner"},
            ExpressionAttributeValues={":o": {"S": "a"}, ":i": {"S": "b"}},
        )

    assert refusal(refused)[1] == (
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: id"
    )


# --- updates -----------------------------------------------------------------------------


def test_a_failed_condition_wins_over_a_missing_update_operand(ddb: Any) -> None:
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.update_item(
            TableName=COUNTERS,
            Key={"name": {"S": "absent"}},
            UpdateExpression="SET n = n + :one",
            ConditionExpression="attribute_exists(#n)",
            ExpressionAttributeNames={"#n": "name"},
            ExpressionAttributeValues={":one": {"N": "1"}},
        )

    assert "Item" not in ddb.get_item(TableName=COUNTERS, Key={"name": {"S": "absent"}})


def test_a_failed_condition_before_the_update_still_returns_the_old_item(ddb: Any) -> None:
    old = {"name": {"S": "kept"}, "n": {"N": "1"}}
    ddb.put_item(TableName=COUNTERS, Item=old)

    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException) as failed:
        ddb.update_item(
            TableName=COUNTERS,
            Key={"name": {"S": "kept"}},
            UpdateExpression="SET n = absent + :one",
            ConditionExpression="n = :two",
            ExpressionAttributeValues={":one": {"N": "1"}, ":two": {"N": "2"}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )

    assert failed.value.response["Item"] == old


@pytest.mark.parametrize(
    ("returns", "expected"),
    [
        ("UPDATED_OLD", {"meta": {"M": {"a": {"N": "1"}}}}),
        ("UPDATED_NEW", {"meta": {"M": {"a": {"N": "2"}}}}),
    ],
)
def test_updated_values_are_only_the_updated_nested_paths(
    ddb: Any, returns: str, expected: Any
) -> None:
    meta = {"M": {"a": {"N": "1"}, "b": {"S": "untouched"}}}
    ddb.put_item(TableName=COUNTERS, Item={"name": {"S": f"nested-{returns}"}, "meta": meta})

    answer = ddb.update_item(
        TableName=COUNTERS,
        Key={"name": {"S": f"nested-{returns}"}},
        UpdateExpression="SET meta.a = :two",
        ExpressionAttributeValues={":two": {"N": "2"}},
        ReturnValues=returns,
    )

    assert answer["Attributes"] == expected


# --- parallel scan -----------------------------------------------------------------------


def scan_segment(ddb: Any, segment: int, total: int, limit: int) -> list[str]:
    names: list[str] = []
    start: dict[str, Any] = {}
    while True:
        page = ddb.scan(
            TableName=COUNTERS, Segment=segment, TotalSegments=total, Limit=limit, **start
        )
        assert page["ScannedCount"] <= limit
        names += [item["name"]["S"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return names
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def test_parallel_scan_segments_partition_the_table(ddb: Any) -> None:
    everything = {item["name"]["S"] for item in ddb.scan(TableName=COUNTERS)["Items"]}
    wanted = {f"seg-{n}" for n in range(40)}
    for name in sorted(wanted - everything):
        ddb.put_item(TableName=COUNTERS, Item={"name": {"S": name}})
    everything |= wanted

    segments = [scan_segment(ddb, segment, 4, limit=3) for segment in range(4)]

    found = [name for names in segments for name in names]
    assert sorted(found) == sorted(everything)  # every item exactly once
    assert all(len(names) < len(everything) for names in segments)


@pytest.mark.parametrize(
    "bad",
    [{"Segment": 0}, {"TotalSegments": 2}, {"Segment": 2, "TotalSegments": 2}],
    ids=["no-total", "no-segment", "segment-too-large"],
)
def test_a_bad_segment_is_refused(ddb: Any, bad: dict[str, int]) -> None:
    with pytest.raises(ClientError) as refused:
        ddb.scan(TableName=COUNTERS, **bad)

    assert refusal(refused)[0] == "ValidationException"
    assert "Segment" in refusal(refused)[1]


# --- table names -------------------------------------------------------------------------


def test_two_services_whose_tables_share_a_name_are_refused(tmp_path: Path) -> None:
    aws = local_aws(tmp_path, "https://127.0.0.1:1")
    aws.register(spec.Service("todo", tables=(spec.Table("x-files", spec.Key("k")),)))
    try:
        with pytest.raises(spec.DeclarationError, match="DynamoDB table 'todo-x-files'"):
            aws.register(spec.Service("todo-x", tables=(spec.Table("files", spec.Key("k")),)))
    finally:
        aws.close()


def test_an_index_scan_segment_reads_only_indexed_items(ddb: Any, cloud: TablesCloud) -> None:
    indexed = {**key("idx", "1"), "status": {"S": "open"}, "due": {"N": "1"}}
    ddb.put_item(TableName=ITEMS, Item=indexed)
    ddb.put_item(TableName=ITEMS, Item=key("idx", "2"))

    found = [
        item
        for segment in range(2)
        for item in ddb.scan(TableName=ITEMS, IndexName="by-status", Segment=segment,
                             TotalSegments=2)["Items"]
    ]  # fmt: skip

    whole = ddb.scan(TableName=ITEMS, IndexName="by-status")["Items"]
    assert indexed in found
    assert sorted(map(str, found)) == sorted(map(str, whole))  # each indexed item once
    assert cloud.table(items).get({"owner": "idx", "id": "2"}) is not None
