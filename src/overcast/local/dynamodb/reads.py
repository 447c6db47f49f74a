"""``Query`` and ``Scan``: pages of items, filtered after they are read.

Mirrored from DynamoDB ("Query", "Scan", "Paginating table query results"):

- ``Limit`` is "the maximum number of items to evaluate (not necessarily the number of
  matching items)": a page reads up to ``Limit`` items, then applies the
  ``FilterExpression``; ``ScannedCount`` counts the items read, ``Count`` those that
  passed. A page also stops once it has read 1 MB ("If the size of the Query result
  set is larger than 1 MB, Query stops and results are returned to the user with a
  LastEvaluatedKey"); the size of an item is counted as its JSON text in UTF-8 here.
- ``LastEvaluatedKey`` is the primary key of the last item read (plus its index key,
  for an index), DynamoDB's form of ``ExclusiveStartKey``. Unlike DynamoDB, which may
  return it for a page that happens to end the results, it is absent exactly when
  nothing follows (the port's cursor).
- ``Select``: ``ALL_ATTRIBUTES`` (default), ``ALL_PROJECTED_ATTRIBUTES`` (indexes
  project ``ALL``), ``SPECIFIC_ATTRIBUTES`` (with a ``ProjectionExpression``),
  ``COUNT`` (``Count`` and ``ScannedCount`` only).
- "Consistent reads are not supported on global secondary indexes".
- A ``Scan`` of an index reads the table's items that carry the index's key (indexes
  are sparse), in the table's scan order. A parallel scan (``Segment``,
  ``TotalSegments``) reads one segment: :mod:`overcast.local.dynamodb.segments`.
- ``ExclusiveStartKey`` must hold exactly the key attributes a ``LastEvaluatedKey``
  would (the table's key, plus the index's on an index): anything else is refused
  ("The provided starting key is invalid: The provided key element does not match the
  schema" for a Scan; "The provided starting key is invalid" for a Query).
- A Query's ``FilterExpression`` cannot name the key attributes of what it queries
  ("Filter Expression can only contain non-primary key attributes: Primary key
  attribute: ...").
- The legacy parameters (``KeyConditions``, ``QueryFilter``, ``ScanFilter``,
  ``AttributesToGet``, ``ConditionalOperator``) are refused (``params.refuse_legacy``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from overcast import spec
from overcast.local.dynamodb import errors, params, port, segments
from overcast.local.dynamodb.expressions import (
    Condition,
    KeyCondition,
    Projection,
    parse_condition,
    parse_key_condition,
    parse_projection,
)
from overcast.local.dynamodb.params import Params
from overcast.ports.tables import Page, Table
from overcast.ports.tables.base import index_key
from overcast.ports.tables.dynamodb_values import to_attributes
from overcast.ports.tables.values import Item, encode_item

Result = dict[str, Any]
MAX_PAGE_BYTES = 1024 * 1024
_PORT_PAGE = 100
_SELECT = ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT")

# A page of the port from a cursor (None: the first), at most ``limit`` items.
Reader = Callable[[str | None, int], Page]


@dataclass(frozen=True)
class _Shape:
    """What a Query or Scan returns, apart from where it reads."""

    filter: Condition | None
    projection: Projection | None
    select: str
    limit: int | None


def index_of(table: Table, request: Params) -> spec.Index | None:
    name = request.get("IndexName")
    if name is None:
        return None
    for index in table.declaration.indexes:
        if index.name == name:
            if request.get("ConsistentRead"):
                raise errors.ValidationException(
                    "Consistent reads are not supported on global secondary indexes"
                )
            return index
    raise errors.ValidationException(f"The table does not have the specified index: {name}")


def query(table: Table, request: Params) -> Result:
    params.refuse_legacy(request)
    index = index_of(table, request)
    schema: spec.Table | spec.Index = index or table.declaration
    names, values = params.names_of(request), params.values_of(request)
    text = params.required(request, "KeyConditionExpression")
    with port.translated():
        key = parse_key_condition(
            text,
            names,
            values,
            partition_key=schema.partition_key.name,
            sort_key=schema.sort_key.name if schema.sort_key else None,
        )
    shape = _shape(request, key)
    _check_filter_keys(shape, schema)
    descending = request.get("ScanIndexForward") is False
    consistent = bool(request.get("ConsistentRead"))
    index_name = index.name if index else None

    def read(cursor: str | None, limit: int) -> Page:
        return table.query(
            key.partition_value,
            key.sort,
            index=index_name,
            descending=descending,
            limit=limit,
            cursor=cursor,
            consistent=consistent,
        )

    cursor = None
    begin = _start_key(table, index, request, "The provided starting key is invalid")
    if begin is not None:
        cursor = port.call(lambda: table.query_cursor(begin, index_name))
    return _page(table, index, read, cursor, shape)


def scan(table: Table, request: Params) -> Result:
    params.refuse_legacy(request)
    index = index_of(table, request)
    shape = _shape(request)
    segment = segments.segment_of_request(request, table.declaration.partition_key.name)
    consistent = bool(request.get("ConsistentRead"))
    cursor = None
    begin = _start_key(table, index, request, _BAD_SCAN_START)
    if begin is not None:
        if segment is not None:
            segment.check_start(begin)
        cursor = port.call(lambda: table.scan_cursor(begin))

    def read(cursor: str | None, limit: int) -> Page:
        page = table.scan(limit=limit, cursor=cursor, consistent=consistent)
        # Sparse: only the items with the index's key are in it; a segment reads only
        # its items. The cursor still follows the table's items, so that the next read
        # resumes after them.
        kept = [
            item
            for item in page.items
            if (index is None or index_key(item, index) is not None)
            and (segment is None or segment.holds(item))
        ]
        return Page(items=kept, cursor=page.cursor)

    return _page(table, index, read, cursor, shape)


_BAD_SCAN_START = (
    "The provided starting key is invalid: The provided key element does not match the schema"
)


def _start_key(
    table: Table, index: spec.Index | None, request: Params, refusal: str
) -> Item | None:
    """The request's ``ExclusiveStartKey``: exactly the attributes of a
    ``LastEvaluatedKey`` (the table's key, and the index's on an index)."""
    start = request.get("ExclusiveStartKey")
    if start is None:
        return None
    begin = params.item_of(start, "ExclusiveStartKey")
    if set(begin) != set(_key_names(table, index)):
        raise errors.ValidationException(refusal)
    return begin


def _check_filter_keys(shape: _Shape, schema: spec.Table | spec.Index) -> None:
    if shape.filter is None:
        return
    keys = [key.name for key in (schema.partition_key, schema.sort_key) if key]
    named = sorted(shape.filter.attributes_used & set(keys))
    if named:
        raise errors.ValidationException(
            "Filter Expression can only contain non-primary key attributes: Primary key "
            f"attribute: {named[0]}"
        )


def _shape(request: Params, key: KeyCondition | None = None) -> _Shape:
    names, values = params.names_of(request), params.values_of(request)
    filter_text = request.get("FilterExpression")
    projection_text = request.get("ProjectionExpression")
    with port.translated():
        found = (
            parse_condition(filter_text, names, values, label="FilterExpression")
            if filter_text
            else None
        )
        projection = parse_projection(projection_text, names) if projection_text else None
    parsed: list[Any] = [p for p in (key, found, projection) if p is not None]
    params.check_placeholders(
        request,
        frozenset().union(*(p.names_used for p in parsed)),
        frozenset().union(*(getattr(p, "values_used", frozenset()) for p in parsed)),
        len(parsed),
    )
    default = "SPECIFIC_ATTRIBUTES" if projection else "ALL_ATTRIBUTES"
    select = params.choice(request, "Select", _SELECT, default)
    if select == "COUNT" and projection is not None:
        raise errors.ValidationException(
            "Cannot specify the AttributesToGet or ProjectionExpression when choosing to get "
            "only the Count"
        )
    limit = request.get("Limit")
    if limit is not None and limit < 1:
        raise errors.ValidationException(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            "constraint: Member must have value greater than or equal to 1"
        )
    return _Shape(found, projection, select, limit)


def _page(
    table: Table, index: spec.Index | None, read: Reader, cursor: str | None, shape: _Shape
) -> Result:
    matched: list[Item] = []
    scanned = size = 0
    last: Item | None = None
    more = True
    while more and (shape.limit is None or scanned < shape.limit) and size < MAX_PAGE_BYTES:
        want = _PORT_PAGE if shape.limit is None else min(_PORT_PAGE, shape.limit - scanned)
        with port.translated():
            page = read(cursor, want)
        for position, item in enumerate(page.items):
            scanned += 1
            size += len(encode_item(item).encode())
            last = item
            if shape.filter is None or shape.filter.holds(item):
                matched.append(item)
            if size >= MAX_PAGE_BYTES:
                more = position + 1 < len(page.items) or page.cursor is not None
                break
        else:
            more = page.cursor is not None
        cursor = page.cursor
    result: Result = {"Count": len(matched), "ScannedCount": scanned}
    if shape.select != "COUNT":
        result["Items"] = [
            to_attributes(shape.projection.apply(item) if shape.projection else item)
            for item in matched
        ]
    if more and last is not None:
        result["LastEvaluatedKey"] = to_attributes(_key(table, index, last))
    return result


def _key(table: Table, index: spec.Index | None, item: Item) -> Item:
    return {name: item[name] for name in _key_names(table, index) if name in item}


def _key_names(table: Table, index: spec.Index | None) -> list[str]:
    names = list(table.key_names)
    if index is not None:
        names += [key.name for key in (index.partition_key, index.sort_key) if key]
    return list(dict.fromkeys(names))
