"""The table port's plain values as DynamoDB's typed attribute values, and back.

boto3's :class:`~boto3.dynamodb.types.TypeSerializer` and ``TypeDeserializer`` do
the typing (``S``, ``N``, ``BOOL``, ``NULL``, ``L``, ``M``); this module only bridges
numbers, which boto3 insists on as :class:`~decimal.Decimal`:

- Writing, an ``int`` stays exact and a ``float`` becomes the decimal of its
  shortest ``repr`` (``0.1`` is sent as ``0.1``, not as its binary expansion). A float
  that is a whole number is sent as that integer: DynamoDB compares numbers by value
  ("2" and "2.0" are one key), and so do key lookups here.
- DynamoDB accepts numbers from 1E-130 to 9.9999999999999999999999999999999999999E+125
  with 38 significant digits; anything else is :class:`InvalidItem`. (The local tables
  accept any finite float: this limit is AWS's own.)
- The port's numbers are ``int`` and ``float``, so only some decimals survive the
  trip: :func:`exact_number` tells whether a number's text would read back as the
  same decimal (the local DynamoDB API refuses the others rather than round them).
- Reading, a number with no fractional part comes back as ``int`` and any other as
  ``float``. So a ``2.0`` written comes back as ``2`` (equal in value, as in
  DynamoDB, where a number has no separate integer type).

Sets and binary values (``SS``, ``NS``, ``BS``, ``B``), which the port never writes,
come back as sorted lists and bytes if another writer stored them.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer

from overcast.ports.tables.exceptions import InvalidItem
from overcast.ports.tables.values import Item

AttributeValue = dict[str, Any]
"""One typed value of DynamoDB's wire format, e.g. ``{"S": "ana"}``."""

# DynamoDB: "Numbers can have up to 38 digits of precision"; larger integers are floats.
_MAX_EXACT = 10**38 - 1
# Floats below 2**53 that are whole numbers are exactly that integer.
_EXACT_FLOATS = 2.0**53
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_attribute(value: Any) -> AttributeValue:
    """``value`` (a port value) as a DynamoDB attribute value."""
    try:
        typed: Any = _serializer.serialize(_with_decimals(value))
    except (decimal.DecimalException, TypeError, ValueError) as exc:
        raise InvalidItem(f"DynamoDB cannot store {value!r}: {exc!r}.") from exc
    return dict(typed)


def to_attributes(item: Mapping[str, Any]) -> dict[str, AttributeValue]:
    """An item (or key) as DynamoDB's ``{name: attribute value}``."""
    return {name: to_attribute(value) for name, value in item.items()}


def from_attributes(attributes: Mapping[str, AttributeValue]) -> Item:
    """A DynamoDB item as the port's plain item."""
    return {name: _plain(_deserialized(value)) for name, value in attributes.items()}


def exact_number(text: str) -> bool:
    """Whether the ``N`` value ``text`` reads back as the same decimal once stored as a
    port number (``ValueError`` if it is not a finite number)."""
    try:
        number = decimal.Decimal(text)
    except decimal.DecimalException as exc:
        raise ValueError(f"{text!r} is not a number") from exc
    if not number.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    stored = _with_decimals(_number(number))
    return bool(decimal.Decimal(stored) == number)


def _deserialized(value: Any) -> Any:
    return _deserializer.deserialize(value)


def _with_decimals(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        exact = value.is_integer() and abs(value) < _EXACT_FLOATS
        return int(value) if exact else decimal.Decimal(repr(value))
    if isinstance(value, list | tuple):
        return [_with_decimals(element) for element in value]
    if isinstance(value, Mapping):
        return {key: _with_decimals(element) for key, element in value.items()}
    return value  # the serializer refuses it with a TypeError


def _plain(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return _number(value)
    if isinstance(value, list):
        return [_plain(element) for element in value]
    if isinstance(value, dict):
        return {key: _plain(element) for key, element in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(_plain(element) for element in value)
    if isinstance(value, Binary):
        wrapped: Any = value  # (the stubs type Binary.__bytes__ as returning str)
        return bytes(wrapped.value)
    return value


def _number(value: decimal.Decimal) -> int | float:
    if value == value.to_integral_value():
        whole = int(value)
        if abs(whole) <= _MAX_EXACT:
            return whole
    return float(value)
