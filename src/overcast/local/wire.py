"""What the local AWS endpoints (user pools, identity pools, STS) read off a request.

Each refuses a body over 1 MiB before parsing it, and verifies SigV4 over the
request exactly as sent (raw path, raw query, every header, the body bytes).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from overcast.local.auth.sigv4 import SignatureError, SignedRequest
from overcast.local.identity.errors import CognitoError, InternalError, SerializationError

_log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


class BodyTooLarge(Exception):
    """The request body is larger than :data:`MAX_BODY_BYTES`."""


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole body, or :class:`BodyTooLarge` as soon as it passes ``limit``."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def signed_request(scope: Scope, body: bytes) -> SignedRequest:
    """The request as SigV4 sees it."""
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else scope["path"]
    return SignedRequest(
        method=scope["method"],
        path=path,
        query=scope.get("query_string", b"").decode("latin-1"),
        headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
        body=body,
    )


# --- Cognito's JSON 1.1 protocol (user pools and identity pools) ----------------------

CONTENT_TYPE = "application/x-amz-json-1.1"
# Browsers call Cognito directly (Amplify): it answers CORS for any origin.
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "x-amzn-RequestId, x-amzn-ErrorType, Date",
}


def json_response(
    status: int,
    body: Any,
    request_id: str,
    *,
    media_type: str = CONTENT_TYPE,
    headers: Mapping[str, str] | None = None,
) -> Response:
    content = json.dumps(body, separators=(",", ":")).encode("utf-8")
    all_headers = {"x-amzn-RequestId": request_id, **CORS, **(headers or {})}
    return Response(content, status, all_headers, media_type=media_type)


def json_error(code: str, message: str, status: int, request_id: str) -> Response:
    body = {"__type": code, "message": message}
    return json_response(status, body, request_id, headers={"x-amzn-ErrorType": f"{code}:"})


def decode_json(body: bytes) -> Any:
    """The request's JSON (``{}`` for an empty body), or SerializationException."""
    try:
        return json.loads(body) if body.strip() else {}
    except (ValueError, RecursionError):
        raise SerializationError("The request body is not valid JSON.") from None


def preflight(request: Request, request_id: str, methods: str) -> Response:
    """The answer to a CORS preflight: the asked-for headers, ``methods``, for 10 minutes."""
    headers = {
        "x-amzn-RequestId": request_id,
        **CORS,
        "Access-Control-Allow-Methods": methods,
        "Access-Control-Allow-Headers": request.headers.get("access-control-request-headers", "*"),
        "Access-Control-Max-Age": "600",
    }
    return Response(b"", 200, headers)


async def answer(
    operate: Callable[[], Awaitable[dict[str, Any]]], request_id: str, service: str
) -> Response:
    """``operate``'s result as a 200, or its error as the JSON protocol words it; an
    unexpected failure is logged (naming ``service``) and answered InternalErrorException."""
    try:
        return json_response(200, await operate(), request_id)
    except BodyTooLarge:
        message = f"The request body is larger than {MAX_BODY_BYTES} bytes."
        return json_error("RequestEntityTooLargeException", message, 413, request_id)
    except (CognitoError, SignatureError) as error:
        return json_error(error.code, error.message, error.status, request_id)
    except Exception:
        _log.exception("Internal error in the %s (request %s)", service, request_id)
        fault = InternalError()
        return json_error(fault.code, fault.message, fault.status, request_id)
