"""The table port on Amazon DynamoDB, through boto3's low-level client.

Each primitive is one DynamoDB request (``GetItem``, ``PutItem``, ``UpdateItem``,
``DeleteItem``, ``Query``, ``BatchGetItem``) whose condition is checked by DynamoDB
atomically with the write; expressions use placeholders only (see
:mod:`~overcast.ports.tables.dynamodb_expressions`), values are typed by
:mod:`~overcast.ports.tables.dynamodb_values`. What it mirrors and maps:

- ``consistent=True`` is ``ConsistentRead`` on ``GetItem``, ``BatchGetItem`` and table
  queries; every other read is eventually consistent, as DynamoDB's default. A global
  secondary index is always eventually consistent: a query of it may miss a write that
  has just succeeded.
- The port's cursor is its own, opaque (see ``base``); it holds the last item's primary
  key and index key, which is exactly the ``ExclusiveStartKey`` DynamoDB needs to
  resume, on the table or on an index. A query asks for ``limit + 1`` items, following
  ``LastEvaluatedKey`` when DynamoDB stops early (1 MB per response), so a page has a
  cursor exactly when more items follow.
- ``BatchGetItem`` may leave ``UnprocessedKeys`` (throttling, 16 MB); they are asked
  again with exponential backoff, as AWS advises, and ``TableUnavailable`` is raised
  when they stay unprocessed.
- Errors: ``ConditionalCheckFailedException`` is :class:`ConditionFailed`;
  ``ValidationException`` (e.g. an item over 400 KB as DynamoDB counts it) is
  :class:`InvalidItem`; throttling, a missing table, network and service failures are
  :class:`TableUnavailable`. No botocore type escapes.

The client is built lazily (``boto3.client("dynamodb")``) unless one is given; the
composition root passes one client per process, made from the function's config.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from overcast import spec
from overcast.ports.tables.base import (
    Condition,
    Item,
    QueryPlan,
    ScanPlan,
    Table,
)
from overcast.ports.tables.dynamodb_expressions import Expression, outside
from overcast.ports.tables.dynamodb_values import (
    AttributeValue,
    from_attributes,
    to_attributes,
)
from overcast.ports.tables.exceptions import (
    ConditionFailed,
    InvalidItem,
    TableError,
    TableUnavailable,
)

_UNAVAILABLE = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "LimitExceededException",
        "TransactionConflictException",
    }
)
_BATCH_ATTEMPTS = 8
_BACKOFF_SECONDS = 0.05


class DynamoDbTable(Table):
    """The DynamoDB table ``table_name``, whose schema is ``declaration``.

    ``client`` is a boto3 DynamoDB client (typed ``Any``: the project installs no
    ``mypy-boto3-dynamodb`` stubs); ``sleep`` waits between retries of unprocessed keys.
    """

    evaluates_predicates = False  # a Python predicate has no condition expression

    def __init__(
        self,
        declaration: spec.Table,
        table_name: str,
        client: Any = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(declaration)
        self.table_name = table_name
        self._client = client
        self._client_lock = threading.Lock()
        self._sleep = sleep

    # --- primitives ------------------------------------------------------------------

    def _get(self, key: dict[str, Any], *, consistent: bool = False) -> Item | None:
        answer = self._call(
            "get_item",
            TableName=self.table_name,
            Key=to_attributes(key),
            ConsistentRead=consistent,
        )
        found = answer.get("Item")
        return None if found is None else from_attributes(found)

    def _put(self, item: Item, key: dict[str, Any], condition: Condition | None) -> None:
        request = self._expressions(condition)
        self._call("put_item", TableName=self.table_name, Item=to_attributes(item), **request)

    def _update(
        self,
        key: dict[str, Any],
        changes: dict[str, Any],
        removals: tuple[str, ...],
        condition: Condition | None,
    ) -> Item:
        request = self._expressions(condition, changes, removals)
        answer = self._call(
            "update_item",
            TableName=self.table_name,
            Key=to_attributes(key),
            ReturnValues="ALL_NEW",
            **request,
        )
        return from_attributes(answer.get("Attributes") or to_attributes(key))

    def _delete(self, key: dict[str, Any], condition: Condition | None) -> Item | None:
        request = self._expressions(condition)
        answer = self._call(
            "delete_item",
            TableName=self.table_name,
            Key=to_attributes(key),
            ReturnValues="ALL_OLD",
            **request,
        )
        old = answer.get("Attributes")
        return None if old is None else from_attributes(old)

    def _query(self, plan: QueryPlan) -> list[Item]:
        start = self._start_key(plan)
        if start is _NOTHING_LEFT:
            return []
        request = self._query_request(plan)
        wanted = plan.limit + 1
        items: list[Item] = []
        while len(items) < wanted:
            resume = {"ExclusiveStartKey": start} if start else {}
            answer = self._call("query", **request, Limit=wanted - len(items), **resume)
            items += [from_attributes(found) for found in answer.get("Items", [])]
            start = answer.get("LastEvaluatedKey")
            if not start:
                break
        return items[:wanted]

    def _scan(self, plan: ScanPlan) -> list[Item]:
        start = None if plan.after is None else to_attributes(plan.after)
        wanted = plan.limit + 1
        items: list[Item] = []
        while len(items) < wanted:
            resume = {"ExclusiveStartKey": start} if start else {}
            answer = self._call(
                "scan",
                TableName=self.table_name,
                ConsistentRead=plan.consistent,
                Limit=wanted - len(items),
                **resume,
            )
            items += [from_attributes(found) for found in answer.get("Items", [])]
            start = answer.get("LastEvaluatedKey")
            if not start:
                break
        return items[:wanted]

    def _batch_get(
        self, keys: list[dict[str, Any]], *, consistent: bool = False
    ) -> list[Item | None]:
        found: dict[tuple[Any, ...], Item] = {}
        pending = [to_attributes(key) for key in keys]
        for attempt in range(_BATCH_ATTEMPTS):
            if attempt:
                self._sleep(_BACKOFF_SECONDS * 2 ** (attempt - 1))
            answer = self._call(
                "batch_get_item",
                RequestItems={self.table_name: {"Keys": pending, "ConsistentRead": consistent}},
            )
            for raw in answer.get("Responses", {}).get(self.table_name, []):
                item = from_attributes(raw)
                found[self._identity(item)] = item
            pending = answer.get("UnprocessedKeys", {}).get(self.table_name, {}).get("Keys", [])
            if not pending:
                return [found.get(self._identity(key)) for key in keys]
        raise TableUnavailable(
            f"DynamoDB left {len(pending)} keys of table {self.table_name!r} unprocessed "
            f"after {_BATCH_ATTEMPTS} attempts; retry later."
        )

    # --- requests ----------------------------------------------------------------------

    @property
    def client(self) -> Any:
        """The boto3 DynamoDB client, built on first use if none was given."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    import boto3

                    self._client = boto3.client("dynamodb")
        return self._client

    def _call(self, operation: str, **request: Any) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = getattr(self.client, operation)(**request)
        except ClientError as exc:
            raise _translated(exc, self.table_name) from exc
        except ParamValidationError as exc:
            raise InvalidItem(f"DynamoDB refused the request: {exc}") from exc
        except BotoCoreError as exc:
            raise TableUnavailable(f"DynamoDB could not be reached: {exc}") from exc
        return answer

    def _expressions(
        self,
        condition: Condition | None,
        changes: Mapping[str, Any] | None = None,
        removals: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """A write's ``ConditionExpression`` and ``UpdateExpression`` (when there are
        any) and the placeholders they use."""
        expression = Expression()
        request: dict[str, Any] = {}
        update = expression.update(changes or {}, removals)
        if update is not None:
            request["UpdateExpression"] = update
        check = expression.condition(condition, self.declaration.partition_key.name)
        if check is not None:
            request["ConditionExpression"] = check
        return {**request, **expression.placeholders()}

    def _identity(self, item: Mapping[str, Any]) -> tuple[Any, ...]:
        # Numbers equal in value are one key (2 == 2.0, and they hash alike).
        return tuple(item[name] for name in self.key_names)

    def _query_request(self, plan: QueryPlan) -> dict[str, Any]:
        schema: spec.Table | spec.Index = plan.index or self.declaration
        expression = Expression()
        condition = expression.key_condition(
            schema.partition_key.name,
            plan.partition_value,
            schema.sort_key.name if schema.sort_key else None,
            plan.sort,
        )
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": condition,
            "ScanIndexForward": not plan.descending,
            **expression.placeholders(),
        }
        if plan.index is not None:
            request["IndexName"] = plan.index.name
        else:
            request["ConsistentRead"] = plan.consistent
        return request

    def _start_key(self, plan: QueryPlan) -> dict[str, AttributeValue] | object | None:
        """The ``ExclusiveStartKey`` that resumes after ``plan.after``; ``None`` to start
        at the beginning; :data:`_NOTHING_LEFT` when nothing can follow."""
        if plan.after is None:
            return None
        position: dict[str, Any] = {**plan.after["k"], **plan.after.get("x", {})}
        sort_key = plan.index.sort_key if plan.index else self.declaration.sort_key
        if plan.sort is not None and sort_key is not None:
            where = outside(position[sort_key.name], plan.sort)
            if where is not None:
                # The cursor lies before the condition's values (start at its first
                # value) or past them (nothing follows), in the query's direction.
                behind = "above" if plan.descending else "below"
                return None if where == behind else _NOTHING_LEFT
        return to_attributes(position)


