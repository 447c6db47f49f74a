"""The table port's pagination cursors: opaque strings that resume a query or a scan.

DynamoDB pages with ``LastEvaluatedKey`` / ``ExclusiveStartKey``: the key of the last
item read (on an index, its primary key and its index key). A cursor here carries the
same position, as unpadded URL-safe base64 of compact JSON, so it survives a URL:

- a query's: ``{"i": index name or None, "k": primary key, "x": index key (indexes
  only)}``. Decoding checks it against the query it resumes: the same index, and the
  same partition (DynamoDB: "The provided starting key is outside query boundaries").
- a scan's: ``{"scan": true, "k": primary key}``. A scan's cursor is not a query's,
  nor a query's a scan's.

Every key in a cursor is checked against the declaration as a written key is; a
cursor that is not one, or whose keys do not fit, raises :class:`InvalidCursor`.
The format is stable: a cursor handed out by one release resumes in the next.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from overcast import spec
from overcast.ports.tables import values
from overcast.ports.tables.exceptions import InvalidCursor, InvalidItem
from overcast.ports.tables.values import MAX_PARTITION_KEY_BYTES, MAX_SORT_KEY_BYTES, KeyValue

_SCAN = "scan"


def query_cursor(
    declaration: spec.Table, last: Mapping[str, Any], index: spec.Index | None = None
) -> str:
    """The cursor of a query (of the table, or of ``index``) that resumes after the
    item ``last`` (its primary key and, on an index, its index key suffice)."""
    try:
        position: dict[str, Any] = {
            "i": index.name if index else None,
            "k": {name: last[name] for name in key_names(declaration)},
        }
        if index is not None:
            declared = filter(None, (index.partition_key, index.sort_key))
            position["x"] = {key.name: last[key.name] for key in declared}
    except KeyError as exc:
        raise InvalidCursor(f"A query's start key needs the attribute {exc}.") from exc
    return _encoded(position)


def scan_cursor(declaration: spec.Table, last: Mapping[str, Any]) -> str:
    """The cursor of a scan that resumes after the item (or key) ``last``."""
    try:
        position = {_SCAN: True, "k": _primary_key(declaration, last)}
    except InvalidItem as exc:
        raise InvalidCursor(f"A scan's start key is not a key of the table: {exc}") from exc
    return _encoded(position)


def decode_query_cursor(
    declaration: spec.Table, cursor: str, index: spec.Index | None, partition_value: KeyValue
) -> dict[str, Any]:
    """The position of a query's ``cursor``, checked against the query it resumes."""
    position = _decoded(cursor)
    if not isinstance(position, dict) or _SCAN in position:
        raise InvalidCursor("The pagination cursor belongs to a scan, not a query.")
    if position.get("i") != (index and index.name):
        raise InvalidCursor("The pagination cursor belongs to another query.")
    try:
        position["k"] = _primary_key(declaration, position["k"])
        if index is not None:
            position["x"] = key_of(position["x"], index.partition_key, index.sort_key)
    except (InvalidItem, KeyError, TypeError) as exc:
        raise InvalidCursor("The pagination cursor is malformed.") from exc
    schema_pk = index.partition_key if index else declaration.partition_key
    start = position["x" if index else "k"][schema_pk.name]
    if not values.same_value(start, partition_value):
        # DynamoDB: "The provided starting key is outside query boundaries ...".
        raise InvalidCursor("The pagination cursor belongs to another partition.")
    return position


def decode_scan_cursor(declaration: spec.Table, cursor: str) -> dict[str, Any]:
    """The primary key a scan's ``cursor`` resumes after."""
    position = _decoded(cursor)
    if not isinstance(position, dict) or position.get(_SCAN) is not True:
        raise InvalidCursor("The pagination cursor belongs to a query, not a scan.")
    try:
        return _primary_key(declaration, position["k"])
    except (InvalidItem, KeyError, TypeError) as exc:
        raise InvalidCursor("The pagination cursor is malformed.") from exc


# --- keys, which positions are made of ---------------------------------------


def key_names(declaration: spec.Table) -> tuple[str, ...]:
    """The names of the table's primary key attributes: partition, then sort."""
    sort = (declaration.sort_key.name,) if declaration.sort_key else ()
    return (declaration.partition_key.name, *sort)


def key_of(
    item: Mapping[str, Any], partition: spec.Key, sort: spec.Key | None, required: bool = True
) -> dict[str, Any]:
    """The key attributes of ``item`` (partition, then sort), checked against their schema."""
    if not isinstance(item, Mapping):
        raise InvalidItem("A key must be a mapping of attribute names to values.")
    found: dict[str, Any] = {}
    for declared, max_bytes in ((partition, MAX_PARTITION_KEY_BYTES), (sort, MAX_SORT_KEY_BYTES)):
        if declared is None:
            continue
        if declared.name not in item:
            if required:
                raise InvalidItem(f"Key attribute {declared.name!r} is missing.")
            continue
        values.check_key_value(declared, item[declared.name], max_bytes)
        found[declared.name] = item[declared.name]
    return found


def _primary_key(declaration: spec.Table, key: Mapping[str, Any]) -> dict[str, Any]:
    return key_of(key, declaration.partition_key, declaration.sort_key)


def _encoded(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decoded(cursor: str) -> Any:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return json.loads(raw)
    except (ValueError, TypeError, RecursionError) as exc:
        raise InvalidCursor("The pagination cursor is malformed.") from exc
