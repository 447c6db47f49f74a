"""The local API Gateway: one raw ASGI app per REST API (Lambda proxy integration).

Served at ``https://127.0.0.1:<port>/<stage>/<resource path>``, like the execute-api
endpoint; every stage of the API at once (see ``stages``). Each request goes through
the same steps as on API Gateway:

    stage prefix -> route -> body limit -> authorizer -> stage cache -> event -> invoke
    -> response

- A wrong stage, unknown path or unserved method: 403 ``Missing Authentication
  Token`` (API Gateway's answer for anything it has no method for).
- OPTIONS on a resource of an API with CORS: the preflight mock (see ``cors``).
- Bodies over 10 MB (API Gateway's payload quota, 10485760 bytes): 413, decided from
  ``Content-Length`` before reading, and while reading when it is absent or lying;
  never more than the limit is buffered.
- Routes behind a Cognito authorizer: 401 unless the ``Authorization`` token passes.
- The function must answer within the API's integration timeout (default 29 s):
  504 ``Endpoint request timed out``; a function error, timeout or malformed answer: 502.
- Every response carries ``x-amzn-RequestId``, ``x-amz-apigw-id`` and
  ``X-Amzn-Trace-Id`` (an incoming trace header is propagated, as X-Ray does).
- An API with a stage cache answers cached GETs without invoking the function (see
  ``stagecache``), and says what its cache did in ``X-Overcast-Cache`` (local only).

Per request the hot path is: one pass over the headers, a dict lookup (a literal
path's match is made once) or a short tree walk for the route, a dict lookup for a
cached token, the event as dict literals, one thread hop to run the handler, and two
coroutine frames of ours to resume when it answers.
"""

from __future__ import annotations

import functools
import logging
import os
import random
import time
from binascii import b2a_base64
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any, NamedTuple

from overcast import spec
from overcast.local.formats import uuid4_from
from overcast.local.functions.invoker import FunctionError, FunctionTimeout, Invoker
from overcast.local.gateway.accesslog import AccessRecord, format_access_line
from overcast.local.gateway.authorizer import CognitoAuthorizer
from overcast.local.gateway.cors import CorsPolicy
from overcast.local.gateway.events import (
    GatewayRequest,
    format_request_time,
    parse_headers,
)
from overcast.local.gateway.media import BinaryMediaTypes
from overcast.local.gateway.responses import (
    BadGateway,
    GatewayError,
    Headers,
    HttpResponse,
    IntegrationTimeout,
    InternalError,
    MissingAuthenticationToken,
    RequestTooLarge,
    error_response,
    proxy_response,
)
from overcast.local.gateway.routes import RouteMatch, RouteTable
from overcast.local.gateway.stagecache import OUTCOME_HEADERS, WRITES, Integrate, StageCache
from overcast.local.gateway.stages import ServedStage, StageTable

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# API Gateway quota: "Payload size" 10 MB ("HTTP content length exceeded 10485760 bytes").
PAYLOAD_LIMIT = 10 * 1024 * 1024

logger = logging.getLogger(__name__)


class ClientDisconnected(Exception):
    """The client went away before its request was read."""


class RequestIds(NamedTuple):
    """The ids API Gateway gives a request, and the response headers that carry them."""

    request_id: str
    apigw_id: str
    trace_id: str
    headers: Headers

    @classmethod
    def new(cls, epoch: float, trace_id: str | None, rng: random.Random) -> RequestIds:
        # Not os.urandom: a system call per request on the hot path. These ids need no secrecy.
        entropy = rng.getrandbits(312).to_bytes(39, "big")
        hexed = entropy.hex()
        # A version-4 UUID, as API Gateway's request ids are.
        request_id = uuid4_from(entropy)
        apigw_id = b2a_base64(entropy[16:27], newline=False).decode()  # "KdujNGuqFiAFjXA="
        if not trace_id:
            trace_id = f"Root=1-{int(epoch):08x}-{hexed[54:]}"
        headers = [
            (b"x-amzn-requestid", request_id.encode()),
            (b"x-amz-apigw-id", apigw_id.encode()),
            (b"x-amzn-trace-id", trace_id.encode("latin-1")),
        ]
        return cls(request_id, apigw_id, trace_id, headers)


