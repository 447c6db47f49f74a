"""Condition and filter expressions: a recursive-descent parser and their evaluation.

The grammar is the Developer Guide's ("Syntax for filter and condition expressions")::

    condition ::= operand comparator operand | operand BETWEEN operand AND operand
                | operand IN ( operand (',' operand)* ) | function
                | condition AND condition | condition OR condition | NOT condition
                | ( condition )

Precedence, highest first, is the Guide's: "= <> < <= > >=, IN, BETWEEN, attribute
functions, parentheses, NOT, AND, OR". Evaluation mirrors DynamoDB's functions:
``attribute_exists``/``attribute_not_exists``; ``attribute_type`` (valid types S, SS,
N, NS, B, BS, BOOL, NULL, L, M); ``begins_with`` (a string prefix); ``contains`` (a
substring of a string, or an element of a list); ``IN`` with at most 100 operands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

from overcast.local.dynamodb.expr_operands import (
    BOOLEAN_FUNCTIONS,
    Operand,
    PathOperand,
    ValueOperand,
    check_function_name,
    is_function_call,
    parse_operand,
    parse_path_argument,
)
from overcast.local.dynamodb.expr_paths import MISSING, Path, render, resolve
from overcast.local.dynamodb.expr_tokens import Cursor
from overcast.local.dynamodb.expr_values import compare, same_value, type_name

# DynamoDB: "The list can contain up to 100 values".
MAX_IN_OPERANDS = 100
ATTRIBUTE_TYPES = ("S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M")
_COMPARATORS = ("=", "<>", "<", "<=", ">", ">=")

Test: TypeAlias = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True)
class Node:
    """One parsed condition; ``operator`` names it for key-condition checks."""

    operator: str
    test: Test
    operands: tuple[Any, ...] = ()

    def holds(self, item: dict[str, Any]) -> bool:
        return self.test(item)


def parse(cursor: Cursor) -> Node:
    """The whole condition at the cursor (which must then be at its end)."""
    node = _or(cursor)
    cursor.expect_end()
    return node


def _or(cursor: Cursor) -> Node:
    node = _and(cursor)
    while cursor.take_keyword("OR"):
        node = _either(node, _and(cursor))
    return node


def _and(cursor: Cursor) -> Node:
    node = _not(cursor)
    while cursor.take_keyword("AND"):
        node = _both(node, _not(cursor))
    return node


def _either(left: Node, right: Node) -> Node:
    return Node("OR", lambda item: left.holds(item) or right.holds(item), (left, right))


def _both(left: Node, right: Node) -> Node:
    return Node("AND", lambda item: left.holds(item) and right.holds(item), (left, right))


def _not(cursor: Cursor) -> Node:
    if cursor.take_keyword("NOT"):
        inner = _not(cursor)
        return Node("NOT", lambda item: not inner.holds(item), (inner,))
    return _primary(cursor)


def _primary(cursor: Cursor) -> Node:
    if cursor.take_op("("):
        node = _or(cursor)
        cursor.expect_op(")")
        return node
    if is_function_call(cursor) and cursor.peek().text != "size":
        return _function(cursor)
    subject = parse_operand(cursor)
    token = cursor.peek()
    if token.kind == "op" and token.text in _COMPARATORS:
        cursor.take()
        return _comparison(cursor, token.text, subject, parse_operand(cursor))
    if cursor.take_keyword("BETWEEN"):
        return _between(cursor, subject)
    if cursor.take_keyword("IN"):
        return _in(cursor, subject)
    raise cursor.unexpected()


def _comparison(cursor: Cursor, op: str, left: Operand, right: Operand) -> Node:
    if isinstance(left, PathOperand) and left == right:
        cursor.fail(
            "The first operand must be distinct from the remaining operands for this operator "
            f"or function; operator: {op}, first operand: {render(left.path)}"
        )
    if op not in ("=", "<>"):
        for operand in (left, right):
            _check_literal(cursor, op, operand, ("S", "N", "B"))
    return Node(op, lambda item: compare(op, left.value(item), right.value(item)), (left, right))


def _between(cursor: Cursor, subject: Operand) -> Node:
    low = parse_operand(cursor)
    if not cursor.take_keyword("AND"):
        cursor.syntax_error()
    high = parse_operand(cursor)
    for operand in (subject, low, high):
        _check_literal(cursor, "BETWEEN", operand, ("S", "N", "B"))
    if isinstance(low, ValueOperand) and isinstance(high, ValueOperand):
        _check_bounds(cursor, low.literal, high.literal)

    def test(item: dict[str, Any]) -> bool:
        value = subject.value(item)
        return compare(">=", value, low.value(item)) and compare("<=", value, high.value(item))

    return Node("BETWEEN", test, (subject, low, high))


def _check_bounds(cursor: Cursor, low: Any, high: Any) -> None:
    if compare(">", low, high) or type_name(low) != type_name(high):
        # DynamoDB refuses bounds in the wrong order (or of two types) outright.
        cursor.fail(
            "The BETWEEN operator requires upper bound to be greater than or equal to lower "
            f"bound; lower operand: {_shown(low)}, upper operand: {_shown(high)}"
        )


def _in(cursor: Cursor, subject: Operand) -> Node:
    cursor.expect_op("(")
    options = [parse_operand(cursor)]
    while cursor.take_op(","):
        options.append(parse_operand(cursor))
    cursor.expect_op(")")
    if len(options) > MAX_IN_OPERANDS:
        cursor.fail(
            "The IN operator is provided with too many operands; "
            f"number of operands: {len(options)}"
        )

    def test(item: dict[str, Any]) -> bool:
        value = subject.value(item)
        return any(compare("=", value, option.value(item)) for option in options)

    return Node("IN", test, (subject, *options))


def _function(cursor: Cursor) -> Node:
    name = cursor.take().text
    check_function_name(cursor, name)
    if name not in BOOLEAN_FUNCTIONS:
        cursor.fail(
            f"The function is not allowed to be used this way in an expression; function: {name}"
        )
    cursor.expect_op("(")
    path = parse_path_argument(cursor, name)
    if name in ("attribute_exists", "attribute_not_exists"):
        cursor.expect_op(")")
        exists = name == "attribute_exists"
        return Node(name, lambda item: (resolve(item, path) is not MISSING) == exists, (path,))
    cursor.expect_op(",")
    argument = parse_operand(cursor)
    cursor.expect_op(")")
    return _FUNCTIONS[name](cursor, path, argument)


def _attribute_type(cursor: Cursor, path: Path, argument: Operand) -> Node:
    wanted = argument.literal if isinstance(argument, ValueOperand) else None
    if not isinstance(argument, ValueOperand) or not isinstance(wanted, str):
        _check_literal(cursor, "attribute_type", argument, ("S",))
        cursor.fail(
            "Operator or function requires a value operand; operator or function: attribute_type"
        )
    if wanted not in ATTRIBUTE_TYPES:
        cursor.fail(
            f"Invalid attribute type name found; type: {wanted}, "
            "valid types: { B,NULL,SS,BOOL,L,BS,N,NS,S,M }"
        )
    return Node(
        "attribute_type", lambda item: type_name(resolve(item, path)) == wanted, (path, argument)
    )


def _begins_with(cursor: Cursor, path: Path, argument: Operand) -> Node:
    _check_literal(cursor, "begins_with", argument, ("S", "B"))

    def test(item: dict[str, Any]) -> bool:
        value, prefix = resolve(item, path), argument.value(item)
        return isinstance(value, str) and isinstance(prefix, str) and value.startswith(prefix)

    return Node("begins_with", test, (path, argument))


def _contains(cursor: Cursor, path: Path, argument: Operand) -> Node:
    def test(item: dict[str, Any]) -> bool:
        value, element = resolve(item, path), argument.value(item)
        if element is MISSING:
            return False
        if isinstance(value, str):
            return isinstance(element, str) and element in value
        return isinstance(value, list) and any(same_value(e, element) for e in value)

    return Node("contains", test, (path, argument))


_FUNCTIONS: dict[str, Callable[[Cursor, Path, Operand], Node]] = {
    "attribute_type": _attribute_type,
    "begins_with": _begins_with,
    "contains": _contains,
}


def _check_literal(
    cursor: Cursor, function: str, operand: Operand, allowed: tuple[str, ...]
) -> None:
    """DynamoDB checks the type of a ``:value`` operand when it parses the expression."""
    if isinstance(operand, ValueOperand):
        kind = type_name(operand.literal)
        if kind not in allowed:
            cursor.fail(
                "Incorrect operand type for operator or function; "
                f"operator or function: {function}, operand type: {kind}"
            )


def _shown(value: Any) -> str:
    return f"AttributeValue: {{{type_name(value)}:{value}}}"


__all__ = ["MAX_IN_OPERANDS", "Node", "PathOperand", "parse"]
