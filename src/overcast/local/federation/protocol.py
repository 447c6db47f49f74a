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
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from overcast.local.auth.sigv4 import SigV4Verifier
from overcast.local.federation.errors import (
    UnknownOperation,
)
from overcast.local.federation.identities import IdentityPools
from overcast.local.federation.operations import OPERATIONS
from overcast.local.identity import shapes
from overcast.local.wire import (
    answer,
    decode_json,
    json_error,
    preflight,
    read_body,
    signed_request,
)

TARGET_PREFIX = "AWSCognitoIdentityService."


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
            return preflight(request, request_id, "POST, OPTIONS")
        if request.method != "POST" or request.url.path != "/":
            return json_error("UnknownOperationException", "Unknown operation.", 404, request_id)
        return await answer(lambda: self._operate(request), request_id, "identity pools")

    async def _operate(self, request: Request) -> dict[str, Any]:
        target = request.headers.get("x-amz-target", "")
        operation = OPERATIONS.get(target.removeprefix(TARGET_PREFIX))
        if not target.startswith(TARGET_PREFIX) or operation is None:
            raise UnknownOperation(f"Unknown operation: {target or '(no X-Amz-Target)'}")
        body = await read_body(request)
        if operation.signed:
            self._verifier.verify(signed_request(request.scope, body))
        parsed = shapes.parse(operation.request, decode_json(body))
        result: dict[str, Any] = await asyncio.to_thread(operation.handler, self._pools, parsed)
        return result