class Gateway:
    """A REST API's stages, served as an ASGI app; ``access_log=None`` writes no access log.

    Each stage with a cache (its own or the API's) gets one: ``stage_caches`` by stage
    name, ``stage_cache`` the default stage's (``stage_cache=`` to inject your own).
    """

    def __init__(
        self,
        api: spec.Api,
        invoker: Invoker,
        authorizers: Mapping[str, CognitoAuthorizer],
        *,
        account_id: str = "000000000000",
        api_id: str,
        access_log: Callable[[str], None] | None,
        clock: Callable[[], float] = time.time,
        stage_cache: StageCache | None = None,
    ) -> None:
        _check_wiring(api, invoker, authorizers)
        self._stages = StageTable(
            api, account_id=account_id, api_id=api_id, stage_cache=stage_cache
        )
        self.stage_cache = self._stages.default.cache
        self.stage_caches = self._stages.caches()
        self._invoker = invoker
        self._authorizers = authorizers
        self._routes = RouteTable(api.routes, cors_preflight=api.cors is not None)
        self._cors = CorsPolicy(api.cors) if api.cors is not None else None
        self._binary = BinaryMediaTypes(api.binary_media_types)
        self._timeout = api.integration_timeout_seconds
        self._access_log = access_log
        self._clock = clock
        self._random = random.Random(os.urandom(16))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await _lifespan(receive, send)
            return
        started = self._clock()
        headers, multi_headers = parse_headers(scope["headers"])
        ids = RequestIds.new(started, headers.get("x-amzn-trace-id"), self._random)
        staged = self._stages.split(_raw_path(scope))
        match = None if staged is None else self._routes.match(scope["method"], staged[1])
        try:
            if staged is None or match is None:
                raise MissingAuthenticationToken()
            stage, path = staged
            request = _request(scope, path, headers, multi_headers, ids, started)
            response = await self._dispatch(request, match, stage, receive, ids.headers)
        except GatewayError as error:
            if error.status >= 500:
                logger.warning("%s %s: %s", scope["method"], scope["path"], error.detail)
            response = error_response(error, self._error_headers(headers, ids))
        except ClientDisconnected:
            return
        except Exception:
            logger.exception("%s %s: the local gateway failed", scope["method"], scope["path"])
            response = error_response(InternalError(), self._error_headers(headers, ids))
        await send(
            {"type": "http.response.start", "status": response.status, "headers": response.headers}
        )
        await send({"type": "http.response.body", "body": response.body})
        self._log(scope, match, ids, started, response)

    async def _dispatch(
        self,
        request: GatewayRequest,
        match: RouteMatch,
        stage: ServedStage,
        receive: Receive,
        id_headers: Headers,
    ) -> HttpResponse:
        headers = request.headers
        route = match.route
        if route is None:
            assert self._cors is not None
            return self._cors.preflight(headers.get("origin"), id_headers)
        if "content-length" in headers or "transfer-encoding" in headers:
            request.body = await read_body(receive, headers)
        claims = None
        if route.authorizer is not None:
            authorizer = self._authorizers[route.authorizer.user_pool.name]
            claims = authorizer.authorize(headers.get("authorization"))
        integrate: Integrate = functools.partial(self._integrate, request, match, claims, stage)
        if request.method in WRITES:
            integrate = self._through_other_caches(request, claims, stage, integrate)
        if stage.cache is None:
            response = await integrate()
            response.headers.extend(id_headers)
            return response
        response, outcome = await stage.cache.serve(request, match, claims, integrate)
        response.headers += (*id_headers, OUTCOME_HEADERS[outcome])
        return response

    def _through_other_caches(
        self,
        request: GatewayRequest,
        claims: Mapping[str, str] | None,
        stage: ServedStage,
        integrate: Integrate,
    ) -> Integrate:
        """``integrate``, a write, wrapped so every other stage's cache sees it too: the
        stages share the tables, and each cache promises read-your-writes."""
        for cache in self.stage_caches.values():
            if cache is not stage.cache:
                integrate = functools.partial(cache.write_through, request, claims, integrate)
        return integrate

    async def _integrate(
        self,
        request: GatewayRequest,
        match: RouteMatch,
        claims: Mapping[str, str] | None,
        stage: ServedStage,
    ) -> HttpResponse:
        """The function's answer, as an HTTP response without the per-request headers."""
        function = match.route.function if match.route else None
        assert function is not None
        accept = request.headers.get("accept")
        event = stage.events.build(request, match, claims)
        # The invoker enforces the function's timeout, and gives up waiting at the
        # integration timeout when that comes first.
        try:
            result = await self._invoker.invoke(
                function, event, give_up_after=self._timeout, qualifier=stage.qualifier
            )
        except (TimeoutError, FunctionError) as exc:
            raise self._integration_error(function, exc) from exc
        return proxy_response(result, self._binary, accept, [])

    def _integration_error(self, function: spec.Function, exc: Exception) -> GatewayError:
        # Past the integration timeout: 504. A function's own timeout expires first when
        # it is shorter (502), or together with it (504: API Gateway's clock started first).
        late = f"no answer from {function.name!r} in time"
        if isinstance(exc, TimeoutError):
            return IntegrationTimeout(late)
        if isinstance(exc, FunctionTimeout) and function.timeout_seconds >= self._timeout:
            return IntegrationTimeout(late)
        return BadGateway(f"{function.name!r}: {exc}")

    def _error_headers(self, headers: Mapping[str, str], ids: RequestIds) -> Headers:
        if self._cors is None:
            return ids.headers
        return [*self._cors.origin_headers(headers.get("origin")), *ids.headers]

    def _log(
        self,
        scope: Scope,
        match: RouteMatch | None,
        ids: RequestIds,
        started: float,
        response: HttpResponse,
    ) -> None:
        if self._access_log is None:
            return
        record = AccessRecord(
            ids.request_id,
            _client_ip(scope),
            format_request_time(started),
            scope["method"],
            match.resource.path if match else scope["path"],
            _protocol(scope),
            response.status,
            len(response.body),
            int((self._clock() - started) * 1000),
        )
        self._access_log(format_access_line(record))


