"""Lambda's event filtering (``FilterCriteria``) on stream records.

A pattern is a JSON object mirroring the record's structure; its leaves are arrays of
matchers. As Lambda's filter rules say:

- A record matches a pattern when every field the pattern names matches (AND);
  it matches the criteria when any one pattern matches (OR). No patterns: every
  record matches.
- A leaf matches when any matcher in its array matches the record's value; when the
  record's value is an array, when any of its elements does (arrays of objects too).
- Matchers: a string, number or ``null`` (exact value); ``{"prefix": "s"}``,
  ``{"suffix": "s"}``, ``{"equals-ignore-case": "s"}``; ``{"anything-but": [...]}`` (or
  one value, or ``{"prefix": ...}``); ``{"exists": true|false}``;
  ``{"numeric": ["<", 10, ">=", 0]}`` (numbers only: a DynamoDB ``N`` value is a string
  in the record, so it matches as a string).
- A field the record lacks matches only ``{"exists": false}``.

Records a trigger filters out are never delivered, and the dispatcher checkpoints past
them (Lambda: "Lambda ... drops the events that don't match").
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Any

_MISSING = object()
_NUMERIC: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class RecordFilter:
    """The filter criteria of one trigger: JSON patterns, any of which lets a record in."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns: list[dict[str, Any]] = [json.loads(pattern) for pattern in patterns]

    def matches(self, record: Mapping[str, Any]) -> bool:
        """Whether ``record`` passes (every record does when there are no patterns)."""
        if not self.patterns:
            return True
        return any(_object_matches(pattern, record) for pattern in self.patterns)


def _object_matches(pattern: Mapping[str, Any], value: Any) -> bool:
    for name, wanted in pattern.items():
        found = value.get(name, _MISSING) if isinstance(value, Mapping) else _MISSING
        if isinstance(wanted, Mapping):
            if not _nested_matches(wanted, found):
                return False
        elif not _leaf_matches(wanted, found):
            return False
    return True


def _nested_matches(pattern: Mapping[str, Any], found: Any) -> bool:
    if found is _MISSING:
        return False
    if isinstance(found, list):  # an array of objects: any element may match
        return any(_object_matches(pattern, element) for element in found)
    return _object_matches(pattern, found)


def _leaf_matches(matchers: Any, found: Any) -> bool:
    if not isinstance(matchers, list):
        return False  # Lambda refuses a leaf that is not an array
    if found is _MISSING:
        return any(_is_exists(matcher, False) for matcher in matchers)
    values = found if isinstance(found, list) else [found]
    return any(_matches(matcher, value) for matcher in matchers for value in values)


def _is_exists(matcher: Any, expected: bool) -> bool:
    return isinstance(matcher, Mapping) and matcher.get("exists") is expected


def _matches(matcher: Any, value: Any) -> bool:
    if not isinstance(matcher, Mapping):
        return _same(matcher, value)
    ((kind, argument),) = matcher.items() if len(matcher) == 1 else ((None, None),)
    if kind == "exists":
        return argument is True
    if kind == "prefix":
        return isinstance(value, str) and isinstance(argument, str) and value.startswith(argument)
    if kind == "suffix":
        return isinstance(value, str) and isinstance(argument, str) and value.endswith(argument)
    if kind == "equals-ignore-case":
        return (
            isinstance(value, str)
            and isinstance(argument, str)
            and (value.casefold() == argument.casefold())
        )
    if kind == "anything-but":
        return _anything_but(argument, value)
    if kind == "numeric":
        return _numeric(argument, value)
    return False


def _anything_but(argument: Any, value: Any) -> bool:
    if isinstance(argument, Mapping):
        return not _matches(argument, value)
    excluded = argument if isinstance(argument, list) else [argument]
    return not any(_same(each, value) for each in excluded)


def _numeric(conditions: Any, value: Any) -> bool:
    if not _is_number(value) or not isinstance(conditions, list) or len(conditions) % 2:
        return False
    pairs = zip(conditions[::2], conditions[1::2], strict=True)
    return all(
        op in _NUMERIC and _is_number(bound) and _NUMERIC[op](value, bound) for op, bound in pairs
    )


def _same(wanted: Any, value: Any) -> bool:
    if _is_number(wanted) and _is_number(value):
        return bool(wanted == value)
    return type(wanted) is type(value) and bool(wanted == value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
