"""The edge's origin clients: how a request leaves the edge for a bucket, an API or an app.

One :class:`OriginClient` per origin, each with one shared ``httpx.AsyncClient`` (HTTP/1.1,
a keep-alive pool) so that many fills reuse connections. Bodies stream: the client
reads the origin's bytes raw (``aiter_raw``: no decompression; an encoded body is
stored and served as the origin encoded it), so a 100 MiB object never sits in memory.

What is mirrored from CloudFront ("Request and response behavior for custom origins",
"... for Amazon S3 origins"):

- The path goes out exactly as the edge normalised it (:func:`.paths.normalized_path`),
  appended to the origin's base: httpx is given the raw target, so it rewrites nothing,
  and a path with a dot segment is refused here too, so a request never leaves its
  base (a bucket, an API stage), whatever called the client.
- ``Host`` is the origin's own (CloudFront's default origin request policies do not
  forward the viewer's ``Host``).
- The connection timeout is 10 s (CloudFront's default "connection timeout"); the
  response timeout (first byte, and between bytes) is the origin's, 30 s by default.
  Either expiring is :class:`OriginTimeout` (the edge answers 504); a refused or
  broken connection is :class:`OriginUnreachable` (502).
- An S3 origin with origin access control gets path-style ``GET /<bucket>/<key>``
  signed with SigV4 (:mod:`.signing`) as the CloudFront service principal, naming the
  distribution in :data:`~overcast.local.cdn.model.SOURCE_ARN_HEADER`. S3 answers 403,
  not 404, for a missing key when the caller may not ``s3:ListBucket``: the status is
  passed through (a custom error response may map it).

Exceptions::

    OriginError                 the origin did not give a usable response
      +-- OriginUnreachable     502: connection refused, reset, malformed response
      +-- OriginTimeout         504: no connection, first byte or next byte in time
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar, Protocol

import httpx

from overcast.local.auth.sigv4 import Credentials
from overcast.local.cdn.http_wire import decimal
from overcast.local.cdn.model import SOURCE_ARN_HEADER, Headers
from overcast.local.cdn.paths import normalized_path
from overcast.local.cdn.signing import sign_headers

# CloudFront's default origin connection timeout ("Connection timeout": 10 s).
CONNECT_TIMEOUT_SECONDS = 10.0
POOL_SIZE = 100
KEEPALIVE_POOL_SIZE = 32
# RFC 9110 section 7.6.1: connection-specific fields a proxy never forwards.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


class OriginError(Exception):
    """The origin gave no usable response; ``status`` is what the edge answers."""

    status: ClassVar[int] = 502


class OriginUnreachable(OriginError):
    status = 502


class OriginTimeout(OriginError):
    status = 504


@dataclass(frozen=True)
class OriginRequest:
    """A request the edge sends to an origin; ``path``/``query`` raw (percent-encoded)."""

    method: str
    path: str
    query: str
    headers: Headers
    body: bytes = b""


class OriginResponse(Protocol):
    """An origin's answer whose body has not been read yet."""

    status: int
    headers: Headers

    def aiter_bytes(self) -> AsyncIterator[bytes]: ...

    async def aclose(self) -> None: ...


class OriginClient(Protocol):
    """Sends requests to one origin."""

    async def fetch(self, request: OriginRequest) -> OriginResponse: ...


def without_hop_by_hop(headers: Headers) -> Headers:
    """``headers`` less the connection-specific ones (and those ``Connection`` names)."""
    named = {
        token.strip().lower()
        for name, value in headers
        if name.lower() == "connection"
        for token in value.split(",")
    }
    return [(n, v) for n, v in headers if n.lower() not in HOP_BY_HOP and n.lower() not in named]


@contextmanager
def _mapped_errors() -> Iterator[None]:
    try:
        yield
    except httpx.TimeoutException as error:
        raise OriginTimeout(f"The origin did not answer in time: {error!r}") from error
    except httpx.TransportError as error:
        raise OriginUnreachable(f"The origin could not be reached: {error!r}") from error


