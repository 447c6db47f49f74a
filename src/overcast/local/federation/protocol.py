"""The Cognito Identity JSON protocol, served as an ASGI app.

What an unmodified AWS SDK sees, as from ``cognito-identity``:

- ``POST /`` with ``X-Amz-Target: AWSCognitoIdentityService.<Operation>`` and a
  JSON body (``application/x-amz-json-1.1``); the answer is ``200`` with the
  operation's JSON output.
- Errors are ``400`` (``500`` for a fault) with ``{"__type": "<Code>", "message":
  "..."}`` and ``x-amzn-ErrorType: <Code>:``; every response carries
  ``x-amzn-RequestId``. An unknown target is ``UnknownOperationException``.
- ``DescribeIdentityPool`` and ``ListIdentityPools`` must be SigV4-signed (service
  ``cognito-identity``) with the operator's root credentials; the others are
  unsigned, as on AWS. The signature is checked before the body is parsed.
- CORS is open: browsers call the unsigned operations directly (Amplify does).

Bodies over 1 MiB are refused with ``413``. Operations run in worker threads:
they touch SQLite and verify RSA signatures.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from overcast.local.auth.sigv4 import SignatureError, SigV4Verifier
from overcast.local.federation.errors import (
    CognitoError,
    InternalError,
    SerializationError,
    UnknownOperation,
)
from overcast.local.federation.identities import IdentityPools
from overcast.local.federation.operations import OPERATIONS
from overcast.local.identity import shapes
from overcast.local.wire import MAX_BODY_BYTES, BodyTooLarge, read_body, signed_request

TARGET_PREFIX = "AWSCognitoIdentityService."
CONTENT_TYPE = "application/x-amz-json-1.1"
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "x-amzn-RequestId, x-amzn-ErrorType, Date",
}
_log = logging.getLogger(__name__)


def _response(
    status: int, body: Any, request_id: str, headers: Mapping[str, str] | None = None
) -> Response:
    content = json.dumps(body, separators=(",", ":")).encode("utf-8")
    all_headers = {"x-amzn-RequestId": request_id, **_CORS, **(headers or {})}
    return Response(content, status, all_headers, media_type=CONTENT_TYPE)


def _error(code: str, message: str, status: int, request_id: str) -> Response:
    body = {"__type": code, "message": message}
    return _response(status, body, request_id, {"x-amzn-ErrorType": f"{code}:"})


def _decode(body: bytes) -> Any:
    try:
        return json.loads(body) if body.strip() else {}
    except (ValueError, RecursionError):
        raise SerializationError("The request body is not valid JSON.") from None


class CognitoIdentityProtocol:
    """ASGI app: Cognito Identity's JSON protocol for the registered identity pools."""

    def __init__(self, pools: IdentityPools, verifier: SigV4Verifier) -> None:
        self._pools = pools
        self._verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        response = await self._respond(Request(scope, receive))
        await response(scope, receive, send)

    async def _respond(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        if request.method == "OPTIONS":
            return _preflight(request, request_id)
        if request.method != "POST" or request.url.path != "/":
            return _error("UnknownOperationException", "Unknown operation.", 404, request_id)
        try:
            return _response(200, await self._operate(request), request_id)
        except BodyTooLarge:
            message = f"The request body is larger than {MAX_BODY_BYTES} bytes."
            return _error("RequestEntityTooLargeException", message, 413, request_id)
        except (CognitoError, SignatureError) as error:
            return _error(error.code, error.message, error.status, request_id)
        except Exception:
            _log.exception("Internal error in the identity pools (request %s)", request_id)
            fault = InternalError()
            return _error(fault.code, fault.message, fault.status, request_id)

    async def _operate(self, request: Request) -> dict[str, Any]:
        target = request.headers.get("x-amz-target", "")
        operation = OPERATIONS.get(target.removeprefix(TARGET_PREFIX))
        if not target.startswith(TARGET_PREFIX) or operation is None:
            raise UnknownOperation(f"Unknown operation: {target or '(no X-Amz-Target)'}")
        body = await read_body(request)
        if operation.signed:
            self._verifier.verify(signed_request(request.scope, body))
        parsed = shapes.parse(operation.request, _decode(body))
        result: dict[str, Any] = await asyncio.to_thread(operation.handler, self._pools, parsed)
        return result


def _preflight(request: Request, request_id: str) -> Response:
    requested = request.headers.get("access-control-request-headers", "*")
    headers = {
        "x-amzn-RequestId": request_id,
        **_CORS,
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": requested,
        "Access-Control-Max-Age": "600",
    }
    return Response(b"", 200, headers)
