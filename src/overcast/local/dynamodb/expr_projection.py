"""Projection expressions: which attributes (or nested elements) a read returns.

DynamoDB's rules mirrored (Developer Guide, "Using projection expressions in
DynamoDB"): a projection is one or more document paths separated by commas; the
result keeps only those, nested paths inside their parent maps and lists; a path that
reaches nothing is left out. List elements come back as a list of only the chosen
elements, in index order (``a[2], a[0]`` of ``[x, y, z]`` is ``[x, z]``). No two
paths may overlap or conflict.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from overcast.local.dynamodb.expr_paths import MISSING, Path, check_disjoint, parse_path
from overcast.local.dynamodb.expr_tokens import Cursor

# A tree of chosen paths: each selector maps to the paths below it (None: all of it).
Tree = dict[str | int, Any]


def parse_paths(cursor: Cursor) -> list[Path]:
    """The comma-separated paths at the cursor, checked for overlaps."""
    paths = [parse_path(cursor)]
    while cursor.take_op(","):
        paths.append(parse_path(cursor))
    cursor.expect_end()
    check_disjoint(paths, cursor.fail)
    return paths


def tree_of(paths: Sequence[Path]) -> Tree:
    """The paths as a tree (they are disjoint, so no leaf has children)."""
    tree: Tree = {}
    for path in paths:
        node = tree
        for element in path[:-1]:
            node = node.setdefault(element, {})
        node[path[-1]] = None
    return tree


def project(value: Any, tree: Tree | None) -> Any:
    """The part of ``value`` that ``tree`` chooses, or ``MISSING`` if none of it exists."""
    if tree is None:
        return value
    if isinstance(value, dict):
        chosen = {
            key: project(value[key], below)
            for key, below in tree.items()
            if isinstance(key, str) and key in value
        }
        kept = {key: part for key, part in chosen.items() if part is not MISSING}
        return kept or MISSING
    if isinstance(value, list):
        indexes = sorted(key for key in tree if isinstance(key, int) and key < len(value))
        parts = [project(value[index], tree[index]) for index in indexes]
        kept_parts = [part for part in parts if part is not MISSING]
        return kept_parts or MISSING
    return MISSING