class _StreamedResponse:
    """An ``httpx.Response`` opened with ``stream=True``, read raw."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status = response.status_code
        self.headers: Headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in response.headers.raw
        ]

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        # The raw stream, not aiter_raw(): that closes the response itself at the end, in
        # the reader's task, where a cancellation (a viewer gone) cuts the close short
        # after httpx marked it closed, leaving its pooled connection checked out.
        stream = self._response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        with _mapped_errors():
            async for chunk in stream:
                yield chunk

    async def aclose(self) -> None:
        """Close the response, to the end even if the caller is cancelled meanwhile."""
        closing = asyncio.ensure_future(self._response.aclose())
        try:
            await asyncio.shield(closing)
        except asyncio.CancelledError:
            closing.add_done_callback(_retrieve)
            raise


def _retrieve(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()


def _verify(ca_bundle: str | None) -> ssl.SSLContext | bool:
    return ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True


def _client(
    ca_bundle: str | None, response_timeout_seconds: float, pool_size: int = POOL_SIZE
) -> httpx.AsyncClient:
    timeout = httpx.Timeout(
        connect=CONNECT_TIMEOUT_SECONDS,
        read=response_timeout_seconds,
        write=response_timeout_seconds,
        pool=response_timeout_seconds,
    )
    keepalive = min(pool_size, KEEPALIVE_POOL_SIZE)
    limits = httpx.Limits(max_connections=pool_size, max_keepalive_connections=keepalive)
    return httpx.AsyncClient(
        verify=_verify(ca_bundle), timeout=timeout, limits=limits, http1=True, http2=False
    )


class HttpOriginClient:
    """A custom origin (an app, or the service's API): ``base_url`` may carry a path
    (``https://127.0.0.1:4567/v1``), prefixed to every request's path."""

    def __init__(
        self,
        base_url: str,
        *,
        ca_bundle: str | None = None,
        response_timeout_seconds: float = 30,
        pool_size: int = POOL_SIZE,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._client = _client(ca_bundle, response_timeout_seconds, pool_size)

    async def fetch(self, request: OriginRequest) -> OriginResponse:
        """Send ``request`` and return once the origin's status and headers arrived."""
        outgoing = httpx.Request(
            request.method,
            _target(self._base, request),
            headers=_forwardable(request.headers),
            content=request.body or None,
        )
        return await _send(self._client, outgoing)

    async def aclose(self) -> None:
        await self._client.aclose()


class BucketOriginClient:
    """A bucket read through origin access control: signed path-style S3 requests."""

    def __init__(
        self,
        endpoint_url: str,
        bucket: str,
        credentials: Credentials,
        *,
        distribution_arn: str,
        region: str,
        ca_bundle: str | None = None,
        response_timeout_seconds: float = 30,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._base = endpoint_url.rstrip("/") + "/" + bucket
        self._credentials = credentials
        self._distribution_arn = distribution_arn
        self._region = region
        self._clock = clock
        self._client = _client(ca_bundle, response_timeout_seconds)

    async def fetch(self, request: OriginRequest) -> OriginResponse:
        """Send ``request`` for ``/<bucket><path>``, signed as CloudFront's principal."""
        headers = [*_to_bucket(request.headers), (SOURCE_ARN_HEADER, self._distribution_arn)]
        outgoing = httpx.Request(
            request.method,
            _target(self._base, request),
            headers=headers,
            content=request.body or None,
        )
        self._sign(outgoing, request.body)
        return await _send(self._client, outgoing)

    def _sign(self, outgoing: httpx.Request, body: bytes) -> None:
        # Sign what goes on the wire: httpx's own encoding of the target and its Host.
        raw_path, _, raw_query = outgoing.url.raw_path.decode("ascii").partition("?")
        present = [(name, value) for name, value in outgoing.headers.multi_items()]
        signature = sign_headers(
            outgoing.method,
            raw_path,
            raw_query,
            present,
            self._credentials,
            region=self._region,
            now=self._clock(),
            body=body or None,
            also_sign=(SOURCE_ARN_HEADER,),
        )
        for name, value in signature:
            outgoing.headers[name] = value

    async def aclose(self) -> None:
        await self._client.aclose()


# RFC 3986 section 3.3: what a path (and a query) may hold as it is; the rest is
# percent-encoded, byte by byte.
_UNSAFE = re.compile(r"[^A-Za-z0-9\-._~!$&'()*+,;=:@/%?]")


def _target(base: str, request: OriginRequest) -> httpx.URL:
    """``base`` with ``request``'s path appended and its query, exactly as given."""
    if normalized_path(request.path) != request.path:
        raise ValueError(f"{request.path!r} has a dot segment: origins get normalised paths")
    url = httpx.URL(base)
    raw = url.raw_path.rstrip(b"/").decode("ascii") + request.path
    raw += f"?{request.query}" if request.query else ""
    return url.copy_with(raw_path=_UNSAFE.sub(_escape, raw).encode("ascii"))


def _escape(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match.group().encode("latin-1", "replace"))


def _forwardable(headers: Headers) -> Headers:
    return [
        (n, v)
        for n, v in without_hop_by_hop(headers)
        if n.lower() not in ("host", "content-length")
    ]


def _to_bucket(headers: Headers) -> Headers:
    """Viewer headers a signed bucket request may carry: never the viewer's own
    credentials or signature parts (``Authorization``, ``x-amz-*``) nor a SourceArn of
    their choosing — the edge's signature and distribution are the only ones S3 sees."""
    return [
        (n, v)
        for n, v in _forwardable(headers)
        if n.lower() not in ("authorization", SOURCE_ARN_HEADER)
        and not n.lower().startswith("x-amz-")
    ]


async def _send(client: httpx.AsyncClient, outgoing: httpx.Request) -> OriginResponse:
    with _mapped_errors():
        response = await client.send(outgoing, stream=True)
    return _StreamedResponse(response)


# --- what of an origin's response the edge keeps ---------------------------------------

# The server writes its own framing and date; a 304's update never replaces what
# describes the stored body (RFC 9111 section 4.3.4 excludes Content-Length; the
# encoding, its Vary and its ETag are the edge's when it compressed the body).
_NOT_STORED = frozenset({"content-length", "date"})
# Kept by the edge no longer than it keeps the object: its own Age says how old the copy
# is; another viewer's cookie is never replayed (see stored_headers).
_NOT_KEPT = frozenset({"age", "set-cookie"})
_BODY_DESCRIPTION = frozenset({"content-length", "content-encoding", "vary", "etag", "date"})


def storable_headers(headers: Headers) -> Headers:
    """The origin's headers as the edge keeps and returns them (no framing, no date)."""
    return [(n, v) for n, v in without_hop_by_hop(headers) if n.lower() not in _NOT_STORED]


def stored_headers(headers: Headers, *, keep_cookies: bool) -> Headers:
    """The origin's headers as the edge stores them: :func:`storable_headers` less the
    origin's ``Age``, and less ``Set-Cookie`` unless cookies are in the cache key (then
    each stored variant is one cookie's). CloudFront, "Cache content based on cookies":
    with cookies not forwarded it does not cache ``Set-Cookie``; with them forwarded
    it "caches the response and all cookies and cookie attributes"."""
    dropped = {"age"} if keep_cookies else _NOT_KEPT
    return [(n, v) for n, v in storable_headers(headers) if n.lower() not in dropped]


def refreshed_headers(stored: Headers, fresh: Headers) -> Headers:
    """A stored entry's headers updated by an origin's 304 (RFC 9111 section 4.3.4:
    each header the 304 carries replaces the stored one of that name)."""
    updates = [(n, v) for n, v in without_hop_by_hop(fresh) if n.lower() not in _BODY_DESCRIPTION]
    replaced = {name.lower() for name, _ in updates}
    return [*((n, v) for n, v in stored if n.lower() not in replaced), *updates]


def content_length(headers: Headers) -> int | None:
    """The ``Content-Length`` an origin sent, if it is a number."""
    value = next((v for n, v in headers if n.lower() == "content-length"), None)
    return None if value is None else decimal(value)
