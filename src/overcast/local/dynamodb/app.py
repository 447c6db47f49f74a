"""DynamoDB's AWS JSON 1.0 protocol, served as an ASGI app.

``POST /`` with ``X-Amz-Target: DynamoDB_20120810.<Operation>`` and a JSON body
(``application/x-amz-json-1.0``); the answer is the operation's JSON output, or
DynamoDB's error (:mod:`overcast.local.dynamodb.errors`). Every call must be
SigV4-signed for service ``dynamodb`` in the cloud's region with credentials the local
cloud knows. Parameters of the wrong JSON type are refused first, against botocore's
model (:mod:`overcast.local.aws_shapes`). Operations run in worker threads: each is a
few SQLite statements (the 1 MB page limit bounds a Query or Scan).

The body limit: DynamoDB's largest request is a BatchWriteItem of 25 items of 400 KB
(10 MB in DynamoDB JSON, before escapes), so 16 MiB.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from overcast.local import aws_shapes
from overcast.local.auth.request_signer import RequestSigner
from overcast.local.dynamodb import errors
from overcast.local.dynamodb.operations import DynamoDbOperations
from overcast.local.iam.principals import Principal

SERVICE = "dynamodb"
TARGET_PREFIX = "DynamoDB_20120810."
CONTENT_TYPE = "application/x-amz-json-1.0"
MAX_BODY_BYTES = 16 * 1024 * 1024
_log = logging.getLogger(__name__)


class DynamoDbApi:
    """ASGI app: DynamoDB's JSON protocol over :class:`DynamoDbOperations`."""

    def __init__(self, operations: DynamoDbOperations, signer: RequestSigner) -> None:
        self._operations = operations
        self._signer = signer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request_id = str(uuid.uuid4())
        try:
            status, body = 200, await self._answer(Request(scope, receive))
        except errors.DynamoDbError as error:
            status, body = error.status, _error(error)
        except Exception:
            _log.exception("Internal error in DynamoDB (request %s)", request_id)
            status, body = 500, _error(errors.InternalServerError())
        headers = {"x-amzn-RequestId": request_id}
        await Response(body, status, headers, media_type=CONTENT_TYPE)(scope, receive, send)

    async def _answer(self, request: Request) -> bytes:
        from overcast.local.wire import BodyTooLarge, read_body  # import cycle: see wire

        try:
            body = await read_body(request, MAX_BODY_BYTES)
        except BodyTooLarge:
            raise errors.RequestEntityTooLarge() from None
        target = request.headers.get("x-amz-target", "")
        name = target.removeprefix(TARGET_PREFIX)
        principal = await asyncio.to_thread(self._principal, request.scope, body)
        if not target.startswith(TARGET_PREFIX) or not DynamoDbOperations.serves(name):
            raise errors.UnknownOperation(f"The operation {target or '(none)'} is not served.")
        params = _params(body)
        aws_shapes.check(SERVICE, name, params, errors.ValidationException)
        result = await asyncio.to_thread(self._operations.call, name, principal, params)
        return json.dumps(result, separators=(",", ":")).encode()

    def _principal(self, scope: Scope, body: bytes) -> Principal:
        return self._signer.authenticate(scope, body, errors.signature_errors)


def _params(body: bytes) -> dict[str, Any]:
    try:
        params = json.loads(body or b"{}")
    except ValueError:
        raise errors.Serialization("Start of structure or map found where not expected") from None
    if not isinstance(params, dict):
        raise errors.Serialization("The request body must be a JSON object.")
    return params


def _error(error: errors.DynamoDbError) -> bytes:
    return json.dumps({"__type": error.type, "message": error.message, **error.extra}).encode()
