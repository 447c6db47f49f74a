"""What the local AWS endpoints (user pools, identity pools, STS) read off a request.

Each refuses a body over 1 MiB before parsing it, and verifies SigV4 over the
request exactly as sent (raw path, raw query, every header, the body bytes).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import Scope

from overcast.local.auth.sigv4 import SignedRequest

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
