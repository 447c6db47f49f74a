"""The ``Condition`` element: condition operators and how a block of them is decided.

What IAM does ("IAM JSON policy elements: Condition operators", "Conditions with
multiple context keys or values", "Single-valued vs. multivalued context keys"):

- Several operators in a block, and several keys under one operator, are AND'ed.
  Several values for one key are OR'ed; "If a single negated matching condition operator
  includes multiple values for a context key, those values are evaluated using a
  logical NOR" (``StringNotEquals`` with ``["a", "b"]`` holds for neither a nor b).
- A missing key: "If the key that you specify in a policy condition is not present in
  the request context, the values do not match and the condition is false. If the
  policy condition requires that the key is not matched, such as StringNotLike or
  ArnNotLike, and the right key is not present, the condition is true. This logic
  applies to all condition operators except ...IfExists and Null check."
- ``...IfExists`` (any operator but ``Null``): "If the key is not present, evaluate
  the condition element as true"; when present, the operator decides.
- ``Null``: ``true`` holds when the key is absent, ``false`` when it is present.
- Set qualifiers for multivalued keys: ``ForAllValues`` holds when every request value
  matches (the operator applied per value); it "also returns true if there are no
  context keys in the request". ``ForAnyValue`` holds when at least one request value
  matches; "For no matching context key or if the key does not exist, the condition
  returns false" (an ``IfExists`` suffix does not change that: it applies per value).
- Operator families: ``String*`` (``StringLike`` with ``*``/``?``, case-sensitive;
  ``...IgnoreCase`` ignores case), ``Arn*`` (``ArnEquals`` and ``ArnLike`` "behave
  identically", component by component), ``Numeric*``, ``Date*`` ("W3C implementations
  of the ISO 8601 date formats or in epoch (UNIX) time"), ``Bool``, ``IpAddress`` /
  ``NotIpAddress`` (CIDR; "If you specify an IP address without the associated routing
  prefix, IAM uses the default prefix value of /32"), ``Null``.
- Policy variables work in the String, ARN and Boolean operators only; "You can not use
  a policy variable with the Numeric / Date / IpAddress / Null condition operator", so
  those compare ``${...}`` as written (and it fails to parse as a number, date or
  address).

A value that cannot be read as the operator's type (``"ten"`` for ``NumericEquals``)
matches nothing. ``BinaryEquals`` is not supported by the local cloud; a policy naming
it is refused when parsed.
"""

from __future__ import annotations

import ipaddress
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from overcast.local.iam.context import ContextKeys
from overcast.local.iam.variables import Pattern, text_of, verbatim
from overcast.local.iam.wildcards import matches_arn, matches_like

if TYPE_CHECKING:
    from overcast.local.iam.policy import Condition

Match = Callable[[str, Pattern], bool]  # (request value, policy value) -> positive match
Substitute = Callable[[str], Pattern | None]
Compare = Callable[[Decimal, Decimal], bool]

NULL = "Null"
FOR_ALL_VALUES = "ForAllValues"
FOR_ANY_VALUE = "ForAnyValue"


@dataclass(frozen=True)
class _Test:
    match: Match
    negated: bool = False
    variables: bool = False  # policy variables are substituted in its values


def _string_equals(value: str, pattern: Pattern) -> bool:
    return value == text_of(pattern)


def _string_equals_ignore_case(value: str, pattern: Pattern) -> bool:
    return value.casefold() == text_of(pattern).casefold()


def _string_like(value: str, pattern: Pattern) -> bool:
    return matches_like(pattern, value)


def _arn_like(value: str, pattern: Pattern) -> bool:
    return matches_arn(pattern, value)


def _bool(value: str, pattern: Pattern) -> bool:
    return value.lower() == text_of(pattern).lower()


