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
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from overcast.local.auth.sigv4 import SignatureError, SigV4Verifier
from overcast.local.identity import shapes
from overcast.local.identity.errors import (
    CognitoError,
    InternalError,
    SerializationError,
    UnknownOperation,
)
from overcast.local.identity.operations import OPERATIONS, UserPools
from overcast.local.identity.pools import ActivePool, PoolDirectory
from overcast.local.wire import MAX_BODY_BYTES, BodyTooLarge, read_body, signed_request

TARGET_PREFIX = "AWSCognitoIdentityProviderService."
CONTENT_TYPE = "application/x-amz-json-1.1"
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "x-amzn-RequestId, x-amzn-ErrorType, Date",
}
_log = logging.getLogger(__name__)
# (access key id, operation, pool ARN) -> None, or raises a CognitoError.
Authorize = Callable[[str, str, str], None]


def _response(
    status: int,
    body: Any,
    request_id: str,
    *,
    media_type: str = CONTENT_TYPE,
    headers: Mapping[str, str] | None = None,
) -> Response:
    content = json.dumps(body, separators=(",", ":")).encode("utf-8")
    all_headers = {"x-amzn-RequestId": request_id, **_CORS, **(headers or {})}
    return Response(content, status, all_headers, media_type=media_type)


def _error(code: str, message: str, status: int, request_id: str) -> Response:
    body = {"__type": code, "message": message}
    return _response(status, body, request_id, headers={"x-amzn-ErrorType": f"{code}:"})


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


def _decode(body: bytes) -> Any:
    try:
        return json.loads(body) if body.strip() else {}
    except (ValueError, RecursionError):
        raise SerializationError("The request body is not valid JSON.") from None


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
            return self._preflight(request, request_id)
        if request.method == "GET":
            return self._well_known(request.url.path, request_id)
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
            _log.exception("Internal error in the user pool (request %s)", request_id)
            fault = InternalError()
            return _error(fault.code, fault.message, fault.status, request_id)

    async def _operate(self, request: Request) -> dict[str, Any]:
        target = request.headers.get("x-amz-target", "")
        operation = OPERATIONS.get(target.removeprefix(TARGET_PREFIX))
        if not target.startswith(TARGET_PREFIX) or operation is None:
            raise UnknownOperation(f"Unknown operation: {target or '(no X-Amz-Target)'}")
        body = await read_body(request)
        signed = (
            self._verifier.verify(signed_request(request.scope, body)) if operation.signed else None
        )
        parsed = shapes.parse(operation.request, _decode(body))
        if signed is not None and self._authorize is not None:
            pool = self._directory.pool(str(getattr(parsed, "UserPoolId", "")))
            name = target.removeprefix(TARGET_PREFIX)
            self._authorize(signed.credentials.access_key_id, name, pool.arn)
        result: dict[str, Any] = await asyncio.to_thread(operation.handler, self._pools, parsed)
        return result

    def _well_known(self, path: str, request_id: str) -> Response:
        pool_id, _, document = path.strip("/").partition("/")
        if document not in (".well-known/jwks.json", ".well-known/openid-configuration"):
            return _error("ResourceNotFoundException", "Not found.", 404, request_id)
        try:
            pool = self._directory.pool(pool_id)
        except CognitoError as error:
            return _error(error.code, error.message, 404, request_id)
        body = pool.key.jwks() if document.endswith("jwks.json") else discovery_document(pool)
        return _response(200, body, request_id, media_type="application/json")

    def _preflight(self, request: Request, request_id: str) -> Response:
        requested = request.headers.get("access-control-request-headers", "*")
        headers = {
            "x-amzn-RequestId": request_id,
            **_CORS,
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": requested,
            "Access-Control-Max-Age": "600",
        }
        return Response(b"", 200, headers)
