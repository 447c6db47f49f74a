"""How parsed update actions change an item, as DynamoDB applies them.

DynamoDB's rules mirrored (Developer Guide, "Using update expressions in DynamoDB"
and the UpdateItem API reference):

- Every operand is read from the item as it was before the update.
- ``SET a = b + :n`` needs numbers; ``list_append`` needs lists (else "An operand in the
  update expression has an incorrect data type"); reading a missing attribute outside
  ``if_not_exists`` fails ("The provided expression refers to an attribute that does not
  exist in the item").
- Setting a nested path needs its parent map or list to exist ("The document path
  provided in the update expression is invalid for update"); setting a list index past
  the end "adds the new element to the end of the list".
- ``REMOVE`` of a list element shifts the later elements down; removing several
  elements of one list removes those the indexes named before the update. Removing a
  missing attribute or element changes nothing.
- ``ADD path :n`` adds to a number, starting from 0 when the attribute is missing.
- The input item is never changed: the update works on a deep copy.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from overcast.local.dynamodb.expr_paths import MISSING, Path, resolve
from overcast.local.dynamodb.expr_tokens import ExpressionError
from overcast.local.dynamodb.expr_update import (
    Action,
    Arithmetic,
    IfNotExists,
    ListAppend,
    Literal,
    Read,
    Value,
)
from overcast.local.dynamodb.expr_values import arithmetic
from overcast.ports.tables.values import is_number

_WRONG_TYPE = "An operand in the update expression has an incorrect data type"
_MISSING = "The provided expression refers to an attribute that does not exist in the item"
_BAD_PATH = "The document path provided in the update expression is invalid for update"


def apply_actions(actions: Sequence[Action], item: dict[str, Any]) -> dict[str, Any]:
    """The item ``actions`` leave (a new item; ``item`` is untouched)."""
    computed = [(action, _new_value(action, item)) for action in actions]
    result = copy.deepcopy(item)
    for action, value in computed:
        if action.clause != "REMOVE":
            _assign(result, action.path, value)
    removals = [action.path for action in actions if action.clause == "REMOVE"]
    for path in sorted(removals, key=_removal_order, reverse=True):
        _remove(result, path)
    return result


def _new_value(action: Action, item: dict[str, Any]) -> Any:
    if action.value is None:
        return None
    value = evaluate(action.value, item)
    if action.clause == "ADD":
        current = resolve(item, action.path)
        if current is MISSING:
            return value
        if not is_number(current):
            raise ExpressionError(_WRONG_TYPE)
        return arithmetic("+", current, value)
    return copy.deepcopy(value)


def evaluate(value: Value, item: dict[str, Any]) -> Any:
    """The value of a SET operand, read from ``item``."""
    if isinstance(value, Literal):
        return value.value
    if isinstance(value, Read):
        found = resolve(item, value.path)
        if found is MISSING:
            raise ExpressionError(_MISSING)
        return found
    if isinstance(value, IfNotExists):
        found = resolve(item, value.path)
        return evaluate(value.fallback, item) if found is MISSING else found
    left, right = _operands(value, item)
    if isinstance(value, ListAppend):
        if not isinstance(left, list) or not isinstance(right, list):
            raise ExpressionError(_WRONG_TYPE)
        return [*left, *right]
    if not is_number(left) or not is_number(right):
        raise ExpressionError(_WRONG_TYPE)
    return arithmetic(value.op, left, right)


def _operands(value: ListAppend | Arithmetic, item: dict[str, Any]) -> tuple[Any, Any]:
    if isinstance(value, ListAppend):
        return evaluate(value.first, item), evaluate(value.second, item)
    return evaluate(value.left, item), evaluate(value.right, item)


def _assign(result: dict[str, Any], path: Path, value: Any) -> None:
    parent, last = resolve(result, path[:-1]), path[-1]
    if isinstance(last, str) and isinstance(parent, dict):
        parent[last] = value
    elif isinstance(last, int) and isinstance(parent, list):
        if last < len(parent):
            parent[last] = value
        else:
            parent.append(value)
    else:
        raise ExpressionError(_BAD_PATH)


def _remove(result: dict[str, Any], path: Path) -> None:
    parent, last = resolve(result, path[:-1]), path[-1]
    if isinstance(last, str) and isinstance(parent, dict):
        parent.pop(last, None)
    elif isinstance(last, int) and isinstance(parent, list):
        if last < len(parent):
            del parent[last]
    else:
        raise ExpressionError(_BAD_PATH)


def _removal_order(path: Path) -> tuple[tuple[int, int, str], ...]:
    # Later indexes of one list first, so each removal sees the indexes as they were.
    return tuple((1, e, "") if isinstance(e, int) else (0, 0, e) for e in path)
