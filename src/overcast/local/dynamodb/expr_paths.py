"""Document paths (``a``, ``a.b``, ``a[0]``, ``#n.#m[1]``) and the values they reach.

DynamoDB's rules mirrored (Developer Guide, "Referring to item attributes when using
expressions"):

- A document path is a top-level attribute followed by ``.name`` (a map element) and
  ``[n]`` (a list element) selectors, nested to any depth; an index is a non-negative
  integer literal.
- Each name element may be a ``#placeholder``; a bare name may not be a reserved word.
- A path that does not reach a value (a missing attribute, a map without that key, a
  list index past the end, a selector of the wrong kind) reaches nothing: ``MISSING``.
- Two paths of one expression "overlap" when one is a prefix of the other, and
  "conflict" when they part at one position with a name on one side and an index on
  the other; DynamoDB refuses both in update and projection expressions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, TypeAlias

from overcast.local.dynamodb.expr_tokens import Cursor

Path: TypeAlias = tuple[str | int, ...]


class _Missing:
    """What a path reaches when nothing is there."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


def parse_path(cursor: Cursor) -> Path:
    """A document path at the cursor: a name, then ``.name`` and ``[n]`` selectors."""
    elements: list[str | int] = [_name(cursor)]
    cursor.attributes_used.add(str(elements[0]))
    while True:
        if cursor.take_op("."):
            elements.append(_name(cursor))
        elif cursor.take_op("["):
            token = cursor.peek()
            if token.kind != "number":
                cursor.syntax_error()
            cursor.take()
            elements.append(int(token.text))
            cursor.expect_op("]")
        else:
            return tuple(elements)


def _name(cursor: Cursor) -> str:
    token = cursor.peek()
    if token.kind not in ("name", "attr_name"):
        cursor.syntax_error()
    cursor.take()
    return cursor.attribute_name(token)


def resolve(item: Any, path: Path) -> Any:
    """The value at ``path`` in ``item``, or ``MISSING``."""
    value = item
    for element in path:
        if not _holds(value, element):
            return MISSING
        value = value[element]
    return value


def _holds(container: Any, element: str | int) -> bool:
    if isinstance(element, str):
        return isinstance(container, dict) and element in container
    return isinstance(container, list) and element < len(container)


def render(path: Path) -> str:
    """A path as DynamoDB's messages show it: ``[a, b, [0]]``."""
    return "[" + ", ".join(f"[{e}]" if isinstance(e, int) else e for e in path) + "]"


def check_disjoint(paths: Sequence[Path], fail: Any) -> None:
    """Call ``fail(detail)`` if two of ``paths`` overlap or conflict."""
    for number, one in enumerate(paths):
        for two in paths[number + 1 :]:
            problem = _clash(one, two)
            if problem:
                fail(
                    f"Two document paths {problem} with each other; must remove or rewrite one "
                    f"of these paths; path one: {render(one)}, path two: {render(two)}"
                )


def _clash(one: Path, two: Path) -> str | None:
    for left, right in zip(one, two, strict=False):
        if isinstance(left, int) != isinstance(right, int):
            return "conflict"
        if left != right:
            return None
    return "overlap"
