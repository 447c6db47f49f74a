"""A write's condition, checked by the adapters inside the write's own transaction.

DynamoDB checks a ``ConditionExpression`` "before the write", atomically with it: when
it does not hold the write fails with ``ConditionalCheckFailedException`` and changes
nothing. The port's conditions are data, so that the DynamoDB adapter can translate
them into condition expressions:

- :class:`ItemExists` / :class:`ItemNotExists`: ``attribute_exists(pk)`` /
  ``attribute_not_exists(pk)``;
- :class:`AttributeEquals`: ``attribute_exists(a) AND a = :v``;
- :class:`ItemMatches`: any predicate of the current item (``None`` when there is
  none), for callers that evaluate DynamoDB's whole expression language themselves
  (the local DynamoDB API). Only adapters that read the item inside their own
  transaction can check it (SQLite, memory: :attr:`Table.evaluates_predicates`); the
  DynamoDB adapter cannot translate a Python predicate and refuses it with
  :class:`~overcast.ports.tables.exceptions.InvalidItem`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from overcast.ports.tables import values
from overcast.ports.tables.exceptions import ConditionFailed
from overcast.ports.tables.values import Item


@dataclass(frozen=True)
class ItemExists:
    """The item must exist (DynamoDB: ``attribute_exists(pk)``)."""


@dataclass(frozen=True)
class ItemNotExists:
    """The item must not exist (DynamoDB: ``attribute_not_exists(pk)``)."""


@dataclass(frozen=True)
class AttributeEquals:
    """The item must exist and its attribute ``name`` must equal ``value``."""

    name: str
    value: Any


@dataclass(frozen=True, eq=False)
class ItemMatches:
    """``predicate(current item or None)`` must be true; ``description`` names it in
    the :class:`ConditionFailed` message. The predicate must not change the item and
    must be quick: it runs while the table's write lock is held."""

    predicate: Callable[[Item | None], bool] = field(repr=False)
    description: str


Condition: TypeAlias = ItemExists | ItemNotExists | AttributeEquals | ItemMatches


def check_condition(condition: Condition | None, current: Item | None) -> None:
    """Raise :class:`ConditionFailed` unless ``condition`` holds for ``current``.

    Adapters that read-then-write call this inside their transaction.
    """
    if condition is None:
        return
    if isinstance(condition, ItemExists):
        holds = current is not None
    elif isinstance(condition, ItemNotExists):
        holds = current is None
    elif isinstance(condition, ItemMatches):
        holds = bool(condition.predicate(current))
    else:
        # DynamoDB: a comparison with a missing attribute is false, even ``= :null``.
        holds = (
            current is not None
            and condition.name in current
            and values.same_value(current[condition.name], condition.value)
        )
    if not holds:
        raise ConditionFailed(f"The conditional request failed: {condition}.")