_NOTHING_LEFT = object()


def table_definition(declaration: spec.Table, table_name: str) -> dict[str, Any]:
    """The ``CreateTable`` request of ``declaration``: its keys, its global secondary
    indexes (projection ``ALL``, as :class:`~overcast.spec.Index` says), on-demand
    billing. For tests and tools; deployed tables come from the CDK stacks."""
    schemas: list[spec.Table | spec.Index] = [declaration, *declaration.indexes]
    keys = [key for schema in schemas for key in (schema.partition_key, schema.sort_key) if key]
    request: dict[str, Any] = {
        "TableName": table_name,
        "KeySchema": _key_schema(declaration),
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind}
            for name, kind in {key.name: key.type for key in keys}.items()
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if declaration.indexes:
        request["GlobalSecondaryIndexes"] = [
            {"IndexName": index.name, "KeySchema": _key_schema(index), "Projection": _ALL}
            for index in declaration.indexes
        ]
    return request


_ALL = {"ProjectionType": "ALL"}


def _key_schema(schema: spec.Table | spec.Index) -> list[dict[str, str]]:
    found = [{"AttributeName": schema.partition_key.name, "KeyType": "HASH"}]
    if schema.sort_key is not None:
        found.append({"AttributeName": schema.sort_key.name, "KeyType": "RANGE"})
    return found


def _translated(error: ClientError, table_name: str) -> TableError:
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    message = str(details.get("Message", "")) or code
    if code == "ConditionalCheckFailedException":
        return ConditionFailed(f"The conditional request failed: {message}")
    if code == "ValidationException":
        return InvalidItem(f"DynamoDB refused the request: {message}")
    if code == "ResourceNotFoundException":
        return TableUnavailable(
            f"DynamoDB table {table_name!r} does not exist (is the stack deployed?): {message}"
        )
    if code in _UNAVAILABLE:
        return TableUnavailable(f"DynamoDB is busy or failing ({code}): {message}; retry later.")
    return TableUnavailable(f"DynamoDB failed ({code or 'unknown error'}): {message}")
