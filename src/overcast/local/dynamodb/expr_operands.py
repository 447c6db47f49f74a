"""Operands of condition expressions: a document path, a ``:value``, or ``size(path)``.

DynamoDB's rules mirrored (Developer Guide, "Condition and filter expressions,
operators, and functions"): "an operand can be a top-level attribute name, a
document path, an expression attribute value, or the size function"; function names
are case-sensitive; ``size``'s argument must be a document path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from overcast.local.dynamodb.expr_paths import Path, parse_path, resolve
from overcast.local.dynamodb.expr_tokens import Cursor
from overcast.local.dynamodb.expr_values import size_of

BOOLEAN_FUNCTIONS = frozenset(
    {"attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains"}
)
UPDATE_FUNCTIONS = frozenset({"if_not_exists", "list_append"})


@dataclass(frozen=True)
class PathOperand:
    """The value at a document path of the item."""

    path: Path

    def value(self, item: dict[str, Any]) -> Any:
        return resolve(item, self.path)


@dataclass(frozen=True)
class ValueOperand:
    """An expression attribute value (``:v``)."""

    literal: Any

    def value(self, item: dict[str, Any]) -> Any:
        return self.literal


@dataclass(frozen=True)
class SizeOperand:
    """``size(path)``: a number, or nothing for a type without a size."""

    path: Path

    def value(self, item: dict[str, Any]) -> Any:
        return size_of(resolve(item, self.path))


Operand: TypeAlias = PathOperand | ValueOperand | SizeOperand


def is_function_call(cursor: Cursor) -> bool:
    return cursor.peek().kind == "name" and cursor.peek(1).is_op("(")


def parse_operand(cursor: Cursor) -> Operand:
    """A path, a ``:value`` or ``size(path)`` at the cursor."""
    token = cursor.peek()
    if token.kind == "attr_value":
        cursor.take()
        return ValueOperand(cursor.attribute_value(token))
    if is_function_call(cursor):
        name = cursor.take().text
        check_function_name(cursor, name)
        if name != "size":
            # DynamoDB: "The function is not allowed to be used this way in an expression".
            cursor.fail(
                "The function is not allowed to be used this way in an expression; "
                f"function: {name}"
            )
        cursor.expect_op("(")
        path = parse_path_argument(cursor, name)
        cursor.expect_op(")")
        return SizeOperand(path)
    if token.kind in ("name", "attr_name"):
        return PathOperand(parse_path(cursor))
    raise cursor.unexpected()


def parse_path_argument(cursor: Cursor, function: str) -> Path:
    """A function argument that must be a document path."""
    if cursor.peek().kind not in ("name", "attr_name") or is_function_call(cursor):
        if cursor.peek().kind == "attr_value" or is_function_call(cursor):
            cursor.fail(
                f"Operator or function requires a document path; operator or function: {function}"
            )
        cursor.syntax_error()
    return parse_path(cursor)


def check_function_name(cursor: Cursor, name: str) -> None:
    if name not in BOOLEAN_FUNCTIONS | UPDATE_FUNCTIONS | {"size"}:
        cursor.fail(f"Invalid function name; function: {name}")
