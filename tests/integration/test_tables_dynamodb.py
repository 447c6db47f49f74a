"""The DynamoDB table passes the port's contract against moto, and speaks DynamoDB's
protocol: placeholders, ConsistentRead, ExclusiveStartKey, retries and error codes.

moto runs in-process (``mock_aws``), one mock for the module and a fresh table per test.
Contract tests that cannot hold on DynamoDB by design, or that moto gets wrong, are
skipped below with the reason.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws

from overcast import spec
from overcast.ports.tables import (
    AttributeEquals,
    BeginsWith,
    ConditionFailed,
    InvalidItem,
    ItemNotExists,
    KeyCompare,
    TableUnavailable,
)
from overcast.ports.tables.dynamodb import DynamoDbTable, table_definition
from tests.tables_contract import *  # noqa: F403  (the contract's tests run here)
from tests.tables_contract import COUNTERS, PROFILES, SCORES, TODOS, ids, of, todo, walk

_SKIPPED = {
    # DynamoDB does not order the items of one index partition that share their index
    # sort key (or, without one, any of them); the contract's local order is a choice.
    # The tests further below check what DynamoDB does promise of such pages.
    "test_index_pages_break_ties_by_primary_key": "DynamoDB leaves index ties unordered",
    "test_an_index_without_sort_key_lists_its_partition_by_primary_key": (
        "DynamoDB leaves an index partition without sort key unordered"
    ),
    # DynamoDB checks each condition atomically with its write; moto does not lock, so
    # threads racing through it lose updates. (The condition sent is tested here.)
    "test_concurrent_conditional_increments_never_lose_an_update": (
        "moto does not serialize conditional writes across threads"
    ),
}
_names = (f"table-{number}" for number in itertools.count())


def _moto_difference(node: pytest.Item) -> str | None:
    """Why moto cannot run this contract test (or case) as DynamoDB would, if it cannot."""
    name = getattr(node, "originalname", node.name)
    if name in _SKIPPED:
        return _SKIPPED[name]
    params = getattr(node, "callspec", None)
    if name == "test_attribute_equals_compares_as_dynamodb_does" and params is not None:
        compared = repr((params.params["stored"], params.params["expected"]))
        if not params.params["holds"] and "True" in compared:
            return "moto compares BOOL true and N 1 as equal; DynamoDB compares types too"
    return None


@pytest.fixture(autouse=True)
def _skip_where_moto_differs(request: pytest.FixtureRequest) -> None:
    reason = _moto_difference(request.node)
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


def create(client: Any, declaration: spec.Table) -> str:
    name = next(_names)
    client.create_table(**table_definition(declaration, name))
    return name


@pytest.fixture
def table(request: pytest.FixtureRequest, dynamodb: Any) -> Iterator[DynamoDbTable]:
    declaration: spec.Table = request.param
    name = create(dynamodb, declaration)
    yield DynamoDbTable(declaration, name, dynamodb)
    dynamodb.delete_table(TableName=name)


class Recording:
    """A DynamoDB client that records each request, then passes it to ``client``.

    ``rewrite`` may change a request before it is sent (e.g. a smaller ``Limit``).
    """

    def __init__(self, client: Any, rewrite: dict[str, Any] | None = None) -> None:
        self.client = client
        self.rewrite = rewrite or {}
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, operation: str) -> Any:
        def call(**request: Any) -> Any:
            request = {**request, **self.rewrite} if operation == "query" else request
            self.requests.append((operation, request))
            return getattr(self.client, operation)(**request)

        return call

    def sent(self, operation: str) -> list[dict[str, Any]]:
        return [request for name, request in self.requests if name == operation]


class Failing:
    """A DynamoDB client whose every request fails with ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, operation: str) -> Any:
        def call(**request: Any) -> Any:
            raise self.error

        return call


def client_error(code: str, message: str = "refused") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "Operation")


@pytest.fixture
def recorded(dynamodb: Any) -> Iterator[tuple[DynamoDbTable, Recording]]:
    name = create(dynamodb, TODOS)
    client = Recording(dynamodb)
    yield DynamoDbTable(TODOS, name, client), client
    dynamodb.delete_table(TableName=name)


# --- the wire: expressions and read consistency -------------------------------------------


