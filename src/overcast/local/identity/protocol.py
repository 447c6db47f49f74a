"""The Cognito Identity Provider JSON protocol, served as an ASGI app.

What an unmodified AWS SDK or the AWS CLI sees, as from ``cognito-idp``:

- ``POST /`` with ``X-Amz-Target: AWSCognitoIdentityProviderService.<Operation>``
  and a JSON body (``application/x-amz-json-1.1``); the answer is ``200`` with the
  operation's JSON output.
- Errors are ``400`` (``500`` for a fault) with ``{"__type": "<Code>", "message":
  "..."}`` and the header ``x-amzn-ErrorType: <Code>:``; every response carries
  ``x-amzn-RequestId``. An unknown target is ``UnknownOperationException``.
- The ``Admin*`` operations are authorized by IAM: the request must carry a SigV4
  signature (service ``cognito-idp``) made with the root credentials or those of a
  session (e.g. a function role's), and, when an ``authorize`` callable is given,
  the caller's policies must allow ``cognito-idp:<Operation>`` on the pool's ARN
  (``admin_access.py``). The signature is checked before the body is read as JSON.
- ``GET /<pool id>/.well-known/jwks.json`` and ``.../openid-configuration``
  publish the pool's keys and OIDC discovery document, as Cognito does under its
  issuer URL.
- CORS is open (Cognito answers browsers from any origin): the public operations
  are meant to be called from web pages.

Requests larger than 1 MiB are refused with ``413`` before they are parsed.

Operations run in worker threads (``asyncio.to_thread``), never on the event
loop: a sign-in spends ~50 ms in scrypt, and the loop serves every other
request of the local cloud meanwhile. The store shares one SQLite connection
between those threads behind a lock.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from overcast.local.auth.sigv4 import SigV4Verifier
from overcast.local.identity import shapes
from overcast.local.identity.errors import (
    CognitoError,
    UnknownOperation,
)
from overcast.local.identity.operations import OPERATIONS, UserPools
from overcast.local.identity.pools import ActivePool, PoolDirectory
from overcast.local.wire import (
    answer,
    decode_json,
    json_error,
    json_response,
    preflight,
    read_body,
    signed_request,
)

TARGET_PREFIX = "AWSCognitoIdentityProviderService."
# (access key id, operation, pool ARN) -> None, or raises a CognitoError.
Authorize = Callable[[str, str, str], None]


def discovery_document(pool: ActivePool) -> dict[str, Any]:
    """The OIDC discovery document, as Cognito publishes it for a pool.

    Cognito also lists its hosted UI's OAuth endpoints (authorize, token,
    userInfo, logout, revoke); the local cloud has no hosted UI, so they are absent
    rather than pointing nowhere.
    """
    return {
        "issuer": pool.issuer,
        "jwks_uri": f"{pool.issuer}/.well-known/jwks.json",
        "id_token_signing_alg_values_supported": ["RS256"],
        "subject_types_supported": ["public"],
        "response_types_supported": ["code", "token"],
        "scopes_supported": ["openid", "email", "phone", "profile"],
    }


class CognitoProtocol:
    """ASGI app: Cognito's JSON protocol and well-known documents for the pools."""

    def __init__(
        self,
        pools: UserPools,
        directory: PoolDirectory,
        verifier: SigV4Verifier,
        authorize: Authorize | None = None,
    ) -> None:
        self._pools = pools
        self._directory = directory
        self._verifier = verifier
        self._authorize = authorize

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        response = await self._respond(Request(scope, receive))
        await response(scope, receive, send)

    async def _respond(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        if request.method == "OPTIONS":
            return preflight(request, request_id, "GET, POST, OPTIONS")
        if request.method == "GET":
            return self._well_known(request.url.path, request_id)
        if request.method != "POST" or request.url.path != "/":
            return json_error("UnknownOperationException", "Unknown operation.", 404, request_id)
        return await answer(lambda: self._operate(request), request_id, "user pool")

    async def _operate(self, request: Request) -> dict[str, Any]:
        target = request.headers.get("x-amz-target", "")
        operation = OPERATIONS.get(target.removeprefix(TARGET_PREFIX))
        if not target.startswith(TARGET_PREFIX) or operation is None:
            raise UnknownOperation(f"Unknown operation: {target or '(no X-Amz-Target)'}")
        body = await read_body(request)
        signed = (
            self._verifier.verify(signed_request(request.scope, body)) if operation.signed else None
        )
        parsed = shapes.parse(operation.request, decode_json(body))
        if signed is not None and self._authorize is not None:
            pool = self._directory.pool(str(getattr(parsed, "UserPoolId", "")))
            name = target.removeprefix(TARGET_PREFIX)
            self._authorize(signed.credentials.access_key_id, name, pool.arn)
        result: dict[str, Any] = await asyncio.to_thread(operation.handler, self._pools, parsed)
        return result

    def _well_known(self, path: str, request_id: str) -> Response:
        pool_id, _, document = path.strip("/").partition("/")
        if document not in (".well-known/jwks.json", ".well-known/openid-configuration"):
            return json_error("ResourceNotFoundException", "Not found.", 404, request_id)
        try:
            pool = self._directory.pool(pool_id)
        except CognitoError as error:
            return json_error(error.code, error.message, 404, request_id)
        body = pool.key.jwks() if document.endswith("jwks.json") else discovery_document(pool)
        return json_response(200, body, request_id, media_type="application/json")
