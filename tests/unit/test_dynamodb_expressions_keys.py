"""Key condition expressions, mapped to the table port's query arguments."""

from __future__ import annotations

from typing import Any

import pytest

from overcast.local.dynamodb.expressions import ExpressionError, parse_key_condition
from overcast.ports.tables.base import BeginsWith, Between, KeyCompare, SortCondition

VALUES: dict[str, Any] = {":u": "ana", ":a": "2024-01", ":b": "2024-12", ":n": 3, ":t": True}


def key_condition(text: str, sort_key: str | None = "created") -> Any:
    return parse_key_condition(
        text, {"#u": "user", "#c": "created"}, VALUES, partition_key="user", sort_key=sort_key
    )


SUPPORTED: list[tuple[str, SortCondition | None]] = [
    ("#u = :u", None),
    ("#u = :u AND #c = :a", KeyCompare("=", "2024-01")),
    ("#u = :u AND #c < :a", KeyCompare("<", "2024-01")),
    ("#u = :u AND #c <= :a", KeyCompare("<=", "2024-01")),
    ("#u = :u AND #c > :a", KeyCompare(">", "2024-01")),
    ("#u = :u AND #c >= :n", KeyCompare(">=", 3)),
    ("#u = :u AND #c BETWEEN :a AND :b", Between("2024-01", "2024-12")),
    ("#u = :u AND begins_with(#c, :a)", BeginsWith("2024-01")),
    ("#c = :a AND #u = :u", KeyCompare("=", "2024-01")),  # in either order
    ("(#u = :u) AND (#c > :a)", KeyCompare(">", "2024-01")),
    ("#u = :u and #c > :a", KeyCompare(">", "2024-01")),
]


@pytest.mark.parametrize(("text", "sort"), SUPPORTED)
def test_key_condition_becomes_the_ports_query(text: str, sort: SortCondition | None) -> None:
    parsed = key_condition(text)
    assert parsed.partition_value == "ana"
    assert parsed.sort == sort


def test_key_condition_reports_the_placeholders_it_used() -> None:
    parsed = key_condition("#u = :u AND #c BETWEEN :a AND :b")
    assert parsed.names_used == {"#u", "#c"}
    assert parsed.values_used == {":u", ":a", ":b"}


def test_bare_key_names_need_no_placeholders() -> None:
    parsed = parse_key_condition(
        "pk = :u AND sk < :n", {}, VALUES, partition_key="pk", sort_key="sk"
    )
    assert (parsed.partition_value, parsed.sort) == ("ana", KeyCompare("<", 3))


UNSUPPORTED = [
    ("#c = :a", "Query condition missed key schema element: user"),
    ("#u < :u", "Query key condition not supported"),
    ("begins_with(#u, :u)", "Query key condition not supported"),
    ("#u = :u AND colour = :a", "Query condition missed key schema element: created"),
    ("#u = :u OR #c = :a", "Invalid operator used in KeyConditionExpression: OR"),
    ("NOT #u = :u", "Invalid operator used in KeyConditionExpression: NOT"),
    ("#u = :u AND #c <> :a", "Invalid operator used in KeyConditionExpression: <>"),
    ("#u IN (:u)", "Invalid operator used in KeyConditionExpression: IN"),
    (
        "#u = :u AND attribute_exists(#c)",
        "Invalid operator used in KeyConditionExpression: attribute_exists",
    ),
    ("#u = :u AND contains(#c, :a)", "Invalid operator used in KeyConditionExpression: contains"),
    (
        "#u = :u AND #c > :a AND #c < :b",
        "KeyConditionExpressions must only contain one condition per key",
    ),
    ("#u = :u AND #u = :u", "KeyConditionExpressions must only contain one condition per key"),
    ("#u = #c", "Query key condition not supported"),
    (":u = #u", "Query key condition not supported"),
    ("#u.x = :u", "Query key condition not supported"),
    ("#u = :t", "Condition parameter type does not match schema type"),
    ("#u = :u AND #c BETWEEN :b AND :a", "The BETWEEN operator requires upper bound"),
    ("#u = :u AND", 'Invalid KeyConditionExpression: Syntax error; token: "<EOF>"'),
    ("#u = :nope", "attribute value: :nope"),
]


@pytest.mark.parametrize(("text", "message"), UNSUPPORTED)
def test_unsupported_key_condition_is_refused_with_dynamodbs_message(
    text: str, message: str
) -> None:
    with pytest.raises(ExpressionError) as raised:
        key_condition(text)
    assert message in str(raised.value)


def test_a_table_without_sort_key_takes_only_the_partition_condition() -> None:
    assert key_condition("#u = :u", sort_key=None).sort is None
    with pytest.raises(ExpressionError, match="Query key condition not supported"):
        key_condition("#u = :u AND #c = :a", sort_key=None)
