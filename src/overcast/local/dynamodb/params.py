"""A request's parameters as the table port's values, and DynamoDB's placeholder rules.

- Attribute values (DynamoDB JSON: ``{"S": ...}``, ``{"N": "1"}``, ``{"M": ...}``)
  become the port's plain values (``dynamodb_values.from_attributes``). Sets (``SS``,
  ``NS``, ``BS``) and binary (``B``) are refused with ``ValidationException``: the local
  tables store only the port's JSON-compatible values (a documented local limit).
- "An expression attribute name must begin with a pound sign (#)" and a value
  placeholder with a colon; each one given must be used by one of the request's
  expressions ("Value provided in ExpressionAttributeNames unused in expressions:
  keys: {#n}"), and they may be given only with expressions ("ExpressionAttributeNames
  can only be specified when using expressions").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from overcast.local.dynamodb import errors
from overcast.ports.tables.dynamodb_values import exact_number, from_attributes
from overcast.ports.tables.values import Item

Params = Mapping[str, Any]
_SCALAR_TYPES = frozenset({"S", "N", "BOOL", "NULL"})
_UNSTORABLE = frozenset({"SS", "NS", "BS", "B"})
# Each legacy parameter, and the expression parameter that replaces it.
LEGACY_PARAMETERS = {
    "Expected": "ConditionExpression",
    "AttributeUpdates": "UpdateExpression",
    "ConditionalOperator": "ConditionExpression or FilterExpression (AND / OR)",
    "AttributesToGet": "ProjectionExpression",
    "KeyConditions": "KeyConditionExpression",
    "QueryFilter": "FilterExpression",
    "ScanFilter": "FilterExpression",
}


def required(params: Params, name: str) -> Any:
    value = params.get(name)
    if value is None:
        raise errors.ValidationException(
            f"1 validation error detected: Value null at '{_member(name)}' failed to "
            "satisfy constraint: Member must not be null"
        )
    return value


def refuse_legacy(params: Params) -> None:
    """ValidationException if the request uses a legacy (non-expression) parameter."""
    for name, replacement in LEGACY_PARAMETERS.items():
        if params.get(name) is not None:
            raise errors.ValidationException(
                f"The local cloud's DynamoDB API serves the expression parameters only: "
                f"{name} is a legacy parameter, use {replacement} instead."
            )


def _member(name: str) -> str:
    return name[0].lower() + name[1:]


def item_of(attributes: Any, what: str = "item") -> Item:
    """DynamoDB JSON attributes as a port item; ValidationException for what the local
    tables cannot store or DynamoDB would not accept."""
    if not isinstance(attributes, Mapping):
        raise errors.ValidationException(f"The {what} must be a map of attribute values.")
    for name, value in attributes.items():
        _check_attribute(value, name)
    try:
        return from_attributes(attributes)
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise errors.ValidationException(
            f"One or more parameter values were invalid: {exc}"
        ) from None


def _check_attribute(value: Any, path: str) -> None:
    if not isinstance(value, Mapping) or len(value) != 1:
        raise errors.ValidationException(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly "
            f"one of the supported datatypes (attribute {path})"
        )
    ((kind, inner),) = value.items()
    if kind in _UNSTORABLE:
        raise errors.ValidationException(
            f"One or more parameter values were invalid: attribute {path} is of type {kind}; "
            "the local cloud's tables cannot store sets (SS, NS, BS) or binary (B) values "
            "(a local limit: use lists, numbers and strings, e.g. base64 text)."
        )
    if kind == "L" and isinstance(inner, list):
        for position, element in enumerate(inner):
            _check_attribute(element, f"{path}[{position}]")
    elif kind == "M" and isinstance(inner, Mapping):
        for name, element in inner.items():
            _check_attribute(element, f"{path}.{name}")
    elif kind == "NULL" and inner is not True:
        raise errors.ValidationException(
            "One or more parameter values were invalid: Null attribute value types must "
            f"have the value of true (attribute {path})"
        )
    elif kind == "N":
        _check_number(inner, path)
    elif kind not in _SCALAR_TYPES | {"L", "M"}:
        raise errors.ValidationException(
            f"Supplied AttributeValue has an unknown datatype {kind!r} (attribute {path})"
        )


def _check_number(text: Any, path: str) -> None:
    if not isinstance(text, str):
        return  # from_attributes refuses it
    try:
        exact = exact_number(text)
    except (ValueError, ArithmeticError):
        return  # from_attributes refuses it, with its message
    if not exact:
        raise errors.ValidationException(
            f"One or more parameter values were invalid: the number {text} (attribute {path}) "
            f"cannot be stored exactly by the local cloud's tables. {NUMBER_LIMIT}"
        )


NUMBER_LIMIT = (
    "A local limit: integers are exact up to 38 digits, other numbers are doubles "
    "(about 15 significant digits)."
)


def names_of(params: Params) -> dict[str, str]:
    return dict(params.get("ExpressionAttributeNames") or {})


def values_of(params: Params) -> dict[str, Any]:
    raw = params.get("ExpressionAttributeValues") or {}
    return item_of(raw, "ExpressionAttributeValues")


def check_placeholders(
    params: Params, names_used: Iterable[str], values_used: Iterable[str], expressions: int
) -> None:
    """DynamoDB refuses placeholders no expression of the request uses."""
    names, values = names_of(params), params.get("ExpressionAttributeValues") or {}
    for label, given, used in (
        ("ExpressionAttributeNames", names, set(names_used)),
        ("ExpressionAttributeValues", values, set(values_used)),
    ):
        if given and not expressions:
            raise errors.ValidationException(
                f"{label} can only be specified when using expressions"
            )
        unused = sorted(set(given) - used)
        if unused:
            raise errors.ValidationException(
                f"Value provided in {label} unused in expressions: keys: {{{', '.join(unused)}}}"
            )


def key_of(params: Params, key_names: tuple[str, ...], name: str = "Key") -> Item:
    """The request's primary key, which must hold exactly the table's key attributes."""
    key = item_of(required(params, name), "key")
    if set(key) != set(key_names):
        raise errors.ValidationException("The provided key element does not match the schema")
    return key


def choice(params: Params, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = str(params.get(name) or default)
    if value not in allowed:
        raise errors.ValidationException(
            f"1 validation error detected: Value '{value}' at '{_member(name)}' failed to "
            f"satisfy constraint: Member must satisfy enum value set: [{', '.join(allowed)}]"
        )
    return value
