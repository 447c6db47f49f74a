"""SNS subscription filter policies: parsed once, then matched against each message.

The language, as SNS documents it ("Amazon SNS message filtering"):

- A policy is a JSON object. Its keys must all match (AND); each key's list of
  conditions matches if any of them does (OR). ``"$or": [{...}, {...}]`` matches if any
  of its policies does.
- Scope ``MessageAttributes`` (SNS's default) matches attributes of type ``String``,
  ``String.Array`` (each element on its own) and ``Number``; other types are ignored,
  and nested policies are refused. An empty set of attributes matches nothing ("exists
  false only matches if at least one attribute is present"). Scope ``MessageBody``
  matches the JSON body, nested keys by nested policy objects, arrays element by
  element; a body that is not a JSON object matches nothing.
- Conditions: a string (exact), a number (numeric equality: ``301.5`` matches
  ``3.015e2``), ``null``/``true``/``false`` (body only), ``{"prefix": s}``,
  ``{"suffix": s}`` (either may hold ``{"equals-ignore-case": s}``),
  ``{"equals-ignore-case": s}``, ``{"anything-but": value | [values] | {"prefix": s} |
  {"suffix": s}}``, ``{"numeric": ["=", n]}`` or ranges ``[">", a, "<=", b]`` (numbers
  within ±1e9), ``{"exists": true|false}`` (true: present and not null) and
  ``{"cidr": "10.0.0.0/24"}``. Every condition but ``exists: false`` needs the key.
- Constraints ("Amazon SNS filter policy constraints"): at most 5 keys, and at most 150
  combinations (the product of the number of values of each key, summed over ``$or``).
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from overcast.ports.queues.base import MessageAttribute

Candidates = list[Any] | None  # the values found under a key; None: the key is absent
Condition = Callable[[Candidates], bool]
MAX_KEYS, MAX_COMBINATIONS, NUMERIC_LIMIT = 5, 150, 1e9
_LOWER, _UPPER = {">", ">="}, {"<", "<="}


class FilterPolicyError(ValueError):
    """The text is not a filter policy SNS would accept."""


@dataclass(frozen=True)
class FilterPolicy:
    """A parsed filter policy and the scope it applies to."""

    tree: Mapping[str, Any]
    scope: str = "MessageAttributes"

    def matches(self, body: str, attributes: Mapping[str, MessageAttribute]) -> bool:
        """Whether a message with ``body`` and ``attributes`` passes the policy."""
        if self.scope == "MessageBody":
            try:
                document = json.loads(body)
            except ValueError:
                return False
            return isinstance(document, dict) and _match(self.tree, [document])
        values = _attribute_values(attributes)
        return bool(values) and _match(self.tree, [values])


def parse_policy(text: str, scope: str = "MessageAttributes") -> FilterPolicy:
    """Parse and check ``text``; raise :class:`FilterPolicyError` with the reason."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise FilterPolicyError(f"it is not JSON ({exc}).") from exc
    if not isinstance(document, dict) or not document:
        raise FilterPolicyError("it must be a non-empty JSON object.")
    tree = _compile(document, nested=scope == "MessageBody")
    keys, combinations = _measure(document)
    if keys > MAX_KEYS:
        raise FilterPolicyError(f"it has {keys} keys; SNS allows {MAX_KEYS}.")
    if combinations > MAX_COMBINATIONS:
        raise FilterPolicyError(
            f"it has {combinations} combinations of values; SNS allows {MAX_COMBINATIONS}."
        )
    return FilterPolicy(tree, scope)


