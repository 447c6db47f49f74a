"""DynamoDB's JSON API at the local AWS endpoint, driven by boto3 over TLS.

The tables are ``tests.fixtures.tables_endpoint``'s (service ``notes``), the SQLite
files the service's functions would open.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from botocore import UNSIGNED
from botocore.exceptions import ClientError

from tests.fixtures.tables_endpoint import TablesCloud, counters, items, tables_cloud

ITEMS = "notes-items"
COUNTERS = "notes-counters"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TablesCloud]:
    with tables_cloud(tmp_path_factory.mktemp("dynamodb")) as served:
        yield served


@pytest.fixture(scope="module")
def ddb(cloud: TablesCloud) -> Any:
    return cloud.client("dynamodb")


def note(owner: str, ident: str, **more: Any) -> dict[str, Any]:
    return {"owner": {"S": owner}, "id": {"S": ident}, **more}


def key(owner: str, ident: str) -> dict[str, Any]:
    return {"owner": {"S": owner}, "id": {"S": ident}}


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


# --- tables ------------------------------------------------------------------------------


def test_declared_tables_are_listed_and_paged(ddb: Any) -> None:
    assert ddb.list_tables()["TableNames"] == [COUNTERS, ITEMS]
    first = ddb.list_tables(Limit=1)
    assert first["TableNames"] == [COUNTERS]
    assert first["LastEvaluatedTableName"] == COUNTERS
    rest = ddb.list_tables(ExclusiveStartTableName=COUNTERS)
    assert rest == {**rest, "TableNames": [ITEMS]}
    assert "LastEvaluatedTableName" not in rest


def test_describe_table_shows_keys_index_stream_and_count(cloud: TablesCloud, ddb: Any) -> None:
    ddb.put_item(TableName=ITEMS, Item=note("zed", "d1"))
    table = ddb.describe_table(TableName=ITEMS)["Table"]
    arn = f"arn:aws:dynamodb:{cloud.aws.region}:{cloud.aws.account_id}:table/{ITEMS}"
    assert table["TableArn"] == arn
    assert table["TableStatus"] == "ACTIVE"
    assert table["KeySchema"] == [
        {"AttributeName": "owner", "KeyType": "HASH"},
        {"AttributeName": "id", "KeyType": "RANGE"},
    ]
    assert {"AttributeName": "due", "AttributeType": "N"} in table["AttributeDefinitions"]
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "by-status"
    assert index["Projection"] == {"ProjectionType": "ALL"}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    label = cloud.table(items).stream_label()
    assert table["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    assert table["LatestStreamArn"] == f"{arn}/stream/{label}"
    stored = cloud.table(items).scan(limit=1000)
    assert stored.cursor is None
    assert table["ItemCount"] == len(stored.items) >= 1


def test_an_undeclared_table_is_not_found_and_cannot_be_created(ddb: Any) -> None:
    with pytest.raises(ddb.exceptions.ResourceNotFoundException):
        ddb.get_item(TableName="notes-nothing", Key={"owner": {"S": "a"}})
    with pytest.raises(ClientError) as refused:
        ddb.create_table(
            TableName="notes-new",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    assert code(refused) == "ValidationException"
    assert "declared" in refused.value.response["Error"]["Message"]


# --- items -------------------------------------------------------------------------------


def test_put_get_update_delete_round_trip(cloud: TablesCloud, ddb: Any) -> None:
    value = note(
        "ana",
        "n1",
        title={"S": "héllo"},
        count={"N": "2"},
        tags={"L": [{"S": "a"}, {"N": "1.5"}]},
        meta={"M": {"done": {"BOOL": False}, "none": {"NULL": True}}},
    )
    ddb.put_item(TableName=ITEMS, Item=value)
    assert ddb.get_item(TableName=ITEMS, Key=key("ana", "n1"))["Item"] == value
    assert cloud.table(items).get({"owner": "ana", "id": "n1"})["count"] == 2  # type: ignore[index]
    projected = ddb.get_item(
        TableName=ITEMS,
        Key=key("ana", "n1"),
        ProjectionExpression="#t, meta.done",
        ExpressionAttributeNames={"#t": "title"},
    )
    assert projected["Item"] == {"title": {"S": "héllo"}, "meta": {"M": {"done": {"BOOL": False}}}}
    updated = ddb.update_item(
        TableName=ITEMS,
        Key=key("ana", "n1"),
        UpdateExpression="SET #c = #c + :one REMOVE title",
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="UPDATED_NEW",
    )
    assert updated["Attributes"] == {"count": {"N": "3"}}
    old = ddb.delete_item(TableName=ITEMS, Key=key("ana", "n1"), ReturnValues="ALL_OLD")
    assert old["Attributes"]["count"] == {"N": "3"}
    assert "Item" not in ddb.get_item(TableName=ITEMS, Key=key("ana", "n1"))


def test_create_only_put_refuses_an_existing_item(ddb: Any) -> None:
    create = {"ConditionExpression": "attribute_not_exists(#o)"}
    names = {"ExpressionAttributeNames": {"#o": "owner"}}
    ddb.put_item(TableName=ITEMS, Item=note("bo", "c1", v={"N": "1"}), **create, **names)
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException) as failed:
        ddb.put_item(
            TableName=ITEMS,
            Item=note("bo", "c1", v={"N": "2"}),
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
            **create,
            **names,
        )
    assert failed.value.response["Item"]["v"] == {"N": "1"}
    assert ddb.get_item(TableName=ITEMS, Key=key("bo", "c1"))["Item"]["v"] == {"N": "1"}


def test_a_version_check_guards_an_update(ddb: Any) -> None:
    ddb.put_item(TableName=ITEMS, Item=note("cy", "v1", version={"N": "1"}))
    bump = {
        "TableName": ITEMS,
        "Key": key("cy", "v1"),
        "UpdateExpression": "SET version = :next",
        "ConditionExpression": "version = :seen",
    }
    ddb.update_item(**bump, ExpressionAttributeValues={":seen": {"N": "1"}, ":next": {"N": "2"}})
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.update_item(
            **bump, ExpressionAttributeValues={":seen": {"N": "1"}, ":next": {"N": "3"}}
        )
    assert ddb.get_item(TableName=ITEMS, Key=key("cy", "v1"))["Item"]["version"] == {"N": "2"}


@pytest.mark.parametrize(
    ("returns", "expected"),
    [
        ("NONE", None),
        ("ALL_OLD", {"owner": "rv", "id": "1", "a": "1", "b": "1"}),
        ("ALL_NEW", {"owner": "rv", "id": "1", "a": "2", "b": "1"}),
        ("UPDATED_OLD", {"a": "1"}),
        ("UPDATED_NEW", {"a": "2"}),
    ],
)
def test_update_returns_the_values_asked_for(
    ddb: Any, returns: str, expected: dict[str, str] | None
) -> None:
    ddb.put_item(TableName=ITEMS, Item=note("rv", "1", a={"S": "1"}, b={"S": "1"}))
    answer = ddb.update_item(
        TableName=ITEMS,
        Key=key("rv", "1"),
        UpdateExpression="SET a = :v",
        ExpressionAttributeValues={":v": {"S": "2"}},
        ReturnValues=returns,
    )
    shown = {n: v["S"] for n, v in answer["Attributes"].items()} if expected else None
    assert shown == expected
    assert ("Attributes" in answer) == (expected is not None)


def test_update_cannot_change_a_key_attribute(ddb: Any) -> None:
    with pytest.raises(ClientError) as refused:
        ddb.update_item(
            TableName=ITEMS,
            Key=key("kk", "1"),
            UpdateExpression="SET #o = :v",
            ExpressionAttributeNames={"#o": "owner"},
            ExpressionAttributeValues={":v": {"S": "x"}},
        )
    assert code(refused) == "ValidationException"
    assert "part of the key" in refused.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    "value", [{"SS": ["a"]}, {"NS": ["1"]}, {"B": b"x"}, {"L": [{"BS": [b"x"]}]}]
)
def test_sets_and_binary_are_refused_and_nothing_is_written(ddb: Any, value: Any) -> None:
    with pytest.raises(ClientError) as refused:
        ddb.put_item(TableName=ITEMS, Item=note("sets", "1", bad=value))
    assert code(refused) == "ValidationException"
    assert "cannot store sets" in refused.value.response["Error"]["Message"]
    assert "Item" not in ddb.get_item(TableName=ITEMS, Key=key("sets", "1"))


def test_unused_placeholders_and_bad_keys_are_refused(ddb: Any) -> None:
    with pytest.raises(ClientError) as unused:
        ddb.get_item(
            TableName=ITEMS,
            Key=key("x", "1"),
            ProjectionExpression="id",
            ExpressionAttributeNames={"#n": "n"},
        )
    assert "unused in expressions" in unused.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as bad_key:
        ddb.get_item(TableName=ITEMS, Key={"owner": {"S": "x"}})
    assert "does not match the schema" in bad_key.value.response["Error"]["Message"]


# --- queries and scans ---------------------------------------------------------------------


def test_query_pages_apply_limit_before_the_filter(ddb: Any) -> None:
    for number in range(10):
        ddb.put_item(TableName=ITEMS, Item=note("qp", f"i{number}", n={"N": str(number)}))
    request = {
        "TableName": ITEMS,
        "KeyConditionExpression": "#o = :o AND begins_with(id, :p)",
        "FilterExpression": "n >= :min",
        "ExpressionAttributeNames": {"#o": "owner"},
        "ExpressionAttributeValues": {":o": {"S": "qp"}, ":p": {"S": "i"}, ":min": {"N": "5"}},
        "Limit": 4,
    }
    first = ddb.query(**request)
    assert (first["Count"], first["ScannedCount"]) == (0, 4)
    assert first["LastEvaluatedKey"] == key("qp", "i3")
    seen, start = [], first["LastEvaluatedKey"]
    while start:
        page = ddb.query(**request, ExclusiveStartKey=start)
        seen += [item["n"]["N"] for item in page["Items"]]
        start = page.get("LastEvaluatedKey")
    assert seen == ["5", "6", "7", "8", "9"]
    backwards = ddb.query(**{**request, "Limit": 2}, ScanIndexForward=False)
    assert [item["id"]["S"] for item in backwards["Items"]] == ["i9", "i8"]
    counted = ddb.query(**{**request, "Limit": 100}, Select="COUNT")
    assert counted["Count"] == 5
    assert "Items" not in counted


def test_a_query_of_the_index_pages_with_its_keys(ddb: Any) -> None:
    for number in range(3):
        ddb.put_item(
            TableName=ITEMS,
            Item=note(f"ix{number}", "t", status={"S": "late"}, due={"N": str(10 - number)}),
        )
    request = {
        "TableName": ITEMS,
        "IndexName": "by-status",
        "KeyConditionExpression": "#s = :s",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":s": {"S": "late"}},
        "Limit": 2,
    }
    first = ddb.query(**request)
    assert [item["due"]["N"] for item in first["Items"]] == ["8", "9"]
    assert first["LastEvaluatedKey"] == {
        "owner": {"S": "ix1"},
        "id": {"S": "t"},
        "status": {"S": "late"},
        "due": {"N": "9"},
    }
    rest = ddb.query(**request, ExclusiveStartKey=first["LastEvaluatedKey"])
    assert [item["due"]["N"] for item in rest["Items"]] == ["10"]
    with pytest.raises(ClientError) as consistent:
        ddb.query(**request, ConsistentRead=True)
    assert "Consistent reads are not supported" in consistent.value.response["Error"]["Message"]


def test_scan_pages_cover_every_item_once(ddb: Any) -> None:
    for number in range(7):
        ddb.put_item(TableName=COUNTERS, Item={"name": {"S": f"s{number}"}, "n": {"N": "0"}})
    names, start, pages = [], None, 0
    while True:
        extra = {"ExclusiveStartKey": start} if start else {}
        page = ddb.scan(TableName=COUNTERS, Limit=3, **extra)
        names += [item["name"]["S"] for item in page["Items"]]
        pages += 1
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert sorted(n for n in names if n.startswith("s")) == [f"s{n}" for n in range(7)]
    assert len(names) == len(set(names))
    filtered = ddb.scan(
        TableName=COUNTERS,
        FilterExpression="begins_with(#n, :p)",
        ExpressionAttributeNames={"#n": "name"},
        ExpressionAttributeValues={":p": {"S": "s1"}},
    )
    assert [item["name"]["S"] for item in filtered["Items"]] == ["s1"]


# --- batches -------------------------------------------------------------------------------


def test_batch_write_then_batch_get(ddb: Any) -> None:
    written = ddb.batch_write_item(
        RequestItems={
            ITEMS: [{"PutRequest": {"Item": note("bw", str(n))}} for n in range(3)],
            COUNTERS: [{"PutRequest": {"Item": {"name": {"S": "bw"}}}}],
        }
    )
    assert written["UnprocessedItems"] == {}
    ddb.batch_write_item(RequestItems={ITEMS: [{"DeleteRequest": {"Key": key("bw", "2")}}]})
    found = ddb.batch_get_item(
        RequestItems={
            ITEMS: {"Keys": [key("bw", str(n)) for n in range(3)], "ProjectionExpression": "id"},
            COUNTERS: {"Keys": [{"name": {"S": "bw"}}]},
        }
    )
    assert sorted(item["id"]["S"] for item in found["Responses"][ITEMS]) == ["0", "1"]
    assert found["Responses"][COUNTERS] == [{"name": {"S": "bw"}}]
    assert found["UnprocessedKeys"] == {}


def test_a_batch_with_a_bad_request_writes_nothing(ddb: Any) -> None:
    with pytest.raises(ClientError) as refused:
        ddb.batch_write_item(
            RequestItems={
                ITEMS: [
                    {"PutRequest": {"Item": note("bb", "1")}},
                    {"PutRequest": {"Item": note("bb", "2", bad={"SS": ["x"]})}},
                ]
            }
        )
    assert code(refused) == "ValidationException"
    assert "Item" not in ddb.get_item(TableName=ITEMS, Key=key("bb", "1"))


# --- permissions, streams, concurrency ------------------------------------------------------


def test_unsigned_and_unpermitted_calls_are_refused_and_write_nothing(
    cloud: TablesCloud, ddb: Any
) -> None:
    anonymous = cloud.client("dynamodb", signature_version=UNSIGNED)
    with pytest.raises(ClientError) as unsigned:
        anonymous.put_item(TableName=ITEMS, Item=note("perm", "1"))
    assert code(unsigned) == "MissingAuthenticationTokenException"
    arn = f"arn:aws:dynamodb:{cloud.aws.region}:{cloud.aws.account_id}:table/{ITEMS}"
    reader = cloud.client(
        "dynamodb", cloud.credentials_allowed("ddb-reader", ["dynamodb:GetItem"], arn)
    )
    with pytest.raises(ClientError) as denied:
        reader.put_item(TableName=ITEMS, Item=note("perm", "1"))
    assert code(denied) == "AccessDeniedException"
    assert "Item" not in reader.get_item(TableName=ITEMS, Key=key("perm", "1"))


def test_a_write_through_the_api_is_in_the_tables_stream(cloud: TablesCloud, ddb: Any) -> None:
    table = cloud.table(items)
    before = table.stream_records(limit=100_000)
    after = before[-1].sequence if before else 0
    ddb.put_item(TableName=ITEMS, Item=note("st", "1", v={"N": "1"}))
    ddb.update_item(
        TableName=ITEMS,
        Key=key("st", "1"),
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
    )
    records = table.stream_records(after)
    assert [r.change.event_name for r in records] == ["INSERT", "MODIFY"]
    assert records[1].change.old_image == {"owner": "st", "id": "1", "v": 1}
    assert records[1].change.new_image == {"owner": "st", "id": "1", "v": 2}


def test_concurrent_increments_never_lose_an_update(cloud: TablesCloud) -> None:
    ddb = cloud.client("dynamodb", max_pool_connections=8)
    ddb.put_item(TableName=COUNTERS, Item={"name": {"S": "hits"}, "n": {"N": "0"}})

    def increment() -> None:
        for _ in range(50):
            ddb.update_item(
                TableName=COUNTERS,
                Key={"name": {"S": "hits"}},
                UpdateExpression="SET n = n + :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )

    workers = [threading.Thread(target=increment) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert cloud.table(counters).get({"name": "hits"}) == {"name": "hits", "n": 200}


def test_a_query_page_stops_after_one_megabyte_read(ddb: Any) -> None:
    blob = {"S": "x" * 390_000}
    for number in range(4):
        ddb.put_item(TableName=ITEMS, Item=note("big", f"b{number}", blob=blob))
    request = {
        "TableName": ITEMS,
        "KeyConditionExpression": "#o = :o",
        "ExpressionAttributeNames": {"#o": "owner"},
        "ExpressionAttributeValues": {":o": {"S": "big"}},
        "ProjectionExpression": "id",
    }
    first = ddb.query(**request)
    assert [item["id"]["S"] for item in first["Items"]] == ["b0", "b1", "b2"]
    assert first["LastEvaluatedKey"] == key("big", "b2")
    rest = ddb.query(**request, ExclusiveStartKey=first["LastEvaluatedKey"])
    assert [item["id"]["S"] for item in rest["Items"]] == ["b3"]
    assert "LastEvaluatedKey" not in rest
