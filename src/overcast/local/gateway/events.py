"""Build the Lambda proxy integration event (REST API, format 1.0) exactly as AWS does.

Shape and rules, from the API Gateway developer guide ("Input format of a Lambda
function for proxy integration") and real captured events (``tests/events``):

- Absent maps are ``null``, never ``{}``: no query string gives
  ``queryStringParameters: null``; no path parameters, ``pathParameters: null``;
  no stage variables, ``stageVariables: null``; no body, ``body: null``.
- ``requestContext.stage`` is the stage called; ``stageVariables`` are its variables.
- ``headers`` / ``queryStringParameters`` hold one value per name (the last one
  sent); ``multiValueHeaders`` / ``multiValueQueryStringParameters`` hold them all.
  Query strings reach the function URL-decoded.
- ``path`` is the request path after the stage, as sent (still percent-encoded);
  ``requestContext.path`` keeps the stage (``/v1/todos/1``).
- API Gateway adds ``X-Forwarded-For`` (appending the caller's address),
  ``X-Forwarded-Port``, ``X-Forwarded-Proto`` and ``X-Amzn-Trace-Id`` to the headers.
- ``requestTime`` is CLF-style (``09/Apr/2015:12:34:56 +0000``), ``requestTimeEpoch``
  milliseconds; ``identity`` has every key, ``null`` unless known.
- ``requestContext.authorizer`` is ``{"claims": {...}}`` behind a Cognito authorizer
  and absent otherwise ("no authorization type is specified, so no
  ``$context.authorizer.*`` properties are present").
- The body is text as sent, or base64 with ``isBase64Encoded: true`` when its
  ``Content-Type`` is one of the API's binary media types.

Header names arrive lowercased from the HTTP server (as from any HTTP/2 client);
API Gateway would keep the client's casing. Handlers should (and Powertools does)
read headers case-insensitively.
"""

from __future__ import annotations

import base64
import functools
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from overcast import spec
from overcast.local.formats import MONTHS
from overcast.local.gateway.media import BinaryMediaTypes
from overcast.local.gateway.routes import RouteMatch

_FORWARDING = ("x-forwarded-for", "x-forwarded-port", "x-forwarded-proto", "x-amzn-trace-id")


@dataclass(slots=True)
class GatewayRequest:
    """What the gateway knows about one HTTP request once it is routed and read."""

    method: str
    path: str
    query_string: bytes
    headers: dict[str, str]
    multi_headers: dict[str, list[str]]
    body: bytes
    source_ip: str
    protocol: str
    scheme: str
    server_port: int
    request_id: str
    extended_request_id: str
    trace_id: str
    time: float