@pytest.mark.parametrize("name", ["name", "comment", "a.b", "#n0", ":v0", "size", "x y"])
def test_any_attribute_name_is_one_plain_attribute_through_placeholders(
    recorded: tuple[DynamoDbTable, Recording], name: str
) -> None:
    table, client = recorded
    table.put(todo("ana", "t1", **{name: 1}), condition=ItemNotExists())
    table.update({"user": "ana", "id": "t1"}, {name: 2}, condition=AttributeEquals(name, 1))
    with pytest.raises(ConditionFailed):
        table.delete({"user": "ana", "id": "t1"}, condition=AttributeEquals(name, 1))
    assert table.get({"user": "ana", "id": "t1"}) == todo("ana", "t1", **{name: 2})
    [update] = client.sent("update_item")
    assert update["ExpressionAttributeNames"] == {"#n0": name}
    assert update["UpdateExpression"] == "SET #n0 = :v0"
    assert update["ConditionExpression"] == "attribute_exists(#n0) AND #n0 = :v1"


def test_reads_are_consistent_only_when_asked(recorded: tuple[DynamoDbTable, Recording]) -> None:
    table, client = recorded
    key = {"user": "ana", "id": "t1"}
    table.put(todo("ana", "t1", status="open", due=1))
    table.get(key)
    table.get(key, consistent=True)
    table.batch_get([key], consistent=True)
    table.query("ana", consistent=True)
    table.query("open", index="by-status")
    gets, batch = client.sent("get_item"), client.sent("batch_get_item")
    on_table, on_index = client.sent("query")
    assert [request["ConsistentRead"] for request in gets] == [False, True]
    assert batch[0]["RequestItems"][table.table_name]["ConsistentRead"] is True
    assert on_table["ConsistentRead"] is True
    assert "ConsistentRead" not in on_index
    assert on_index["IndexName"] == "by-status"


def test_a_query_follows_last_evaluated_key_when_dynamodb_stops_early(
    dynamodb: Any,
) -> None:
    # Given a DynamoDB that answers one item per response (as it does at 1 MB)
    name = create(dynamodb, TODOS)
    client = Recording(dynamodb, rewrite={"Limit": 1})
    table = DynamoDbTable(TODOS, name, client)
    for number in range(5):
        table.put(todo("ana", f"t{number}"))
    # When a page of three is asked
    page = table.query("ana", limit=3)
    # Then it holds three items, and its cursor resumes after them
    assert ids(page.items) == ["t0", "t1", "t2"]
    assert ids(table.query("ana", cursor=page.cursor).items) == ["t3", "t4"]
    assert len(client.sent("query")) == 4 + 2  # limit + 1 items, then the rest and the end


@pytest.mark.parametrize("descending", [False, True])
def test_a_cursor_outside_the_new_condition_never_reaches_dynamodb(
    recorded: tuple[DynamoDbTable, Recording], descending: bool
) -> None:
    # DynamoDB refuses an ExclusiveStartKey outside the key condition; the port does not.
    table, client = recorded
    for id in ["a1", "a2", "b1", "b2", "c1"]:
        table.put(todo("ana", id))
    first = "c1" if descending else "a1"
    cursor = table.query("ana", limit=1, descending=descending).cursor
    assert ids(table.query("ana", limit=1, descending=descending).items) == [first]
    resumed = table.query("ana", BeginsWith("b"), cursor=cursor, descending=descending)
    assert ids(resumed.items) == (["b2", "b1"] if descending else ["b1", "b2"])
    past = KeyCompare(">", "c1") if descending else KeyCompare("<", "a1")
    assert table.query("ana", past, cursor=cursor, descending=descending).items == []
    starts = [request.get("ExclusiveStartKey") for request in client.sent("query")[2:]]
    assert starts == [None]  # the second resumed query sent nothing at all


def test_batch_get_asks_again_for_unprocessed_keys(dynamodb: Any) -> None:
    name = create(dynamodb, TODOS)
    real = DynamoDbTable(TODOS, name, dynamodb)
    real.put(todo("ana", "t1", n=1))
    real.put(todo("ana", "t2", n=2))
    client = Throttled(dynamodb, times=2)
    waits: list[float] = []
    table = DynamoDbTable(TODOS, name, client, sleep=waits.append)
    found = table.batch_get([{"user": "ana", "id": "t2"}, {"user": "ana", "id": "t1"}])
    assert found == [todo("ana", "t2", n=2), todo("ana", "t1", n=1)]
    assert waits == [0.05, 0.1]
    stubborn = DynamoDbTable(TODOS, name, Throttled(dynamodb, times=100), sleep=waits.append)
    with pytest.raises(TableUnavailable, match="unprocessed"):
        stubborn.batch_get([{"user": "ana", "id": "t1"}])


