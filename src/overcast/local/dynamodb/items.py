"""The single-item calls: ``GetItem``, ``PutItem``, ``DeleteItem``, ``UpdateItem``.

Mirrored from DynamoDB ("Working with items", "Condition expressions", "Update
expressions", the API reference):

- A ``ConditionExpression`` is checked atomically with the write: it becomes the
  port's :class:`~overcast.ports.tables.ItemMatches`, evaluated inside the SQLite
  write transaction, so writers in other processes (the functions) can never slip in
  between. When it fails: ``ConditionalCheckFailedException``, nothing written; with
  ``ReturnValuesOnConditionCheckFailure=ALL_OLD`` the error carries the item as it was.
- ``ReturnValues``: PutItem and DeleteItem ``NONE|ALL_OLD``; UpdateItem also
  ``ALL_NEW``, ``UPDATED_OLD``, ``UPDATED_NEW`` ("only the updated attributes").
- ``UpdateItem`` creates a missing item ("Edits an existing item's attributes, or
  adds a new item to the table if it does not already exist") and refuses to change a
  key attribute ("Cannot update attribute pk. This attribute is part of the key").
  It reads the item, applies the expression, and writes the result only if the item
  is still what was read (and the user's condition holds): when only the first part
  failed, another writer came first, so it starts again (bounded), which is how
  ``SET n = n + :one`` from many writers never loses an update.
- ``UpdateItem`` checks the ``ConditionExpression`` against the item as it is before
  it applies the ``UpdateExpression`` (a failed condition means the update is not
  applied: "If the condition evaluates to false, the update fails"), so an update whose
  operand is missing answers ``ConditionalCheckFailedException`` when its condition
  fails, not the operand's ValidationException.
- ``UPDATED_OLD`` / ``UPDATED_NEW`` return only the updated paths (a nested
  ``SET a.b = :x`` returns ``{"a": {"b": ...}}``), as DynamoDB does.
- The legacy parameters (``Expected``, ``AttributeUpdates``, ``ConditionalOperator``,
  ``AttributesToGet``) are refused (``params.refuse_legacy``), nothing written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from overcast.local.dynamodb import errors, params, port
from overcast.local.dynamodb.expressions import (
    Condition,
    Update,
    parse_condition,
    parse_projection,
    parse_update,
)
from overcast.local.dynamodb.params import Params
from overcast.ports.tables import ConditionFailed, ItemMatches, Table
from overcast.ports.tables.dynamodb_values import to_attributes
from overcast.ports.tables.values import Item, encode_item

Result = dict[str, Any]
MAX_UPDATE_ATTEMPTS = 1000
_FAILURE_VALUES = ("NONE", "ALL_OLD")


@dataclass
class _Witness:
    """What the predicate saw inside the write's transaction."""

    current: Item | None = None
    stale: bool = False
    seen: bool = field(default=False)


def get_item(table: Table, request: Params) -> Result:
    params.refuse_legacy(request)
    key = params.key_of(request, table.key_names)
    names = params.names_of(request)
    text = request.get("ProjectionExpression")
    with port.translated():
        projection = parse_projection(text, names) if text else None
        used = projection.names_used if projection else frozenset()
        params.check_placeholders(request, used, (), 1 if text else 0)
        item = table.get(key, consistent=bool(request.get("ConsistentRead")))
    if item is None:
        return {}
    return {"Item": to_attributes(projection.apply(item) if projection else item)}


def put_item(table: Table, request: Params) -> Result:
    params.refuse_legacy(request)
    item = params.item_of(params.required(request, "Item"))
    returns = params.choice(request, "ReturnValues", ("NONE", "ALL_OLD"), "NONE")
    condition = _condition(request)
    witness = _Witness()
    with _FailedCheck(request, witness):
        table.put(item, condition=_watched(condition, witness))
    return _old(returns, witness.current)


def delete_item(table: Table, request: Params) -> Result:
    params.refuse_legacy(request)
    key = params.key_of(request, table.key_names)
    returns = params.choice(request, "ReturnValues", ("NONE", "ALL_OLD"), "NONE")
    condition = _condition(request)
    witness = _Witness()
    with _FailedCheck(request, witness):
        old = table.delete(key, condition=_watched(condition, witness))
    return _old(returns, old)


