"""``BatchGetItem`` and ``BatchWriteItem`` over several declared tables.

Mirrored from DynamoDB: a BatchGetItem reads "up to 100 items" ("Too many items
requested for the BatchGetItem call"), a BatchWriteItem puts or deletes up to 25
("Too many items requested for the BatchWriteItem call"); a key given twice in one
batch is refused ("Provided list of item keys contains duplicates"); each write
request is exactly one ``PutRequest`` or ``DeleteRequest``. Every request is checked
before anything is written. Locally nothing is ever throttled, so ``UnprocessedKeys``
and ``UnprocessedItems`` are always empty. An empty ``RequestItems`` is refused
("Member must have length greater than or equal to 1"), and so is a table's legacy
``AttributesToGet`` (use ``ProjectionExpression``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from overcast.local.dynamodb import errors, params, port
from overcast.local.dynamodb.expressions import parse_projection
from overcast.local.dynamodb.params import Params
from overcast.ports.tables import Table
from overcast.ports.tables.dynamodb_values import to_attributes
from overcast.ports.tables.values import Item

Result = dict[str, Any]
MAX_GET_KEYS = 100
MAX_WRITES = 25
TableOf = Callable[[str, str], Table]  # (table name, operation) -> authorized table


def batch_get_item(table_of: TableOf, request: Params) -> Result:
    asked = _request_items(request)
    if sum(len(spec.get("Keys") or ()) for spec in asked.values()) > MAX_GET_KEYS:
        raise errors.ValidationException("Too many items requested for the BatchGetItem call")
    responses: dict[str, list[Any]] = {}
    for name, wanted in asked.items():
        table = table_of(name, "BatchGetItem")
        params.refuse_legacy(wanted)
        keys = [params.key_of({"Key": key}, table.key_names) for key in wanted.get("Keys") or ()]
        _distinct(table, keys)
        text = wanted.get("ProjectionExpression")
        with port.translated():
            projection = parse_projection(text, params.names_of(wanted)) if text else None
        params.check_placeholders(
            wanted, projection.names_used if projection else (), (), 1 if text else 0
        )
        consistent = bool(wanted.get("ConsistentRead"))
        with port.translated():
            found = table.batch_get(keys, consistent=consistent)
        responses[name] = [
            to_attributes(projection.apply(item) if projection else item)
            for item in found
            if item is not None
        ]
    return {"Responses": responses, "UnprocessedKeys": {}}


def batch_write_item(table_of: TableOf, request: Params) -> Result:
    asked = _request_items(request)
    if sum(len(writes) for writes in asked.values()) > MAX_WRITES:
        raise errors.ValidationException("Too many items requested for the BatchWriteItem call")
    planned: list[Callable[[], Any]] = []
    for name, writes in asked.items():
        table = table_of(name, "BatchWriteItem")
        keys: list[Item] = []
        for write in writes:
            action, key = _write(table, write)
            planned.append(action)
            keys.append(key)
        _distinct(table, keys)
    for action in planned:
        port.call(action)
    return {"UnprocessedItems": {}}


def _request_items(request: Params) -> Mapping[str, Any]:
    asked: Mapping[str, Any] = params.required(request, "RequestItems")
    if not asked:
        raise errors.ValidationException(
            "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1"
        )
    return asked


def _write(table: Table, write: Any) -> tuple[Callable[[], Any], Item]:
    if not isinstance(write, Mapping) or len(write) != 1:
        raise errors.ValidationException(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly "
            "one of PutRequest or DeleteRequest"
        )
    put, delete = write.get("PutRequest"), write.get("DeleteRequest")
    if put is not None:
        item = params.item_of(params.required(put, "Item"))
        port.call(lambda: table.check_item(item))  # refuse a bad item before any write
        key = {name: item.get(name) for name in table.key_names}
        return (lambda: table.put(item)), key
    if delete is not None:
        key = params.key_of(delete, table.key_names)
        return (lambda: table.delete(key)), key
    raise errors.ValidationException("A write request must be a PutRequest or a DeleteRequest")


def _distinct(table: Table, keys: list[Item]) -> None:
    seen = {tuple(repr(key.get(name)) for name in table.key_names) for key in keys}
    if len(seen) != len(keys):
        raise errors.ValidationException("Provided list of item keys contains duplicates")
