"""Gateway responses: API Gateway's own errors, and a function's proxy response mapped to HTTP.

Gateway errors (API Gateway's default *gateway responses*), each rendered in one place
as ``{"message": ...}`` JSON with ``x-amzn-ErrorType``::

    GatewayError
     ├── MissingAuthenticationToken  403  unknown stage, path or method
     ├── AccessDenied                403  e.g. a cache invalidation the caller may not make
     ├── Unauthorized                401  Cognito authorizer refused the token
     │    └── TokenExpired           401  "The incoming token has expired"
     ├── RequestTooLarge             413  body over API Gateway's 10 MB payload limit
     ├── ConfigurationError          500  e.g. a base64 body that does not decode
     ├── InternalError               500  a bug in the local gateway itself
     ├── BadGateway                  502  function error or malformed proxy response
     └── IntegrationTimeout          504  no answer within the integration timeout

Bodies are byte-for-byte AWS's: 4XX bodies are compact (``{"message":"Unauthorized"}``,
26 bytes), 5XX bodies have a space after the colon (``{"message": "Internal server
error"}``, 36 bytes), as captured from real API Gateway responses.

Proxy response rules (developer guide, "Output format of a Lambda function for proxy
integration", and the behaviour SAM CLI reproduces from trials against AWS):

- The result must be a JSON object whose keys are among ``statusCode``, ``headers``,
  ``multiValueHeaders``, ``body``, ``isBase64Encoded`` (REST also reads
  ``base64Encoded``; SAM also tolerates ``cookies``); any other key, or any other
  shape, is a "Malformed Lambda proxy response": 502.
- ``statusCode`` is an integer (or a string of digits); REST defaults it to 200.
- ``headers`` maps names to single values; ``multiValueHeaders`` to lists. Both are
  merged; a name/value pair present in both appears once.
- ``body`` is a string or null (a JSON object as body is a 502).
- A base64 body is decoded only for a binary ``Accept`` (see ``media``); one that
  does not decode is a 500 configuration error.
- Without ``Content-Type`` the response is ``application/json``.
- Headers that would break HTTP framing or belong to API Gateway (``Content-Length``,
  ``Connection``, ``Date``, ...) are remapped to ``x-amzn-Remapped-<name>``, as the
  guide's known-issues list says API Gateway does.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from overcast.local.gateway.media import BinaryMediaTypes

Headers = list[tuple[bytes, bytes]]

_ALLOWED_KEYS = frozenset(
    {
        "statusCode",
        "headers",
        "multiValueHeaders",
        "body",
        "isBase64Encoded",
        "base64Encoded",
        "cookies",
    }
)
# RFC 9110 field names are tokens; values may not carry CR/LF (no header injection).
_FIELD_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_REMAPPED = frozenset(
    {
        "authorization",
        "connection",
        "content-length",
        "date",
        "server",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "www-authenticate",
    }
)
_SCALARS = (str, int, float, bool)
_JSON = (b"content-type", b"application/json")


@dataclass(slots=True)
class HttpResponse:
    """A response ready for the ASGI server."""

    status: int
    headers: Headers
    body: bytes


class GatewayError(Exception):
    """An error API Gateway answers itself, without (or instead of) the function."""

    status: ClassVar[int] = 500
    message: ClassVar[str] = "Internal server error"
    error_type: ClassVar[str] = "InternalServerErrorException"
    body: ClassVar[bytes] = b""

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        separators = (",", ":") if cls.status < 500 else (", ", ": ")
        cls.body = json.dumps({"message": cls.message}, separators=separators).encode()

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.message)
        self.detail = detail or self.message


class MissingAuthenticationToken(GatewayError):
    """No such stage, resource or method (``MISSING_AUTHENTICATION_TOKEN``)."""

    status = 403
    message = "Missing Authentication Token"
    error_type = "MissingAuthenticationTokenException"


class AccessDenied(GatewayError):
    """The caller may not do this (``ACCESS_DENIED``)."""

    status = 403
    message = "User is not authorized to access this resource"
    error_type = "AccessDeniedException"


class Unauthorized(GatewayError):
    """The Cognito authorizer refused the caller (``UNAUTHORIZED``)."""

    status = 401
    message = "Unauthorized"
    error_type = "UnauthorizedException"


class TokenExpired(Unauthorized):
    """A well-signed token past its ``exp``: API Gateway names the cause."""

    message = "The incoming token has expired"


class RequestTooLarge(GatewayError):
    """A body over the payload limit (``REQUEST_TOO_LARGE``)."""

    status = 413
    message = "Request Too Long"
    # Not documented by AWS; named after the gateway response type.
    error_type = "RequestTooLargeException"


class ConfigurationError(GatewayError):
    """An API configuration error (``API_CONFIGURATION_ERROR``)."""

    status = 500


class InternalError(GatewayError):
    """A failure of the gateway itself (a bug here, not in the function)."""

    status = 500


class BadGateway(GatewayError):
    """The function failed or answered in the wrong shape."""

    status = 502


class IntegrationTimeout(GatewayError):
    """The function did not answer within the integration timeout (``INTEGRATION_TIMEOUT``)."""

    status = 504
    message = "Endpoint request timed out"


def error_response(error: GatewayError, headers: Headers) -> HttpResponse:
    """Render a gateway error; ``headers`` are the per-request ones (ids, CORS)."""
    return HttpResponse(
        error.status,
        [
            _JSON,
            (b"content-length", str(len(error.body)).encode()),
            (b"x-amzn-errortype", error.error_type.encode()),
            *headers,
        ],
        error.body,
    )


def proxy_response(
    result: Any, binary: BinaryMediaTypes, accept: str | None, headers: Headers
) -> HttpResponse:
    """Map a function's proxy response to HTTP, or raise the gateway error AWS would."""
    if not isinstance(result, dict) or not result.keys() <= _ALLOWED_KEYS:
        raise BadGateway("Malformed Lambda proxy response")
    status = _status(result.get("statusCode", 200))
    merged = _merge(result.get("headers"), result.get("multiValueHeaders"))
    body = _body(result, binary.matches_accept(accept))
    out: Headers = [] if "content-type" in merged else [_JSON]
    for name, values in merged.values():
        for value in values:
            out.append((name, _field_value(value)))
    out.append((b"content-length", str(len(body)).encode()))
    out.extend(headers)
    return HttpResponse(status, out, body)