def update_item(table: Table, request: Params) -> Result:
    params.refuse_legacy(request)
    key = params.key_of(request, table.key_names)
    returns = params.choice(
        request,
        "ReturnValues",
        ("NONE", "ALL_OLD", "ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"),
        "NONE",
    )
    names, values = params.names_of(request), params.values_of(request)
    text = request.get("UpdateExpression")
    condition_text = request.get("ConditionExpression")
    with port.translated():
        update = parse_update(text, names, values) if text else None
        condition = parse_condition(condition_text, names, values) if condition_text else None
    parsed = [p for p in (update, condition) if p is not None]
    params.check_placeholders(
        request,
        frozenset().union(*(p.names_used for p in parsed)),
        frozenset().union(*(p.values_used for p in parsed)),
        len(parsed),
    )
    touched = update.touched if update else frozenset()
    keys = sorted(touched & set(table.key_names))
    if keys:
        raise errors.ValidationException(
            "One or more parameter values were invalid: Cannot update attribute "
            f"{keys[0]}. This attribute is part of the key"
        )
    old, new = _update_loop(table, key, request, update, condition)
    return _updated(returns, old, new, update)


def _update_loop(
    table: Table, key: Item, request: Params, update: Update | None, condition: Condition | None
) -> tuple[Item | None, Item]:
    for _ in range(MAX_UPDATE_ATTEMPTS):
        current = port.call(lambda: table.get(key, consistent=True))
        base = current if current is not None else dict(key)
        if condition is not None and not condition.holds(current):
            # The condition first, on the item as read (consistently): a failed
            # condition means the update is not applied, whatever its operands.
            witness = _Witness(current=current)
            with _FailedCheck(request, witness):
                raise ConditionFailed("ConditionExpression")
        with port.translated():
            new = update.apply(base) if update else base
        witness = _Witness()
        expected = None if current is None else encode_item(current)
        guard = ItemMatches(_unchanged(expected, condition, witness), "item unchanged")
        try:
            with _FailedCheck(request, witness):
                table.put(new, condition=guard)
        except _Stale:
            continue
        return current, new
    raise errors.ServiceUnavailable("The item kept changing under this update; retry it.")


class _Stale(Exception):
    """Another writer changed the item between the read and the write."""


def _unchanged(
    expected: str | None, condition: Condition | None, witness: _Witness
) -> Callable[[Item | None], bool]:
    def holds(current: Item | None) -> bool:
        witness.current = current
        witness.stale = (None if current is None else encode_item(current)) != expected
        if witness.stale:
            return False
        return condition is None or condition.holds(current)

    return holds


def _condition(request: Params) -> Condition | None:
    text = request.get("ConditionExpression")
    names, values = params.names_of(request), params.values_of(request)
    with port.translated():
        condition = parse_condition(text, names, values) if text else None
    used_names = condition.names_used if condition else frozenset()
    used_values = condition.values_used if condition else frozenset()
    params.check_placeholders(request, used_names, used_values, 1 if condition else 0)
    return condition


def _watched(condition: Condition | None, witness: _Witness) -> ItemMatches:
    """The user's condition as the port's predicate, remembering the item it saw."""

    def holds(current: Item | None) -> bool:
        witness.current, witness.seen = current, True
        return condition is None or condition.holds(current)

    return ItemMatches(holds, "ConditionExpression")


class _FailedCheck:
    """Translate the port's errors; a failed condition carries the old item if asked
    (``ReturnValuesOnConditionCheckFailure=ALL_OLD``); a stale read is :class:`_Stale`."""

    def __init__(self, request: Params, witness: _Witness) -> None:
        self._all_old = (
            params.choice(request, "ReturnValuesOnConditionCheckFailure", _FAILURE_VALUES, "NONE")
            == "ALL_OLD"
        )
        self._witness = witness
        self._translated = port.translated()

    def __enter__(self) -> None:
        self._translated.__enter__()

    def __exit__(self, kind: Any, error: Any, trace: Any) -> bool | None:
        if isinstance(error, ConditionFailed):
            if self._witness.stale:
                raise _Stale() from None
            current = self._witness.current
            extra = {"Item": to_attributes(current)} if self._all_old and current else {}
            raise errors.ConditionalCheckFailed(extra=extra) from None
        return self._translated.__exit__(kind, error, trace)


def _old(returns: str, old: Item | None) -> Result:
    return {"Attributes": to_attributes(old)} if returns == "ALL_OLD" and old else {}


def _updated(returns: str, old: Item | None, new: Item, update: Update | None) -> Result:
    chosen: Item | None = {
        "NONE": None,
        "ALL_OLD": old,
        "ALL_NEW": new,
        "UPDATED_OLD": update.updated_part(old) if update else None,
        "UPDATED_NEW": update.updated_part(new) if update else None,
    }[returns]
    return {"Attributes": to_attributes(chosen)} if chosen else {}
