"""Key condition expressions: a parsed condition checked and mapped to the table port.

DynamoDB's rules mirrored (Developer Guide, "Key condition expressions for the Query
operation"): "You must specify the partition key name and value as an equality
condition"; optionally ``AND`` one sort key condition among ``=``, ``<``, ``<=``,
``>``, ``>=``, ``BETWEEN ... AND ...`` and ``begins_with``. Its messages:

- ``Query condition missed key schema element: <key>``: no condition on a key;
- ``Query key condition not supported``: the partition key not compared by ``=``,
  a condition on another attribute, a path or function where a value belongs;
- ``Invalid operator used in KeyConditionExpression: <op>`` (``OR``, ``NOT``, ``IN``,
  ``<>``, ``attribute_exists``, …);
- ``KeyConditionExpressions must only contain one condition per key``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from overcast.local.dynamodb.expr_condition import Node
from overcast.local.dynamodb.expr_operands import PathOperand, ValueOperand
from overcast.local.dynamodb.expr_tokens import ExpressionError
from overcast.ports.tables.base import BeginsWith, Between, KeyCompare, SortCondition
from overcast.ports.tables.values import KeyValue, is_number

_SORT_OPERATORS = ("=", "<", "<=", ">", ">=", "BETWEEN", "begins_with")
_UNSUPPORTED = "Query key condition not supported"


@dataclass(frozen=True)
class _KeyTest:
    name: str
    operator: str
    values: tuple[Any, ...]


def split_key_condition(
    root: Node, partition_key: str, sort_key: str | None
) -> tuple[KeyValue, SortCondition | None]:
    """The partition value and sort condition of a parsed key condition."""
    tests: dict[str, _KeyTest] = {}
    for node in _conjuncts(root):
        test = _key_test(node)
        if test.name in tests:
            raise ExpressionError("KeyConditionExpressions must only contain one condition per key")
        tests[test.name] = test
    if partition_key not in tests:
        raise ExpressionError(f"Query condition missed key schema element: {partition_key}")
    partition = tests.pop(partition_key)
    if partition.operator != "=":
        raise ExpressionError(_UNSUPPORTED)
    sort = tests.pop(sort_key, None) if sort_key else None
    if tests:
        if sort_key is not None and sort is None:
            raise ExpressionError(f"Query condition missed key schema element: {sort_key}")
        raise ExpressionError(_UNSUPPORTED)
    return _key_value(partition.values[0]), _sort_condition(sort)


def _conjuncts(node: Node) -> list[Node]:
    if node.operator == "AND":
        return [part for operand in node.operands for part in _conjuncts(operand)]
    if node.operator not in _SORT_OPERATORS:
        raise ExpressionError(f"Invalid operator used in KeyConditionExpression: {node.operator}")
    return [node]


def _key_test(node: Node) -> _KeyTest:
    subject, *rest = node.operands
    path = subject.path if isinstance(subject, PathOperand) else subject
    if not isinstance(path, tuple) or len(path) != 1 or not isinstance(path[0], str):
        raise ExpressionError(_UNSUPPORTED)
    if not all(isinstance(operand, ValueOperand) for operand in rest):
        raise ExpressionError(_UNSUPPORTED)
    return _KeyTest(path[0], node.operator, tuple(operand.literal for operand in rest))


def _key_value(value: Any) -> KeyValue:
    if isinstance(value, str) or is_number(value):
        return value  # type: ignore[no-any-return]
    raise ExpressionError(
        "One or more parameter values were invalid: Condition parameter type does not match "
        "schema type"
    )


def _sort_condition(test: _KeyTest | None) -> SortCondition | None:
    if test is None:
        return None
    if test.operator == "BETWEEN":
        return Between(_key_value(test.values[0]), _key_value(test.values[1]))
    if test.operator == "begins_with":
        prefix = test.values[0]
        if not isinstance(prefix, str):
            raise ExpressionError(_UNSUPPORTED)
        return BeginsWith(prefix)
    return KeyCompare(test.operator, _key_value(test.values[0]))  # type: ignore[arg-type]