async def read_body(receive: Receive, headers: Mapping[str, str]) -> bytes:
    """The request body, refused (413) beyond the payload limit without buffering more."""
    content_length = headers.get("content-length")
    if content_length is None and "transfer-encoding" not in headers:
        # HTTP/1.1 (RFC 9112, 6.3): a request with neither header has no body.
        return b""
    declared = content_length.strip() if content_length else ""
    if declared.isdigit() and int(declared) > PAYLOAD_LIMIT:
        raise RequestTooLarge(f"Content-Length {declared}")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > PAYLOAD_LIMIT:
            raise RequestTooLarge(f"body over {PAYLOAD_LIMIT} bytes")
        if not message.get("more_body", False):
            if not chunks:
                return bytes(chunk)
            chunks.append(chunk)
            return b"".join(chunks)
        chunks.append(chunk)


def _request(
    scope: Scope,
    path: str,
    headers: dict[str, str],
    multi_headers: dict[str, list[str]],
    ids: RequestIds,
    started: float,
) -> GatewayRequest:
    server = scope.get("server")
    return GatewayRequest(
        method=scope["method"],
        path=path,
        query_string=scope.get("query_string", b""),
        headers=headers,
        multi_headers=multi_headers,
        body=b"",
        source_ip=_client_ip(scope),
        protocol=_protocol(scope),
        scheme=scope.get("scheme", "https"),
        server_port=server[1] if server and server[1] else 443,
        request_id=ids.request_id,
        extended_request_id=ids.apigw_id,
        trace_id=ids.trace_id,
        time=started,
    )


def _raw_path(scope: Scope) -> str:
    raw = scope.get("raw_path")
    if not raw:
        return str(scope["path"])
    return bytes(raw).decode("latin-1").partition("?")[0]


def _client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "127.0.0.1"


def _protocol(scope: Scope) -> str:
    return f"HTTP/{scope.get('http_version', '1.1')}"


def _check_wiring(
    api: spec.Api, invoker: Invoker, authorizers: Mapping[str, CognitoAuthorizer]
) -> None:
    for route in api.routes:
        if route.function not in invoker:
            raise spec.DeclarationError(
                f"Api {api.name!r}: route {route.key!r} needs function "
                f"{route.function.name!r}, which the invoker does not run."
            )
        if route.authorizer and route.authorizer.user_pool.name not in authorizers:
            raise spec.DeclarationError(
                f"Api {api.name!r}: route {route.key!r} is authorized by user pool "
                f"{route.authorizer.user_pool.name!r}, but no authorizer was given for it."
            )


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
