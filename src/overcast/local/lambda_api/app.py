"""Lambda's REST-JSON API, served as an ASGI app.

The three calls a client of the local cloud needs (paths from botocore's model,
``lambda/2015-03-31``):

- ``POST /2015-03-31/functions/{FunctionName}/invocations`` → ``Invoke``: headers
  ``X-Amz-Invocation-Type``, ``X-Amz-Log-Type``, query ``Qualifier``; the body is the
  payload. The answer: status 200/202/204, the payload, and ``X-Amz-Function-Error``
  and ``X-Amz-Executed-Version`` (``$LATEST``: no published versions locally).
- ``GET /2015-03-31/functions[/]`` → ``ListFunctions`` (older botocore models end it
  with ``/``).
- ``GET /2015-03-31/functions/{FunctionName}`` → ``GetFunction``.

``FunctionName`` is percent-encoded in the path (an ARN's ``:``); the ASGI path is
decoded. Every call must be SigV4-signed for service ``lambda`` in the cloud's region
with credentials the local cloud knows; the signature is checked before anything else
is looked at, except the body's size (read first, up to the 6 MB quota). Every answer
carries ``x-amzn-RequestId``; an ``Event`` invocation's is the queued event's id.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from overcast.local.auth.request_signer import RequestSigner
from overcast.local.iam.principals import Principal
from overcast.local.lambda_api import errors
from overcast.local.lambda_api.directory import LATEST
from overcast.local.lambda_api.operations import SYNC_PAYLOAD_LIMIT, LambdaOperations

SERVICE = "lambda"
FUNCTIONS_PATH = "/2015-03-31/functions"
CONTENT_TYPE = "application/json"
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Call:
    principal: Principal
    function_name: str
    payload: bytes
    request_id: str  # an Event invocation's id too, as Lambda's 202 says


class LambdaApi:
    """ASGI app: Lambda's REST-JSON protocol over :class:`LambdaOperations`."""

    def __init__(self, operations: LambdaOperations, signer: RequestSigner) -> None:
        self.operations = operations
        self._signer = signer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request_id = str(uuid.uuid4())
        try:
            response = await self._answer(Request(scope, receive), request_id)
        except errors.LambdaError as error:
            response = _error(error)
        except Exception:
            _log.exception("Internal error in Lambda (request %s)", request_id)
            response = _error(errors.ServiceException())
        response.headers["x-amzn-RequestId"] = request_id
        await response(scope, receive, send)

    async def _answer(self, request: Request, request_id: str) -> Response:
        from overcast.local.wire import BodyTooLarge, read_body  # import cycle: see wire

        try:
            body = await read_body(request, SYNC_PAYLOAD_LIMIT)
        except BodyTooLarge:
            raise errors.RequestTooLargeException(
                f"Request must be smaller than {SYNC_PAYLOAD_LIMIT} bytes for the "
                "InvokeFunction operation"
            ) from None
        principal = await asyncio.to_thread(self._principal, request.scope, body)
        method, rest = request.method, request.scope["path"].removeprefix(FUNCTIONS_PATH)
        query = {key: values[-1] for key, values in parse_qs(request.url.query).items()}
        parts = [part for part in rest.split("/") if part]
        if method == "GET" and not parts:
            result = await asyncio.to_thread(self.operations.list_functions, principal)
            return _json(result)
        if method == "GET" and len(parts) == 1:
            result = await asyncio.to_thread(
                self.operations.get_function, principal, parts[0], query.get("Qualifier")
            )
            return _json(result)
        if method == "POST" and len(parts) == 2 and parts[1] == "invocations":
            call = _Call(principal, parts[0], body, request_id)
            return await self._invoke(call, request.headers, query)
        raise errors.UnknownOperationException()

    async def _invoke(
        self, call: _Call, headers: Mapping[str, str], query: Mapping[str, str]
    ) -> Response:
        invocation = await self.operations.invoke(
            call.principal,
            call.function_name,
            call.payload,
            invocation_type=headers.get("x-amz-invocation-type", "RequestResponse"),
            qualifier=query.get("Qualifier"),
            request_id=call.request_id,
        )
        answer = {"X-Amz-Executed-Version": LATEST}
        if invocation.function_error is not None:
            answer["X-Amz-Function-Error"] = invocation.function_error
        return Response(invocation.payload, invocation.status, answer, media_type=CONTENT_TYPE)

    def _principal(self, scope: Scope, body: bytes) -> Principal:
        return self._signer.authenticate(scope, body, errors.signature_errors)


def _json(result: Any) -> Response:
    return Response(json.dumps(result).encode(), 200, media_type=CONTENT_TYPE)


def _error(error: errors.LambdaError) -> Response:
    body = json.dumps({"Type": error.type, "message": error.message}).encode()
    headers = {"x-amzn-ErrorType": error.code}
    return Response(body, error.status, headers, media_type=CONTENT_TYPE)
