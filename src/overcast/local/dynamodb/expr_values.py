"""How expressions compare, measure and add port values, as DynamoDB does.

DynamoDB's rules mirrored (Developer Guide, "Comparison operator and function
reference" and "Update expressions"):

- A value's type is ``S``, ``N``, ``BOOL``, ``NULL``, ``L`` or ``M`` (sets and binary
  cannot be stored locally). Values of different types are never equal, and never
  ordered: ``<`` between a string and a number is simply false.
- Only ``S`` and ``N`` (and ``B``) are ordered: numbers by value, strings by their
  UTF-8 bytes ("String value comparisons ... use the underlying UTF-8 binary
  encoding").
- ``size`` is a string's length in bytes, a list's or map's number of elements; other
  types have no size.
- Numbers are decimals: ``SET n = n + :d`` computes exactly (``0.1 + 0.2`` is ``0.3``).
  A result the local tables cannot hold exactly (a non-integer beyond a double's
  precision) raises :class:`ExpressionError` naming that local limit, as the API
  refuses such a number in a request (``params``): it is never rounded silently.
"""

from __future__ import annotations

import decimal
import operator
from collections.abc import Callable
from typing import Any

from overcast.local.dynamodb.expr_paths import MISSING
from overcast.local.dynamodb.expr_tokens import ExpressionError
from overcast.ports.tables.dynamodb_values import exact_number
from overcast.ports.tables.values import is_number, same_value

__all__ = ["MISSING", "arithmetic", "compare", "same_value", "size_of", "type_name"]

_ORDERED = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
# DynamoDB's number context: 38 significant digits.
_CONTEXT = decimal.Context(prec=38)


def type_name(value: Any) -> str | None:
    """DynamoDB's type of a port value (``None`` for ``MISSING``)."""
    if value is MISSING:
        return None
    if isinstance(value, bool):
        return "BOOL"
    if is_number(value):
        return "N"
    if isinstance(value, str):
        return "S"
    if value is None:
        return "NULL"
    if isinstance(value, list | tuple):
        return "L"
    return "M" if isinstance(value, dict) else None


def compare(op: str, left: Any, right: Any) -> bool:
    """``left <op> right`` with DynamoDB's semantics (see the module docstring)."""
    if op == "=":
        return left is not MISSING and right is not MISSING and same_value(left, right)
    if op == "<>":
        # DynamoDB's NE holds for an attribute that is absent or of another type.
        return not (left is not MISSING and right is not MISSING and same_value(left, right))
    kind = type_name(left)
    if kind not in ("S", "N") or kind != type_name(right):
        return False
    if kind == "S":
        left, right = left.encode(), right.encode()
    return bool(_ORDERED[op](left, right))


def size_of(value: Any) -> Any:
    """DynamoDB's ``size(path)`` of a value, or ``MISSING`` when it has none."""
    kind = type_name(value)
    if kind == "S":
        return len(value.encode())
    if kind in ("L", "M"):
        return len(value)
    return MISSING


def arithmetic(op: str, left: Any, right: Any) -> int | float:
    """``left + right`` or ``left - right`` of two numbers, computed as decimals."""
    combine: Callable[[decimal.Decimal, decimal.Decimal], decimal.Decimal] = (
        _CONTEXT.add if op == "+" else _CONTEXT.subtract
    )
    result = combine(_decimal(left), _decimal(right))
    if not exact_number(str(result)):
        raise ExpressionError(
            f"The result {result} of the update expression cannot be stored exactly by the "
            "local cloud's tables (a local limit: integers are exact up to 38 digits, other "
            "numbers are doubles, about 15 significant digits)"
        )
    if result == result.to_integral_value():
        return int(result)
    return float(result)


def _decimal(number: int | float) -> decimal.Decimal:
    return decimal.Decimal(number if isinstance(number, int) else repr(number))
