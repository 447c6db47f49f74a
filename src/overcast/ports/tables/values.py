"""What a table can store: DynamoDB's rules for key and attribute values.

Items are JSON-compatible dicts. Every adapter stores an item as its JSON text
(:func:`encode_item`), so what comes back is always a fresh copy made of plain
``dict`` / ``list`` / ``str`` / ``int`` / ``float`` / ``bool`` / ``None`` — tuples
come back as lists, exactly as DynamoDB returns lists. The rules mirrored:

- An item is at most 400 KB, counting names and values as UTF-8 (we count its
  compact JSON text, a slight over-estimate).
- Strings are UTF-8: a lone surrogate cannot be encoded, so it is refused.
- Numbers have at most 38 significant digits; NaN and infinities are refused.
- Documents nest at most 32 levels, the top-level attribute counting as level 1.
- Map keys are strings; top-level attribute names are non-empty.
- Key values: non-empty strings (partition keys up to 2048 bytes, sort keys up to
  1024 bytes) or finite numbers. Locally an integer key must also fit SQLite's
  signed 64-bit INTEGER, so that keys keep exact equality and numeric order.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, TypeAlias

from overcast import spec
from overcast.ports.tables.exceptions import InvalidItem

Item: TypeAlias = dict[str, Any]
KeyValue: TypeAlias = str | int | float

# DynamoDB: partition key values up to 2048 bytes, sort key values up to 1024 bytes.
MAX_PARTITION_KEY_BYTES = 2048
MAX_SORT_KEY_BYTES = 1024
# DynamoDB: an item is at most 400 KB (names and values, UTF-8).
MAX_ITEM_BYTES = 400 * 1024
# DynamoDB: "nested attributes up to 32 levels deep".
MAX_NESTING_LEVELS = 32
# DynamoDB: "Numbers can have up to 38 digits of precision".
_MAX_INTEGER = 10**38 - 1
# A local limit, not DynamoDB's: SQLite's INTEGER is a signed 64-bit integer.
_KEY_INTEGERS = range(-(2**63), 2**63)


def is_number(value: Any) -> bool:
    """A DynamoDB ``N``: an int or float, but not a bool (bool is its own type there)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_key_value(declared: spec.Key, value: Any, max_bytes: int) -> None:
    """Raise :class:`InvalidItem` unless ``value`` can be the key attribute ``declared``."""
    if declared.type == "S":
        if not isinstance(value, str) or not value:
            raise InvalidItem(f"Key attribute {declared.name!r} must be a non-empty string.")
        if utf8_length(value) > max_bytes:
            raise InvalidItem(f"Key attribute {declared.name!r} is longer than {max_bytes} bytes.")
    elif not is_number(value) or (isinstance(value, float) and not math.isfinite(value)):
        raise InvalidItem(f"Key attribute {declared.name!r} must be a finite number.")
    elif isinstance(value, int) and value not in _KEY_INTEGERS:
        raise InvalidItem(
            f"Key attribute {declared.name!r}: integer keys must fit in 64 bits locally."
        )


def utf8_length(text: str) -> int:
    """The length of ``text`` in UTF-8; :class:`InvalidItem` if it is not valid Unicode."""
    try:
        return len(text.encode())
    except UnicodeEncodeError as exc:
        raise InvalidItem(f"A string is not valid UTF-8: {exc.reason}.") from exc


def check_attributes(values: Mapping[str, Any]) -> None:
    """Raise :class:`InvalidItem` unless every attribute value can be stored."""
    for name, value in values.items():
        if not isinstance(name, str) or not name:
            raise InvalidItem(f"Attribute names must be non-empty strings, not {name!r}.")
        _check_value(value, 1)
    encode_item(dict(values))


def _check_value(value: Any, level: int) -> None:
    if level > MAX_NESTING_LEVELS:
        raise InvalidItem("Item nests deeper than 32 levels, the DynamoDB limit.")
    if value is None or isinstance(value, str | bool):
        return
    if isinstance(value, int):
        if abs(value) > _MAX_INTEGER:
            raise InvalidItem("Numbers can have at most 38 digits, as in DynamoDB.")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidItem("NaN and infinity cannot be stored, as in DynamoDB.")
    elif isinstance(value, list | tuple):
        for element in value:
            _check_value(element, level + 1)
    elif isinstance(value, dict):
        for key, element in value.items():
            if not isinstance(key, str):
                raise InvalidItem(f"Map keys must be strings, not {key!r}.")
            _check_value(element, level + 1)
    else:
        raise InvalidItem(f"A table cannot store a value of type {type(value).__name__}.")


def encode_item(item: Item) -> str:
    """The item's JSON text, as adapters store it; :class:`InvalidItem` if over 400 KB."""
    try:
        text = json.dumps(item, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        size = len(text.encode())
    except (TypeError, ValueError) as exc:  # UnicodeEncodeError is a ValueError
        raise InvalidItem(f"Item holds a value a table cannot store: {exc}.") from exc
    if size > MAX_ITEM_BYTES:
        raise InvalidItem("Item is larger than 400 KB, the DynamoDB item size limit.")
    return text


def decode_item(text: str) -> Item:
    """A fresh item from its stored JSON text."""
    item: Item = json.loads(text)
    return item


def same_value(left: Any, right: Any) -> bool:
    """DynamoDB equality: same type, same value, all the way down.

    bool is not a number there (``True != 1``), ``2 == 2.0`` (both ``N``), and a
    tuple is a list.
    """
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if is_number(left) and is_number(right):
        return bool(left == right)
    if isinstance(left, str) and isinstance(right, str):
        return left == right
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(map(same_value, left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(
            same_value(value, right[key]) for key, value in left.items()
        )
    return left is None and right is None