def _status(value: Any) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
        raise BadGateway("Malformed Lambda proxy response: statusCode")
    return value


def _merge(single: Any, multi: Any) -> dict[str, tuple[bytes, list[str]]]:
    """Case-insensitive name -> (name on the wire, values): multi-values first, then singles."""
    if not isinstance(single, (dict, type(None))) or not isinstance(multi, (dict, type(None))):
        raise BadGateway("Malformed Lambda proxy response: headers")
    merged: dict[str, tuple[bytes, list[str]]] = {}
    if multi:
        for name, values in multi.items():
            if not isinstance(values, list):
                raise BadGateway("Malformed Lambda proxy response: multiValueHeaders")
            entry = _entry(merged, name)
            entry.extend(_text(value) for value in values)
    if single:
        for name, value in single.items():
            entry = _entry(merged, name)
            text = _text(value)
            if text not in entry:
                entry.append(text)
    return merged


def _entry(merged: dict[str, tuple[bytes, list[str]]], name: str) -> list[str]:
    lowered, wire_name = _header_name(name)
    entry = merged.get(lowered)
    if entry is None:
        entry = merged[lowered] = (wire_name, [])
    return entry[1]


@functools.lru_cache(maxsize=1024)  # functions send the same few names again and again
def _header_name(name: str) -> tuple[str, bytes]:
    """A function's header name: its case-insensitive key and its name on the wire."""
    if not _FIELD_NAME.fullmatch(name):
        raise BadGateway("Malformed Lambda proxy response: header name")
    lowered = name.lower()
    if lowered in _REMAPPED:
        name = f"x-amzn-Remapped-{name}"
    return lowered, name.encode("ascii")


def _field_value(value: str) -> bytes:
    if "\r" in value or "\n" in value:
        raise BadGateway("Malformed Lambda proxy response: header value")
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError as exc:
        raise BadGateway("Malformed Lambda proxy response: header value") from exc


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, _SCALARS):
        raise BadGateway("Malformed Lambda proxy response: header value")
    return str(value)


def _body(result: Mapping[str, Any], binary_accepted: bool) -> bytes:
    encoded = _base64_flag(result)
    body = result.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise BadGateway("Malformed Lambda proxy response: body")
    if encoded and binary_accepted:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ConfigurationError("Base64 decoding failed on binary data") from exc
    return body.encode("utf-8")


def _base64_flag(result: Mapping[str, Any]) -> bool:
    flag = result.get("base64Encoded", result.get("isBase64Encoded", False))
    if isinstance(flag, str) and flag.lower() in ("true", "false"):
        return flag.lower() == "true"
    if flag is None:
        return False
    if not isinstance(flag, bool):
        raise BadGateway("Malformed Lambda proxy response: isBase64Encoded")
    return flag
