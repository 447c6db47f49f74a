"""A second opinion: the same expressions run through boto3 against moto's DynamoDB.

moto is not the truth; where it departs from the Developer Guide the case says so and
checks the Guide's answer instead (the cases in ``DEPARTURES``, with why).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from overcast.local.dynamodb.expressions import parse_condition, parse_projection, parse_update
from overcast.ports.tables.dynamodb_values import from_attributes, to_attributes

ITEM: dict[str, Any] = {
    "pk": "p1",
    "Price": 650,
    "Brand": "Brand-Company C",
    "Color": ["Blue", "Yellow"],
    "InStock": True,
    "Gone": None,
    "Reviews": {"FiveStar": ["Excellent!", "Love it!"], "OneStar": []},
    "Related": [341, 472, 649],
    "Unicode": "é",
    "Ratio": 0.1,
}


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with mock_aws():
        dynamodb = boto3.client(
            "dynamodb",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        dynamodb.create_table(
            TableName="items",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield dynamodb


def _reset(client: Any) -> None:
    client.put_item(TableName="items", Item=to_attributes(ITEM))


def _expression_args(values: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if values:
        args["ExpressionAttributeValues"] = to_attributes(values)
    if names:
        args["ExpressionAttributeNames"] = names
    return args


CONDITIONS = [
    ("Price = :v", {":v": 650}),
    ("Price = :v", {":v": "650"}),
    ("Price <> :v", {":v": 1}),
    ("Nope <> :v", {":v": 1}),
    ("Brand < :v", {":v": "Brand-D"}),
    ("Unicode > :v", {":v": "z"}),
    ("Price BETWEEN :a AND :b", {":a": 600, ":b": 700}),
    ("Price IN (:a, :b)", {":a": 1, ":b": 650}),
    ("#c = :v", {":v": ["Blue", "Yellow"]}),
    ("Reviews.FiveStar[1] = :v", {":v": "Love it!"}),
    ("attribute_exists(Reviews.OneStar)", {}),
    ("attribute_not_exists(Related[3])", {}),
    ("attribute_type(Gone, :t)", {":t": "NULL"}),
    ("attribute_type(Price, :t)", {":t": "S"}),
    ("begins_with(Brand, :v)", {":v": "Brand-"}),
    ("contains(Brand, :v)", {":v": "Company"}),
    ("contains(Related, :v)", {":v": 472}),
    ("contains(#c, :v)", {":v": "Blue"}),
    ("size(#c) = :v", {":v": 2}),
    ("size(Reviews) = :v", {":v": 2}),
    ("size(Brand) = :v", {":v": 15}),
    ("Gone = :v", {":v": None}),
    ("Price < :a AND InStock = :f OR Brand = :b", {":a": 1, ":f": False, ":b": "Brand-Company C"}),
    ("Brand = :b OR Price < :a AND InStock = :f", {":a": 1, ":f": False, ":b": "Brand-Company C"}),
    ("NOT Price < :a AND InStock = :f", {":a": 1, ":f": False}),
    ("NOT (Price < :a OR InStock = :t)", {":a": 1, ":t": True}),
]


# Where moto departs from the Developer Guide: (filter, values, the Guide's answer, why).
DEPARTURES = [
    # "values of different types are never ordered": moto raises a TypeError instead.
    ("Price < :v", {":v": "700"}, False),
    # BOOL is its own type, not a number: moto compares Python's True == 1.
    ("InStock = :v", {":v": 1}, False),
    # A comparison with a missing attribute is false, even with NULL: moto finds None == None.
    ("Nope = :v", {":v": None}, False),
]


@pytest.mark.parametrize(("text", "values", "guide"), DEPARTURES)
def test_where_moto_departs_the_guide_decides(
    client: Any, text: str, values: dict[str, Any], guide: bool
) -> None:
    assert parse_condition(text, {}, values).holds(ITEM) is guide


@pytest.mark.parametrize(("text", "values"), CONDITIONS)
def test_filter_agrees_with_moto(client: Any, text: str, values: dict[str, Any]) -> None:
    _reset(client)
    names = {"#c": "Color"} if "#c" in text else {}
    found = client.scan(TableName="items", FilterExpression=text, **_expression_args(values, names))
    assert parse_condition(text, names, values).holds(ITEM) is (found["Count"] == 1)


UPDATES = [
    ("SET Price = Price - :d", {":d": 50}),
    ("SET Ratio = Ratio + :d", {":d": 0.2}),
    ("SET Color = list_append(Color, :c)", {":c": ["Red"]}),
    ("SET Hits = if_not_exists(Hits, :z) + :one", {":z": 0, ":one": 1}),
    ("SET Related[1] = :v", {":v": 1}),
    ("SET Related[10] = :v", {":v": 1}),
    ("SET Reviews.ThreeStar = :v", {":v": ["ok"]}),
    ("REMOVE Related[0], Related[2]", {}),
    ("REMOVE Brand, Reviews.OneStar", {}),
    ("ADD Price :n", {":n": 5}),
    ("ADD Visits :n", {":n": 5}),
    ("SET Brand = :b REMOVE InStock ADD Price :n", {":b": "X", ":n": 1}),
]


@pytest.mark.parametrize(("text", "values"), UPDATES)
def test_update_agrees_with_moto(client: Any, text: str, values: dict[str, Any]) -> None:
    _reset(client)
    result = client.update_item(
        TableName="items",
        Key={"pk": {"S": "p1"}},
        UpdateExpression=text,
        ReturnValues="ALL_NEW",
        **_expression_args(values, {}),
    )
    assert parse_update(text, {}, values).apply(ITEM) == from_attributes(result["Attributes"])


PROJECTIONS = [
    "Price, Brand",
    "Reviews.FiveStar",
    "Reviews.FiveStar[0], Price",
    "Related[0]",
    "Related[9], Nope",
]


@pytest.mark.parametrize("text", PROJECTIONS)
def test_projection_agrees_with_moto(client: Any, text: str) -> None:
    _reset(client)
    found = client.get_item(TableName="items", Key={"pk": {"S": "p1"}}, ProjectionExpression=text)
    assert parse_projection(text, {}).apply(ITEM) == from_attributes(found.get("Item", {}))


def test_projection_of_two_list_elements_keeps_both_unlike_moto() -> None:
    # The Guide: a list element projects into a compacted list (``RelatedItems[0]`` gives
    # ``[341]``); with two elements both are kept in index order. moto keeps only one.
    assert parse_projection("Related[2], Related[0]", {}).apply(ITEM) == {"Related": [341, 649]}