def _number(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _instant(text: str) -> Decimal | None:
    """Seconds since the epoch of an epoch-time or ISO 8601 value (naive means UTC)."""
    number = _number(text)
    if number is not None:
        return number
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return Decimal(str(moment.timestamp()))


def _ordered(read: Callable[[str], Decimal | None], compare: Compare) -> Match:
    def match(value: str, pattern: Pattern) -> bool:
        left, right = read(value), read(text_of(pattern))
        return left is not None and right is not None and compare(left, right)

    return match


def _ip_address(value: str, pattern: Pattern) -> bool:
    try:
        address = ipaddress.ip_address(value.strip())
        network = ipaddress.ip_network(text_of(pattern).strip(), strict=False)
    except ValueError:
        return False
    return address.version == network.version and address in network


_COMPARISONS: dict[str, Compare] = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "LessThanEquals": operator.le,
    "GreaterThan": operator.gt,
    "GreaterThanEquals": operator.ge,
}


def _ordered_family(prefix: str, read: Callable[[str], Decimal | None]) -> dict[str, _Test]:
    tests = {
        prefix + name: _Test(_ordered(read, compare)) for name, compare in _COMPARISONS.items()
    }
    tests[prefix + "NotEquals"] = _Test(_ordered(read, operator.eq), negated=True)
    return tests


_TESTS: dict[str, _Test] = {
    "StringEquals": _Test(_string_equals, variables=True),
    "StringNotEquals": _Test(_string_equals, negated=True, variables=True),
    "StringEqualsIgnoreCase": _Test(_string_equals_ignore_case, variables=True),
    "StringNotEqualsIgnoreCase": _Test(_string_equals_ignore_case, negated=True, variables=True),
    "StringLike": _Test(_string_like, variables=True),
    "StringNotLike": _Test(_string_like, negated=True, variables=True),
    "ArnEquals": _Test(_arn_like, variables=True),
    "ArnLike": _Test(_arn_like, variables=True),
    "ArnNotEquals": _Test(_arn_like, negated=True, variables=True),
    "ArnNotLike": _Test(_arn_like, negated=True, variables=True),
    "Bool": _Test(_bool, variables=True),
    "IpAddress": _Test(_ip_address),
    "NotIpAddress": _Test(_ip_address, negated=True),
    **_ordered_family("Numeric", _number),
    **_ordered_family("Date", _instant),
}

OPERATORS: frozenset[str] = frozenset(_TESTS) | {NULL}
"""Every condition operator this evaluator knows, without qualifier or ``IfExists``."""


def conditions_hold(
    conditions: Sequence[Condition], keys: ContextKeys, substitute: Substitute | None
) -> bool:
    """Whether every condition of a statement holds; ``substitute`` None: no variables."""
    return all(_holds(condition, keys, substitute) for condition in conditions)


def _holds(condition: Condition, keys: ContextKeys, substitute: Substitute | None) -> bool:
    found = keys.get(condition.key)
    if condition.test == NULL:
        return _null(condition.values, present=found is not None)
    test = _TESTS[condition.test]
    if found is None:
        return _absent(condition, test)
    patterns = _patterns(condition.values, substitute if test.variables else None)

    def hit(value: str) -> bool:
        return any(test.match(value, pattern) for pattern in patterns)

    if condition.qualifier == FOR_ALL_VALUES:
        return all(hit(value) != test.negated for value in found)
    if condition.qualifier == FOR_ANY_VALUE:
        return any(hit(value) != test.negated for value in found)
    return any(hit(value) for value in found) != test.negated


def _absent(condition: Condition, test: _Test) -> bool:
    if condition.qualifier == FOR_ALL_VALUES:
        return True
    if condition.qualifier == FOR_ANY_VALUE:
        return False
    return condition.if_exists or test.negated


def _null(values: Sequence[str], *, present: bool) -> bool:
    return any(value.lower() == ("false" if present else "true") for value in values)


def _patterns(values: Sequence[str], substitute: Substitute | None) -> list[Pattern]:
    if substitute is None:
        return [verbatim(value) for value in values]
    substituted = (substitute(value) for value in values)
    return [pattern for pattern in substituted if pattern is not None]