class Throttled:
    """A client whose first ``times`` BatchGetItem calls leave every key unprocessed."""

    def __init__(self, client: Any, times: int) -> None:
        self.client = client
        self.times = times

    def batch_get_item(self, **request: Any) -> dict[str, Any]:
        if self.times:
            self.times -= 1
            return {"Responses": {}, "UnprocessedKeys": request["RequestItems"]}
        answer: dict[str, Any] = self.client.batch_get_item(**request)
        return answer


# --- values ----------------------------------------------------------------------------------


@of(SCORES)
def test_numbers_come_back_equal_in_value(table: DynamoDbTable) -> None:
    values = {"i": 10**37, "f": 0.1, "whole": 2.0, "neg": -1.5e-7, "big": 1.5e100, "tiny": 1e-100}
    table.put({"game": "chess", "score": 1, **values})
    found = table.get({"game": "chess", "score": 1})
    assert found == {"game": "chess", "score": 1, **values}
    assert found is not None
    assert isinstance(found["i"], int)
    assert isinstance(found["whole"], int)  # DynamoDB has no separate integer type
    assert isinstance(found["f"], float)


@pytest.mark.parametrize("number", [1e200, -1e130, 1e-200])
@of(SCORES)
def test_numbers_beyond_dynamodbs_range_are_refused(table: DynamoDbTable, number: float) -> None:
    with pytest.raises(InvalidItem):
        table.put({"game": "chess", "score": 1, "n": number})
    assert table.get({"game": "chess", "score": 1}) is None


@of(PROFILES)
def test_an_index_without_sort_key_pages_through_its_partition_once(table: DynamoDbTable) -> None:
    for id in ["cy", "ana", "bob", "dee"]:
        table.put({"id": id, "email": "shared@example.com"})
    table.put({"id": "eve", "email": "eve@example.com"})
    items, pages = walk(table, "shared@example.com", index="by-email", limit=3)
    assert (sorted(ids(items)), pages) == (["ana", "bob", "cy", "dee"], 2)


@pytest.mark.parametrize("descending", [False, True])
@of(TODOS)
def test_index_pages_with_ties_have_no_duplicates_or_gaps(
    table: DynamoDbTable, descending: bool
) -> None:
    entries = [("bob", "a", 1), ("ana", "b", 1), ("ana", "a", 1), ("ana", "c", 2), ("cy", "a", 0)]
    for user, id, due in entries:
        table.put(todo(user, id, status="open", due=due))
    items, _ = walk(table, "open", index="by-status", limit=2, descending=descending)
    dues = [item["due"] for item in items]
    assert dues == sorted(dues, reverse=descending)
    assert sorted((item["user"], item["id"]) for item in items) == sorted(e[:2] for e in entries)


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "AccessDeniedException",
    ],
)
def test_throttling_and_service_failures_are_table_unavailable(code: str) -> None:
    table = DynamoDbTable(TODOS, "todos", Failing(client_error(code)))
    with pytest.raises(TableUnavailable, match=code):
        table.get({"user": "ana", "id": "t1"})
    with pytest.raises(TableUnavailable):
        table.put(todo("ana", "t1"))


def test_an_unreachable_dynamodb_is_table_unavailable() -> None:
    table = DynamoDbTable(TODOS, "todos", Failing(EndpointConnectionError(endpoint_url="x")))
    with pytest.raises(TableUnavailable, match="could not be reached"):
        table.query("ana")


def test_a_validation_error_is_invalid_item() -> None:
    error = client_error("ValidationException", "Item size has exceeded the maximum allowed size")
    table = DynamoDbTable(TODOS, "todos", Failing(error))
    with pytest.raises(InvalidItem, match="maximum allowed size"):
        table.put(todo("ana", "t1"))


def test_a_missing_table_is_unavailable_and_says_so(dynamodb: Any) -> None:
    table = DynamoDbTable(TODOS, "never-created", dynamodb)
    with pytest.raises(TableUnavailable, match="'never-created' does not exist"):
        table.get({"user": "ana", "id": "t1"})


def test_no_botocore_error_escapes_a_condition_failure(dynamodb: Any) -> None:
    name = create(dynamodb, COUNTERS)
    table = DynamoDbTable(COUNTERS, name, dynamodb)
    table.put({"name": "hits", "n": 1})
    with pytest.raises(ConditionFailed) as raised:
        table.put({"name": "hits", "n": 2}, condition=AttributeEquals("n", 0))
    assert isinstance(raised.value.__cause__, ClientError)
    assert table.get({"name": "hits"}) == {"name": "hits", "n": 1}