def _attribute_values(attributes: Mapping[str, MessageAttribute]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, attribute in attributes.items():
        kind, text = attribute.data_type.split(".", 1)[0], attribute.string_value
        if text is None:
            continue
        if attribute.data_type == "String.Array":
            try:
                parsed = json.loads(text)
            except ValueError:
                continue
            values[name] = parsed if isinstance(parsed, list) else [parsed]
        elif kind == "String":
            values[name] = text
        elif kind == "Number":
            values[name] = float(text)
    return values


# --- matching ---------------------------------------------------------------------


def _match(tree: Mapping[str, Any], documents: list[Any]) -> bool:
    for key, rule in tree.items():
        if key == "$or":
            if not any(_match(branch, documents) for branch in rule):
                return False
        elif isinstance(rule, Mapping):
            children = [value for value in _lookup(documents, key) or [] if isinstance(value, dict)]
            if not _match(rule, children):
                return False
        elif not any(condition(_lookup(documents, key)) for condition in rule):
            return False
    return True


def _lookup(documents: list[Any], key: str) -> Candidates:
    found: list[Any] | None = None
    for document in documents:
        if isinstance(document, dict) and key in document:
            value = document[key]
            found = (found or []) + (value if isinstance(value, list) else [value])
    return found


def _any(test: Callable[[Any], bool]) -> Condition:
    return lambda values: values is not None and any(test(value) for value in values)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- compiling ---------------------------------------------------------------------


def _compile(document: Mapping[str, Any], nested: bool) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key, rule in document.items():
        if key == "$or":
            if not isinstance(rule, list) or len(rule) < 2:
                raise FilterPolicyError("'$or' needs a list of at least two policies.")
            if not all(isinstance(branch, dict) and branch for branch in rule):
                raise FilterPolicyError("each '$or' branch must be a non-empty object.")
            tree[key] = [_compile(branch, nested) for branch in rule]
        elif isinstance(rule, dict):
            if not nested:
                raise FilterPolicyError(
                    f"key {key!r} holds a nested policy; SNS accepts nested keys only with "
                    "filter_policy_scope='MessageBody'."
                )
            tree[key] = _compile(rule, nested)
        elif isinstance(rule, list) and rule:
            tree[key] = [_condition(value, nested) for value in rule]
        else:
            raise FilterPolicyError(f"key {key!r} must hold a non-empty list of conditions.")
    return tree


def _condition(value: Any, body: bool) -> Condition:
    if isinstance(value, str):
        return _any(lambda candidate: candidate == value)
    if _is_number(value):
        _check_number(value)
        return _any(lambda candidate: _is_number(candidate) and candidate == value)
    if value is None or isinstance(value, bool):
        if not body:
            raise FilterPolicyError(f"{json.dumps(value)} can only be matched in a message body.")
        return _any(lambda candidate: candidate is value)
    if isinstance(value, dict) and len(value) == 1:
        ((operator, operand),) = value.items()
        return _operator(str(operator), operand)
    raise FilterPolicyError(f"{json.dumps(value)} is not a condition SNS knows.")


def _operator(operator: str, operand: Any) -> Condition:
    if operator == "exists":
        if not isinstance(operand, bool):
            raise FilterPolicyError("'exists' takes true or false.")
        if operand:
            # SNS ("Key matching"): exists true matches "a non-null and non-empty value".
            return lambda values: any(v is not None and v != "" for v in values or [])
        return lambda values: not any(v is not None for v in values or [])
    if operator in ("prefix", "suffix"):
        affix = _affix(operator, operand)
        return _any(lambda candidate: isinstance(candidate, str) and affix(candidate))
    if operator == "equals-ignore-case":
        text = _string(operator, operand).lower()
        return _any(lambda candidate: isinstance(candidate, str) and candidate.lower() == text)
    if operator == "anything-but":
        excluded = _anything_but(operand)
        return _any(lambda candidate: not excluded(candidate))
    if operator == "numeric":
        compare = _numeric(operand)
        return _any(lambda candidate: _is_number(candidate) and compare(candidate))
    if operator == "cidr":
        network = _network(operand)
        return _any(lambda candidate: _in_network(candidate, network))
    raise FilterPolicyError(f"unknown operator {operator!r}.")


def _string(operator: str, operand: Any) -> str:
    if not isinstance(operand, str):
        raise FilterPolicyError(f"{operator!r} takes a string.")
    return operand


def _affix(operator: str, operand: Any) -> Callable[[str], bool]:
    ignore_case = isinstance(operand, dict) and list(operand) == ["equals-ignore-case"]
    text = _string(operator, operand["equals-ignore-case"] if ignore_case else operand)
    if ignore_case:
        text = text.lower()
        if operator == "prefix":
            return lambda candidate: candidate.lower().startswith(text)
        return lambda candidate: candidate.lower().endswith(text)
    if operator == "prefix":
        return lambda candidate: candidate.startswith(text)
    return lambda candidate: candidate.endswith(text)


def _anything_but(operand: Any) -> Callable[[Any], bool]:
    """A test of the values ``anything-but`` excludes."""
    if isinstance(operand, dict) and len(operand) == 1:
        ((operator, inner),) = operand.items()
        if operator in ("prefix", "suffix"):
            affix = _affix(operator, inner)
            return lambda candidate: isinstance(candidate, str) and affix(candidate)
        if operator == "equals-ignore-case":
            texts = {_string(operator, text).lower() for text in _listed(inner)}
            return lambda candidate: isinstance(candidate, str) and candidate.lower() in texts
    values = _listed(operand)
    if not values or not all(isinstance(v, str) or _is_number(v) for v in values):
        raise FilterPolicyError("'anything-but' takes strings, numbers, or a prefix/suffix.")
    for number in filter(_is_number, values):
        _check_number(number)
    strings = {value for value in values if isinstance(value, str)}
    numbers = [value for value in values if _is_number(value)]
    return lambda candidate: (
        (isinstance(candidate, str) and candidate in strings)
        or (_is_number(candidate) and candidate in numbers)
    )


def _listed(operand: Any) -> list[Any]:
    return operand if isinstance(operand, list) else [operand]


def _numeric(operand: Any) -> Callable[[float], bool]:
    if not isinstance(operand, list) or len(operand) not in (2, 4):
        raise FilterPolicyError("'numeric' takes ['=', n] or up to two [operator, n] pairs.")
    pairs = list(zip(operand[::2], operand[1::2], strict=True))
    for operator, number in pairs:
        if operator not in {"=", *_LOWER, *_UPPER} or not _is_number(number):
            raise FilterPolicyError(f"'numeric': {operator!r} {number!r} is not a comparison.")
        _check_number(number)
    operators = [operator for operator, _ in pairs]
    valid = (
        operators == ["="]
        or (len(pairs) == 1 and operators[0] != "=")
        or (operators[0] in _LOWER and operators[1] in _UPPER and pairs[0][1] < pairs[1][1])
    )
    if not valid:
        raise FilterPolicyError("'numeric' ranges are a lower bound then a greater upper bound.")
    return lambda candidate: all(_compare(candidate, op, number) for op, number in pairs)


def _compare(candidate: float, operator: str, number: float) -> bool:
    return {
        "=": candidate == number,
        ">": candidate > number,
        ">=": candidate >= number,
        "<": candidate < number,
        "<=": candidate <= number,
    }[operator]


def _check_number(number: float) -> None:
    if not math.isfinite(number) or abs(number) > NUMERIC_LIMIT:
        raise FilterPolicyError(f"{number} is outside SNS's numeric range (±1,000,000,000).")


def _network(operand: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(_string("cidr", operand), strict=False)
    except ValueError as exc:
        raise FilterPolicyError(f"'cidr': {operand!r} is not a network.") from exc


def _in_network(candidate: Any, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    try:
        return isinstance(candidate, str) and ipaddress.ip_address(candidate) in network
    except ValueError:
        return False


def _measure(document: Mapping[str, Any]) -> tuple[int, int]:
    """The policy's number of keys and of value combinations, as SNS counts them."""
    keys, combinations = 0, 1
    for key, rule in document.items():
        if key == "$or":
            measured = [_measure(branch) for branch in rule]
            keys += max(count for count, _ in measured)
            combinations *= sum(product for _, product in measured)
        elif isinstance(rule, dict):
            inner_keys, inner = _measure(rule)
            keys, combinations = keys + inner_keys, combinations * inner
        else:
            keys, combinations = keys + 1, combinations * len(rule)
    return keys, combinations
