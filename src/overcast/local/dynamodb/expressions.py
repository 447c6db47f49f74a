"""DynamoDB's expressions, parsed and evaluated over the table port's plain items.

The API layer hands each expression parameter of a request here:

- ``ConditionExpression`` / ``FilterExpression`` → :func:`parse_condition` → :class:`Condition`;
- ``KeyConditionExpression`` → :func:`parse_key_condition` → :class:`KeyCondition`, whose
  partition value and sort condition are the table port's own query arguments;
- ``UpdateExpression`` → :func:`parse_update` → :class:`Update`;
- ``ProjectionExpression`` → :func:`parse_projection` → :class:`Projection`.

``names`` are the request's ``ExpressionAttributeNames`` (``"#n" -> "name"``) and
``values`` its ``ExpressionAttributeValues`` as port values (already converted by
:func:`overcast.ports.tables.dynamodb_values.from_attributes`). A placeholder the
expression uses but the request does not define raises :class:`ExpressionError`
with DynamoDB's message; each parsed expression reports the placeholders it used
(``names_used``, ``values_used``), since DynamoDB also refuses unused ones and that is
checked across all of a request's expressions.

Every invalid expression raises :class:`ExpressionError`, whose text is DynamoDB's
ValidationException message (``Invalid UpdateExpression: Syntax error; token: ...``).
The modules behind this one: ``expr_tokens`` (tokens, placeholders, errors),
``expr_reserved`` (reserved words), ``expr_paths`` (document paths), ``expr_values``
(typed comparison and arithmetic), ``expr_operands`` + ``expr_condition`` (conditions),
``expr_key`` (key conditions), ``expr_update`` + ``expr_apply`` (updates) and
``expr_projection``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from overcast.local.dynamodb import expr_condition, expr_projection
from overcast.local.dynamodb.expr_apply import apply_actions
from overcast.local.dynamodb.expr_key import split_key_condition
from overcast.local.dynamodb.expr_paths import MISSING
from overcast.local.dynamodb.expr_tokens import Cursor, ExpressionError
from overcast.local.dynamodb.expr_update import parse_actions
from overcast.ports.tables.base import SortCondition
from overcast.ports.tables.values import Item, KeyValue

__all__ = [
    "Condition",
    "ExpressionError",
    "KeyCondition",
    "Projection",
    "Update",
    "parse_condition",
    "parse_key_condition",
    "parse_projection",
    "parse_update",
]


class _Parsed:
    """The placeholders an expression used."""

    def __init__(self, cursor: Cursor) -> None:
        self.names_used = frozenset(cursor.names_used)
        self.values_used = frozenset(cursor.values_used)
        self.attributes_used = frozenset(cursor.attributes_used)


class Condition(_Parsed):
    """A parsed ``ConditionExpression`` or ``FilterExpression``."""

    def __init__(self, cursor: Cursor, root: expr_condition.Node) -> None:
        super().__init__(cursor)
        self._root = root

    def holds(self, item: Item | None) -> bool:
        """Whether the condition holds for ``item`` (``None``: no item, every attribute absent)."""
        return self._root.holds(item if item is not None else {})


def parse_condition(
    text: str,
    names: Mapping[str, str],
    values: Mapping[str, Any],
    *,
    label: str = "ConditionExpression",
) -> Condition:
    """Parse a condition; ``label`` (``FilterExpression`` for filters) prefixes its errors."""
    cursor = Cursor(text, label, names, values)
    return Condition(cursor, expr_condition.parse(cursor))


class KeyCondition(_Parsed):
    """A parsed ``KeyConditionExpression``: the partition value and an optional sort condition."""

    def __init__(
        self, cursor: Cursor, partition_value: KeyValue, sort: SortCondition | None
    ) -> None:
        super().__init__(cursor)
        self.partition_value = partition_value
        self.sort = sort


def parse_key_condition(
    text: str,
    names: Mapping[str, str],
    values: Mapping[str, Any],
    *,
    partition_key: str,
    sort_key: str | None,
) -> KeyCondition:
    """Parse a key condition on a table or index with these key attribute names."""
    cursor = Cursor(text, "KeyConditionExpression", names, values)
    root = expr_condition.parse(cursor)
    partition_value, sort = split_key_condition(root, partition_key, sort_key)
    return KeyCondition(cursor, partition_value, sort)


class Update(_Parsed):
    """A parsed ``UpdateExpression``."""

    def __init__(self, cursor: Cursor) -> None:
        self._actions = parse_actions(cursor)
        super().__init__(cursor)
        self.touched = frozenset(str(action.path[0]) for action in self._actions)
        self._paths = expr_projection.tree_of([action.path for action in self._actions])

    def apply(self, item: Item) -> Item:
        """The updated item, a new one (``item`` is untouched).

        Raises :class:`ExpressionError` when an operand is missing or of the wrong type.
        """
        return apply_actions(self._actions, item)

    def updated_part(self, item: Item | None) -> Item:
        """Only the paths this update sets, adds or removes, as ``item`` holds them
        (DynamoDB's ``UPDATED_OLD`` / ``UPDATED_NEW``: "only the updated attributes")."""
        projected = expr_projection.project(item or {}, self._paths)
        return {} if projected is MISSING else copy.deepcopy(dict(projected))


def parse_update(text: str, names: Mapping[str, str], values: Mapping[str, Any]) -> Update:
    """Parse an update expression."""
    return Update(Cursor(text, "UpdateExpression", names, values))


class Projection(_Parsed):
    """A parsed ``ProjectionExpression``."""

    def __init__(self, cursor: Cursor) -> None:
        self._tree = expr_projection.tree_of(expr_projection.parse_paths(cursor))
        super().__init__(cursor)

    def apply(self, item: Item) -> Item:
        """Only the projected parts of ``item``, as a new item."""
        projected = expr_projection.project(item, self._tree)
        return {} if projected is MISSING else copy.deepcopy(dict(projected))


def parse_projection(text: str, names: Mapping[str, str]) -> Projection:
    """Parse a projection expression."""
    return Projection(Cursor(text, "ProjectionExpression", names, {}))
