"""CORS as a REST API declares it: the OPTIONS mock and CORS on gateway errors.

The preflight mirrors the OPTIONS method with a MOCK integration that CDK's
``defaultCorsPreflightOptions`` (``Resource.addCorsPreflight``) puts on every
resource: API Gateway answers it, without the function and without an authorizer:

- status 204, no body;
- ``Access-Control-Allow-Headers``: the allowed headers joined with ``,``;
- ``Access-Control-Allow-Origin``: the first allowed origin, or the request's
  ``Origin`` when it is one of the others (CDK's response template); ``Vary: Origin``
  whenever the origin is not ``*``;
- ``Access-Control-Allow-Methods`` (``ANY`` means all methods),
  ``Access-Control-Allow-Credentials: true`` when allowed, ``Access-Control-Max-Age``
  when set, ``Access-Control-Expose-Headers`` when any.

API Gateway's own error responses (403, 401, 413, 5XX) carry
``Access-Control-Allow-Origin`` too, as they do once the API's gateway responses are
configured with it; otherwise a browser would hide the error from the page.
Responses from the function are the function's business (Powertools ``CORSConfig``).
"""

from __future__ import annotations

from overcast import spec
from overcast.local.gateway.responses import Headers, HttpResponse

# CDK's Cors.ALL_METHODS.
_ALL_METHODS = ("OPTIONS", "GET", "PUT", "POST", "DELETE", "PATCH", "HEAD")


class CorsPolicy:
    """An API's declared CORS, rendered once into response headers."""

    def __init__(self, cors: spec.Cors) -> None:
        self._first = cors.allow_origins[0]
        self._others = frozenset(cors.allow_origins[1:])
        methods = _ALL_METHODS if "ANY" in cors.allow_methods else cors.allow_methods
        preflight = [
            (b"access-control-allow-headers", ",".join(cors.allow_headers).encode()),
            (b"access-control-allow-methods", ",".join(methods).encode()),
        ]
        if cors.allow_credentials:
            preflight.append((b"access-control-allow-credentials", b"true"))
        if cors.max_age_seconds:
            preflight.append((b"access-control-max-age", str(cors.max_age_seconds).encode()))
        if cors.expose_headers:
            preflight.append(
                (b"access-control-expose-headers", ",".join(cors.expose_headers).encode())
            )
        self._preflight = preflight

    def origin_headers(self, origin: str | None) -> Headers:
        """``Access-Control-Allow-Origin`` (and ``Vary``) for a request from ``origin``."""
        if self._first == "*":
            return [(b"access-control-allow-origin", b"*")]
        allowed = origin if origin in self._others else self._first
        return [(b"access-control-allow-origin", allowed.encode("latin-1")), (b"vary", b"Origin")]

    def preflight(self, origin: str | None, headers: Headers) -> HttpResponse:
        """The OPTIONS mock's answer; ``headers`` are the per-request ones (ids)."""
        return HttpResponse(
            204,
            [
                (b"content-type", b"application/json"),
                *self._preflight,
                *self.origin_headers(origin),
                *headers,
            ],
            b"",
        )
