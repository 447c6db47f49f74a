"""Update expressions: parsing ``SET``/``REMOVE``/``ADD``/``DELETE`` clauses.

DynamoDB's rules mirrored (Developer Guide, "Using update expressions in DynamoDB")::

    update-expression ::= [ SET action [, action] ... ] [ REMOVE action [, action] ...]
                          [ ADD action [, action] ... ] [ DELETE action [, action] ...]
    set-action  ::= path = value
    value       ::= operand | operand '+' operand | operand '-' operand
    operand     ::= path | function          function ::= if_not_exists (path, value)
                                                        | list_append (list1, list2)

- "An update expression can contain one or more clauses ... each clause at most once"
  (DynamoDB: ``The "SET" section can only be used once in an update expression;``).
- ``ADD`` takes a number (or a set); ``DELETE`` takes a set. The local tables store no
  sets, so ``DELETE`` is refused as a local limit, and ``ADD`` of a non-number as
  DynamoDB refuses it (``operator: ADD, operand type: LIST``).
- No two paths of one update may overlap or conflict.

How the parsed actions change an item is in :mod:`.expr_apply`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from overcast.local.dynamodb.expr_operands import (
    UPDATE_FUNCTIONS,
    check_function_name,
    is_function_call,
    parse_path_argument,
)
from overcast.local.dynamodb.expr_paths import Path, check_disjoint, parse_path
from overcast.local.dynamodb.expr_tokens import Cursor
from overcast.local.dynamodb.expr_values import type_name

_CLAUSES = ("SET", "REMOVE", "ADD", "DELETE")


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Read:
    path: Path


@dataclass(frozen=True)
class IfNotExists:
    path: Path
    fallback: Value


@dataclass(frozen=True)
class ListAppend:
    first: Value
    second: Value


@dataclass(frozen=True)
class Arithmetic:
    op: str
    left: Value
    right: Value


Value: TypeAlias = Literal | Read | IfNotExists | ListAppend | Arithmetic


@dataclass(frozen=True)
class Action:
    """One action: ``clause`` (SET, REMOVE or ADD) on ``path``, with ``value`` (not REMOVE)."""

    clause: str
    path: Path
    value: Value | None = None


def parse_actions(cursor: Cursor) -> list[Action]:
    """All actions of the update expression at the cursor, checked for overlaps."""
    actions: list[Action] = []
    seen: set[str] = set()
    while cursor.peek().kind != "eof":
        token = cursor.peek()
        clause = token.text.upper()
        if token.kind != "name" or clause not in _CLAUSES:
            cursor.syntax_error()
        if clause in seen:
            cursor.fail(f'The "{clause}" section can only be used once in an update expression;')
        seen.add(clause)
        cursor.take()
        actions.append(_action(cursor, clause))
        while cursor.take_op(","):
            actions.append(_action(cursor, clause))
    check_disjoint([action.path for action in actions], cursor.fail)
    return actions


def _action(cursor: Cursor, clause: str) -> Action:
    path = parse_path(cursor)
    if clause == "REMOVE":
        return Action(clause, path)
    if clause == "SET":
        cursor.expect_op("=")
        return Action(clause, path, _value(cursor))
    token = cursor.peek()
    if token.kind != "attr_value":
        cursor.syntax_error()
    cursor.take()
    literal = cursor.attribute_value(token)
    kind = type_name(literal)
    if clause == "DELETE":
        cursor.fail(
            "DELETE removes elements from a set, and the local tables store no sets "
            "(SS, NS, BS): a documented local limit"
        )
    if kind != "N":
        cursor.fail(
            "Incorrect operand type for operator or function; "
            f"operator: ADD, operand type: {_wire_type(kind)}"
        )
    return Action(clause, path, Literal(literal))


def _value(cursor: Cursor) -> Value:
    left = _operand(cursor)
    token = cursor.peek()
    if token.is_op("+") or token.is_op("-"):
        cursor.take()
        return Arithmetic(token.text, left, _operand(cursor))
    return left


def _operand(cursor: Cursor) -> Value:
    token = cursor.peek()
    if token.kind == "attr_value":
        cursor.take()
        return Literal(cursor.attribute_value(token))
    if is_function_call(cursor):
        name = cursor.take().text
        check_function_name(cursor, name)
        if name not in UPDATE_FUNCTIONS:
            cursor.fail(f"The function is not allowed in an update expression; function: {name}")
        cursor.expect_op("(")
        function: Value
        if name == "if_not_exists":
            path = parse_path_argument(cursor, name)
            cursor.expect_op(",")
            function = IfNotExists(path, _operand(cursor))
        else:
            first = _operand(cursor)
            cursor.expect_op(",")
            function = ListAppend(first, _operand(cursor))
        cursor.expect_op(")")
        return function
    if token.kind in ("name", "attr_name"):
        return Read(parse_path(cursor))
    raise cursor.unexpected()


def _wire_type(kind: str | None) -> str:
    names = {
        "S": "STRING",
        "N": "NUMBER",
        "BOOL": "BOOLEAN",
        "NULL": "NULL",
        "L": "LIST",
        "M": "MAP",
    }
    return names.get(kind or "", str(kind))
