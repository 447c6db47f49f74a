"""DynamoDB expressions for the port's conditions, updates and key conditions.

Every attribute name and value goes through a placeholder (``#n0``, ``:v0``) in
``ExpressionAttributeNames`` / ``ExpressionAttributeValues``; no expression is ever
built from a caller's text, so a name such as ``status`` (a reserved word) or
``a.b`` (a document path) is always one plain attribute, and no value can inject.

The port's conditions, as DynamoDB's condition expressions:

- :class:`ItemExists` → ``attribute_exists(#pk)``; :class:`ItemNotExists` →
  ``attribute_not_exists(#pk)`` (the partition key is in every stored item).
- :class:`AttributeEquals` → ``attribute_exists(#a) AND #a = :v``. In DynamoDB a
  comparison with a missing attribute is already false, even ``= :null``; the explicit
  ``attribute_exists`` says so, and keeps emulators that compare a missing attribute
  as NULL (moto) from letting such a write through.

:func:`outside` tells where a resumed query's start key lies against a sort-key
condition, because DynamoDB refuses an ``ExclusiveStartKey`` outside the condition
("The provided starting key is outside query boundaries based on provided
conditions"), while the port allows resuming a query with another condition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from overcast.ports.tables.base import (
    BeginsWith,
    Between,
    Condition,
    ItemExists,
    ItemMatches,
    ItemNotExists,
    KeyCompare,
    KeyValue,
    SortCondition,
)
from overcast.ports.tables.dynamodb_values import AttributeValue, to_attribute
from overcast.ports.tables.exceptions import InvalidItem


class Expression:
    """The placeholders of one request; each method returns an expression using them."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._values: dict[str, AttributeValue] = {}

    def name(self, attribute: str) -> str:
        """The placeholder of attribute ``attribute`` (one per name)."""
        placeholder = self._names.get(attribute)
        if placeholder is None:
            placeholder = self._names[attribute] = f"#n{len(self._names)}"
        return placeholder

    def value(self, value: Any) -> str:
        """A new placeholder for ``value``."""
        placeholder = f":v{len(self._values)}"
        self._values[placeholder] = to_attribute(value)
        return placeholder

    def placeholders(self) -> dict[str, Any]:
        """The request's ``ExpressionAttributeNames`` / ``Values`` (only those used)."""
        request: dict[str, Any] = {}
        if self._names:
            request["ExpressionAttributeNames"] = {v: k for k, v in self._names.items()}
        if self._values:
            request["ExpressionAttributeValues"] = dict(self._values)
        return request

    def condition(self, condition: Condition | None, partition_key: str) -> str | None:
        """The ``ConditionExpression`` of a write, or ``None`` for no condition."""
        if condition is None:
            return None
        if isinstance(condition, ItemExists):
            return f"attribute_exists({self.name(partition_key)})"
        if isinstance(condition, ItemNotExists):
            return f"attribute_not_exists({self.name(partition_key)})"
        if isinstance(condition, ItemMatches):
            raise InvalidItem(
                f"DynamoDB cannot check a Python predicate ({condition.description}): "
                "give the write an ItemExists, ItemNotExists or AttributeEquals condition."
            )
        name = self.name(condition.name)
        return f"attribute_exists({name}) AND {name} = {self.value(condition.value)}"

    def update(self, changes: Mapping[str, Any], removals: Iterable[str]) -> str | None:
        """The ``UpdateExpression`` that sets ``changes`` and removes ``removals``."""
        clauses = []
        sets = [f"{self.name(name)} = {self.value(value)}" for name, value in changes.items()]
        if sets:
            clauses.append("SET " + ", ".join(sets))
        removes = [self.name(name) for name in removals]
        if removes:
            clauses.append("REMOVE " + ", ".join(removes))
        return " ".join(clauses) or None

    def key_condition(
        self,
        partition_key: str,
        partition_value: KeyValue,
        sort_key: str | None,
        sort: SortCondition | None,
    ) -> str:
        """The ``KeyConditionExpression`` of a query of one partition."""
        expression = f"{self.name(partition_key)} = {self.value(partition_value)}"
        if sort is None or sort_key is None:
            return expression
        return f"{expression} AND {self._sort(self.name(sort_key), sort)}"

    def _sort(self, name: str, sort: SortCondition) -> str:
        if isinstance(sort, KeyCompare):
            return f"{name} {sort.op} {self.value(sort.value)}"
        if isinstance(sort, Between):
            return f"{name} BETWEEN {self.value(sort.low)} AND {self.value(sort.high)}"
        return f"begins_with({name}, {self.value(sort.prefix)})"


def outside(value: KeyValue, sort: SortCondition) -> Literal["below", "above"] | None:
    """Whether a sort-key ``value`` lies below or above the values ``sort`` selects,
    in ascending order; ``None`` if ``sort`` selects it.

    Strings compare by code point, which is DynamoDB's UTF-8 byte order.
    """
    low, high = _bounds(value, sort)
    if low:
        return "below"
    if high:
        return "above"
    return None


def _bounds(value: Any, sort: SortCondition) -> tuple[bool, bool]:
    """(``value`` is below the selection, ``value`` is above it)."""
    if isinstance(sort, BeginsWith):
        return value < sort.prefix, value > sort.prefix and not value.startswith(sort.prefix)
    if isinstance(sort, Between):
        return value < sort.low, value > sort.high
    bound: Any = sort.value
    return {
        "=": (value < bound, value > bound),
        "<": (False, value >= bound),
        "<=": (False, value > bound),
        ">": (value <= bound, False),
        ">=": (value < bound, False),
    }[sort.op]
