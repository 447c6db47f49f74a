"""What each DynamoDB call does, apart from HTTP: authorize, find the table, act.

Mirrored from DynamoDB ("Using identity-based policies", the API reference):

- Every call is authorized with IAM first, as ``dynamodb:<Operation>`` on the table's
  ARN ``arn:aws:dynamodb:<region>:<account>:table/<name>`` (a Query or Scan of an
  index: ``<table arn>/index/<name>``; ``ListTables``: ``*``), so a caller without
  the permission learns nothing, not even whether the table exists. A batch call
  needs its own permission on each table it names.
- An undeclared table is ``ResourceNotFoundException``.
- ``CreateTable``, ``DeleteTable`` and ``UpdateTable`` do not change anything: tables
  are declared in the services (their source of truth), so they are refused with a
  ValidationException that says so.
- ``DescribeTable``: the declared keys, global secondary indexes (projection ``ALL``),
  on-demand billing, ``ACTIVE``, the item count (DynamoDB updates its count "about
  every six hours"; here it is counted on each call), and the stream (``NEW_IMAGE``
  etc.) with the ARN the local stream triggers use.
- ``ListTables``: names in order, ``Limit`` 1-100 (default 100),
  ``ExclusiveStartTableName``/``LastEvaluatedTableName``.

Not served (``UnknownOperationException``): ``TransactWriteItems``,
``TransactGetItems``, ``ExecuteStatement``, ``BatchExecuteStatement``,
``ExecuteTransaction`` (PartiQL), backups, exports and imports, global table and
TTL administration, tags, ``DescribeLimits``, ``DescribeEndpoints``, and the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from overcast import spec
from overcast.local.dynamodb import batches, errors, items, params, port, reads
from overcast.local.dynamodb.params import Params
from overcast.local.dynamodb.tables import DeclaredTables
from overcast.local.iam.evaluation import AuthorizationRequest, PolicyEvaluator
from overcast.local.iam.principals import Principal
from overcast.local.streams.events import stream_arn
from overcast.ports.tables import Table
from overcast.ports.tables.dynamodb import table_definition

Result = dict[str, Any]
ItemCall = Callable[[Table, Params], Result]
_ITEM_CALLS: dict[str, ItemCall] = {
    "GetItem": items.get_item,
    "PutItem": items.put_item,
    "DeleteItem": items.delete_item,
    "UpdateItem": items.update_item,
    "Query": reads.query,
    "Scan": reads.scan,
}
_DECLARED_ONLY = ("CreateTable", "DeleteTable", "UpdateTable")


class DynamoDbOperations:
    """The DynamoDB calls, for an authenticated ``principal``; each returns the JSON
    result."""

    def __init__(self, tables: DeclaredTables, evaluator: PolicyEvaluator) -> None:
        self._tables = tables
        self._evaluator = evaluator

    @staticmethod
    def serves(operation: str) -> bool:
        known = ("ListTables", "DescribeTable", "BatchGetItem", "BatchWriteItem")
        return operation in _ITEM_CALLS or operation in known or operation in _DECLARED_ONLY

    def call(self, operation: str, principal: Principal, request: Params) -> Result:
        if operation in _ITEM_CALLS:
            name = str(params.required(request, "TableName"))
            index = request.get("IndexName") if operation in ("Query", "Scan") else None
            table = self._table(principal, operation, name, index)
            return _ITEM_CALLS[operation](table, request)
        if operation == "ListTables":
            return self.list_tables(principal, request)
        if operation == "DescribeTable":
            return self.describe_table(principal, request)
        if operation == "BatchGetItem":
            return batches.batch_get_item(self._batch_table(principal), request)
        if operation == "BatchWriteItem":
            return batches.batch_write_item(self._batch_table(principal), request)
        return self.declared_only(principal, operation, request)

    def list_tables(self, principal: Principal, request: Params) -> Result:
        self._authorize(principal, "ListTables", "*")
        limit = request.get("Limit", 100)
        if not 1 <= limit <= 100:
            raise errors.ValidationException(
                f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
                "constraint: Member must have value less than or equal to 100"
            )
        start = request.get("ExclusiveStartTableName")
        names = [n for n in self._tables.names() if start is None or n > start]
        result: Result = {"TableNames": names[:limit]}
        if len(names) > limit:
            result["LastEvaluatedTableName"] = names[limit - 1]
        return result

    def describe_table(self, principal: Principal, request: Params) -> Result:
        name = str(params.required(request, "TableName"))
        table = self._table(principal, "DescribeTable", name)
        return {"Table": self._description(name, table)}

    def declared_only(self, principal: Principal, operation: str, request: Params) -> Result:
        name = str(params.required(request, "TableName"))
        self._authorize(principal, operation, self._tables.arn(name))
        raise errors.ValidationException(
            f"{operation} is not served by the local cloud: its tables are declared in the "
            f"services. Declare (or change, or remove) spec.Table(...) in the service and "
            "restart overcast up."
        )

    def _description(self, name: str, table: Table) -> Result:
        declaration = table.declaration
        definition = table_definition(declaration, name)
        count = port.call(lambda: _count(table))
        arn = self._tables.arn(name)
        described: Result = {
            "TableName": name,
            "TableArn": arn,
            "TableId": arn,
            "TableStatus": "ACTIVE",
            "KeySchema": definition["KeySchema"],
            "AttributeDefinitions": definition["AttributeDefinitions"],
            "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
            "ProvisionedThroughput": _ON_DEMAND,
            "ItemCount": count,
            "TableSizeBytes": 0,
        }
        if definition.get("GlobalSecondaryIndexes"):
            described["GlobalSecondaryIndexes"] = [
                {
                    **index,
                    "IndexName": index["IndexName"],
                    "IndexStatus": "ACTIVE",
                    "IndexArn": f"{arn}/index/{index['IndexName']}",
                    "ProvisionedThroughput": _ON_DEMAND,
                }
                for index in definition["GlobalSecondaryIndexes"]
            ]
        if declaration.stream is not None:
            described |= self._stream(name, table, declaration.stream)
        return described

    def _stream(self, name: str, table: Table, view: spec.StreamView) -> Result:
        label = port.call(table.stream_label)
        return {
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": str(view)},
            "LatestStreamLabel": label,
            "LatestStreamArn": stream_arn(
                self._tables.region, self._tables.account_id, name, label
            ),
        }

    def _table(self, principal: Principal, operation: str, name: str, index: Any = None) -> Table:
        resource = self._tables.arn(name)
        if index is not None:
            resource += f"/index/{index}"
        self._authorize(principal, operation, resource)
        return self._tables.table(name)

    def _batch_table(self, principal: Principal) -> batches.TableOf:
        return lambda name, operation: self._table(principal, operation, name)

    def _authorize(self, principal: Principal, operation: str, resource: str) -> None:
        action = f"dynamodb:{operation}"
        if not self._evaluator.allowed(AuthorizationRequest(principal, action, resource)):
            caller = principal.session_arn or principal.arn
            raise errors.AccessDenied(
                f"User: {caller} is not authorized to perform: {action} on resource: "
                f"{resource} because no identity-based policy allows the {action} action"
            )


_ON_DEMAND = {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0, "NumberOfDecreasesToday": 0}


def _count(table: Table) -> int:
    count, cursor = 0, None
    while True:
        page = table.scan(limit=1000, cursor=cursor)
        count += len(page.items)
        cursor = page.cursor
        if cursor is None:
            return count