def parse_headers(
    raw: Iterable[tuple[bytes, bytes]],
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """ASGI headers as API Gateway's single-value (last wins) and multi-value maps."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for raw_name, raw_value in raw:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        single[name] = value
        values = multi.get(name)
        if values is None:
            multi[name] = [value]
        else:
            values.append(value)
    return single, multi


def parse_query(
    query_string: bytes,
) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """A query string as API Gateway's two maps, ``None`` when there is none."""
    if not query_string:
        return None, None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        single[name] = value
        multi.setdefault(name, []).append(value)
    return (single, multi) if single else (None, None)


def format_request_time(epoch: float) -> str:
    """``$context.requestTime``: ``09/Apr/2015:12:34:56 +0000`` (locale-independent)."""
    return _format_second(int(epoch))


@functools.lru_cache(maxsize=4)  # most requests share their second with the one before
def _format_second(second: int) -> str:
    t = time.gmtime(second)
    return (
        f"{t.tm_mday:02d}/{MONTHS[t.tm_mon - 1]}/{t.tm_year}:"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )


class EventBuilder:
    """Turns a routed request into the event a Lambda proxy integration of ``stage``
    (default: the API's default stage) receives."""

    def __init__(
        self, api: spec.Api, *, account_id: str, api_id: str, stage: spec.Stage | None = None
    ) -> None:
        stage = stage or api.default_stage
        self._stage = stage.name
        self._stage_prefix = f"/{stage.name}"
        self._variables = dict(stage.variables) or None
        self._account_id = account_id
        self._api_id = api_id
        self._binary = BinaryMediaTypes(api.binary_media_types)

    def build(
        self, request: GatewayRequest, match: RouteMatch, claims: Mapping[str, str] | None
    ) -> dict[str, Any]:
        """The REST proxy event (format 1.0) for ``request``."""
        headers, multi_headers = _add_forwarding(request)
        query, multi_query = parse_query(request.query_string)
        body, encoded = self._body(request)
        return {
            "resource": match.resource.path,
            "path": request.path,
            "httpMethod": request.method,
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "queryStringParameters": query,
            "multiValueQueryStringParameters": multi_query,
            "pathParameters": match.path_parameters,
            # A copy: handlers may scribble on their event.
            "stageVariables": dict(self._variables) if self._variables else None,
            "requestContext": self._context(request, match, claims),
            "body": body,
            "isBase64Encoded": encoded,
        }

    def _context(
        self, request: GatewayRequest, match: RouteMatch, claims: Mapping[str, str] | None
    ) -> dict[str, Any]:
        domain = _domain(request.headers.get("host"))
        context: dict[str, Any] = {
            "resourceId": match.resource.id,
            "resourcePath": match.resource.path,
            "httpMethod": request.method,
            "extendedRequestId": request.extended_request_id,
            "requestTime": format_request_time(request.time),
            "path": self._stage_prefix + request.path,
            "accountId": self._account_id,
            "protocol": request.protocol,
            "stage": self._stage,
            "domainPrefix": domain.partition(".")[0],
            "requestTimeEpoch": int(request.time * 1000),
            "requestId": request.request_id,
            "identity": _identity(request),
            "domainName": domain,
            "apiId": self._api_id,
        }
        if claims is not None:
            # A copy: the authorizer caches its claims, and handlers may scribble.
            context["authorizer"] = {"claims": dict(claims)}
        return context

    def _body(self, request: GatewayRequest) -> tuple[str | None, bool]:
        if not request.body:
            return None, False
        if self._binary.matches(request.headers.get("content-type")):
            return base64.b64encode(request.body).decode("ascii"), True
        return request.body.decode("utf-8", errors="replace"), False


def _domain(host: str | None) -> str:
    # API Gateway reports the host the client called, without the port.
    if not host:
        return "localhost"
    if host.startswith("["):
        return host.partition("]")[0] + "]"
    return host.partition(":")[0]


def _identity(request: GatewayRequest) -> dict[str, str | None]:
    return {
        "cognitoIdentityPoolId": None,
        "accountId": None,
        "cognitoIdentityId": None,
        "caller": None,
        "sourceIp": request.source_ip,
        "principalOrgId": None,
        "accessKey": None,
        "cognitoAuthenticationType": None,
        "cognitoAuthenticationProvider": None,
        "userArn": None,
        "userAgent": request.headers.get("user-agent"),
        "user": None,
    }


def _add_forwarding(request: GatewayRequest) -> tuple[dict[str, str], dict[str, list[str]]]:
    headers, multi = request.headers, request.multi_headers
    forwarded_for = headers.get("x-forwarded-for")
    for name in _FORWARDING:
        if name in headers:
            del headers[name], multi[name]
    source_ip = request.source_ip
    added = (
        ("X-Forwarded-For", f"{forwarded_for}, {source_ip}" if forwarded_for else source_ip),
        ("X-Forwarded-Port", str(request.server_port)),
        ("X-Forwarded-Proto", request.scheme),
        ("X-Amzn-Trace-Id", request.trace_id),
    )
    for name, value in added:
        headers[name] = value
        multi[name] = [value]
    return headers, multi
