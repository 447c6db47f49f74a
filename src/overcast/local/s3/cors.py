"""CORS on the S3 endpoint: preflights, the headers of cross-origin requests, and the
PutBucketCors / GetBucketCors / DeleteBucketCors operations.

What it mirrors ("Using cross-origin resource sharing (CORS)" and "Troubleshooting CORS"
in the S3 user guide, the "OPTIONS object" reference, and S3's answers as clients
recorded them):

- S3 "uses the first CORSRule rule that matches": the request's ``Origin`` matches one
  of its ``AllowedOrigin`` (byte for byte, but for one ``*`` that stands for any run of
  characters, none included: ``http://*.example.com``, or ``*`` for every origin), its
  method (for a preflight, ``Access-Control-Request-Method``) is one of its
  ``AllowedMethod``, and, for a preflight, every name in ``Access-Control-Request-Headers``
  matches one of its ``AllowedHeader`` (without regard to case, ``*`` as for origins). A
  rule without ``AllowedHeader`` allows no requested header.
- A matching rule's answer: ``Access-Control-Allow-Origin`` is ``*`` when the rule lists
  ``*``, else the request's origin, then with ``Access-Control-Allow-Credentials: true``;
  ``Access-Control-Allow-Methods`` lists the rule's methods (``GET, PUT``);
  ``Access-Control-Allow-Headers`` the requested names, lowercase, in the order asked;
  ``Access-Control-Expose-Headers`` and ``Access-Control-Max-Age`` when the rule has
  them; and ``Vary: Origin, Access-Control-Request-Headers, Access-Control-Request-Method``.
- A preflight (``OPTIONS``) is answered without a signature. In S3's order: no
  ``Origin`` is 400 ``BadRequest`` "Insufficient information. Origin request header
  needed."; a missing bucket is 403 ``AccessForbidden`` "CORSResponse: Bucket not found";
  a bucket without a configuration 403 "CORSResponse: CORS is not enabled for this
  bucket."; no ``Access-Control-Request-Method`` 400 "Invalid Access-Control-Request-Method:
  null"; no matching rule 403 "CORSResponse: This CORS request is not allowed. ...". The
  403s name the ``Method`` asked for (``OPTIONS`` when none was) and the ``ResourceType``
  (``OBJECT`` when rules were evaluated for a key, else ``BUCKET``). A preflight does not
  look up the key, and its 200 has an empty body.
- An actual request with an ``Origin`` is served as any other (CORS does not authorize
  anything: "The ACLs and policies continue to apply"); when a rule matches, its answer
  carries the headers above (without ``Access-Control-Allow-Headers``), errors included,
  so that a page can read why its upload failed. When none matches, or the bucket has no
  configuration, the answer has no CORS header and no ``Vary``. The requested headers of
  an actual request are not checked.
- PutBucketCors needs ``Content-MD5`` or an ``x-amz-checksum-*`` header or trailer, as
  DeleteObjects: "Missing required header for this request: Content-MD5" otherwise; its
  body is at most 64 KB ("The document is limited to 64 KB in size"). DeleteBucketCors
  answers 204, a configuration or not. Both are authorized as ``s3:PutBucketCORS``,
  GetBucketCors as ``s3:GetBucketCORS`` (see :mod:`.actions`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from starlette.types import Scope

from overcast.local.s3 import xml
from overcast.local.s3.cors_config import (
    CorsConfiguration,
    CorsConfigurations,
    CorsRule,
    NoSuchCORSConfiguration,
    parse_configuration,
    render_configuration,
)
from overcast.local.s3.errors import InvalidRequest, S3Error
from overcast.local.s3.exchange import Buckets, Exchange, Handler
from overcast.local.s3.requests import S3Call, split_path
from overcast.local.s3.responses import Headers, S3Response, empty_response, xml_response
from overcast.ports.objects import ObjectStoreError

logger = logging.getLogger(__name__)

MAX_CONFIGURATION_BYTES = 64 * 1024
VARY = b"Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution "
    "of Origin, request method / Access-Control-Request-Method or "
    "Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."
)
_INTEGRITY_HEADERS = (
    "content-md5",
    "x-amz-trailer",
    *(f"x-amz-checksum-{name}" for name in ("crc32", "crc32c", "crc64nvme", "sha1", "sha256")),
)


def matches(pattern: str, value: str) -> bool:
    """``value`` is ``pattern``, where one ``*`` stands for any run of characters."""
    prefix, star, suffix = pattern.partition("*")
    if not star:
        return pattern == value
    return (
        len(value) >= len(prefix) + len(suffix)
        and value.startswith(prefix)
        and value.endswith(suffix)
    )


def requested_headers(value: str | None) -> list[str]:
    """The names of ``Access-Control-Request-Headers``, lowercase, in order."""
    if value is None:
        return []
    return [name.strip().lower() for name in value.split(",") if name.strip()]


def find_rule(
    rules: CorsConfiguration, origin: str, method: str, headers: Sequence[str] = ()
) -> CorsRule | None:
    """The first rule that allows this origin, method and every requested header."""
    for rule in rules:
        if method not in rule.allowed_methods:
            continue
        if not any(matches(allowed, origin) for allowed in rule.allowed_origins):
            continue
        allowed_headers = [allowed.lower() for allowed in rule.allowed_headers]
        if all(any(matches(allowed, name) for allowed in allowed_headers) for name in headers):
            return rule
    return None


def rule_headers(rule: CorsRule, origin: str, headers: Sequence[str] = ()) -> Headers:
    """The CORS headers of an answer that ``rule`` allowed."""
    answer: Headers = []
    if "*" in rule.allowed_origins:
        answer.append((b"access-control-allow-origin", b"*"))
    else:
        answer.append((b"access-control-allow-origin", origin.encode("latin-1")))
        answer.append((b"access-control-allow-credentials", b"true"))
    answer.append((b"access-control-allow-methods", ", ".join(rule.allowed_methods).encode()))
    if headers:
        answer.append((b"access-control-allow-headers", ", ".join(headers).encode("latin-1")))
    if rule.expose_headers:
        exposed = ", ".join(rule.expose_headers).encode("latin-1")
        answer.append((b"access-control-expose-headers", exposed))
    if rule.max_age_seconds is not None:
        answer.append((b"access-control-max-age", b"%d" % rule.max_age_seconds))
    answer.append((b"vary", VARY))
    return answer


class Cors:
    """CORS for the endpoint's buckets: their configurations' operations, preflights,
    and the headers of cross-origin answers (see the module docstring)."""

    def __init__(self, buckets: Buckets, configurations: CorsConfigurations) -> None:
        self._buckets = buckets
        self.configurations = configurations

    async def put_bucket_cors(self, exchange: Exchange) -> S3Response:
        headers = exchange.call.headers
        if not any(name in headers for name in _INTEGRITY_HEADERS):
            raise InvalidRequest("Missing required header for this request: Content-MD5")
        body = await exchange.payload.read_all(exchange.receive, MAX_CONFIGURATION_BYTES)
        rules = parse_configuration(body)
        await asyncio.to_thread(self.configurations.put, exchange.call.bucket, rules)
        return empty_response(200)

    async def get_bucket_cors(self, exchange: Exchange) -> S3Response:
        bucket = exchange.call.bucket
        rules = self.configurations.get(bucket)
        if rules is None:
            raise NoSuchCORSConfiguration(BucketName=bucket)
        return xml_response(render_configuration(rules))

    async def delete_bucket_cors(self, exchange: Exchange) -> S3Response:
        await asyncio.to_thread(self.configurations.delete, exchange.call.bucket)
        return empty_response(204)

    def forgetting(self, delete_bucket: Handler) -> Handler:
        """DeleteBucket, then its CORS configuration is gone too (a bucket created again
        under the name starts without one, as on S3)."""

        async def handler(exchange: Exchange) -> S3Response:
            response = await delete_bucket(exchange)
            await asyncio.to_thread(self.configurations.delete, exchange.call.bucket)
            return response

        return handler

    def preflight(self, call: S3Call, ids: tuple[str, str]) -> S3Response:
        """S3's answer to ``OPTIONS``, unauthenticated (see the module docstring)."""
        origin = call.headers.get("origin")
        method = call.headers.get("access-control-request-method")
        if not origin:
            return _error(
                ids, 400, "BadRequest", "Insufficient information. Origin request header needed."
            )
        asked = {"Method": method or "OPTIONS", "ResourceType": "BUCKET"}
        if not self._buckets.exists(call.bucket):
            return _error(ids, 403, "AccessForbidden", "CORSResponse: Bucket not found", asked)
        rules = self.configurations.get(call.bucket)
        if rules is None:
            message = "CORSResponse: CORS is not enabled for this bucket."
            return _error(ids, 403, "AccessForbidden", message, asked)
        if method is None:
            return _error(ids, 400, "BadRequest", "Invalid Access-Control-Request-Method: null")
        headers = requested_headers(call.headers.get("access-control-request-headers"))
        rule = find_rule(rules, origin, method, headers)
        if rule is None:
            asked["ResourceType"] = "OBJECT" if call.key else "BUCKET"
            return _error(ids, 403, "AccessForbidden", NOT_ALLOWED, asked)
        return empty_response(200, rule_headers(rule, origin, headers))

    def response_headers(self, scope: Scope) -> Headers:
        """The CORS headers of the answer to an actual (not preflight) request: none
        unless it has an ``Origin`` that a rule of its bucket allows."""
        request = _CrossOrigin.of(scope)
        if request is None:
            return []
        try:
            rules = self.configurations.get(request.bucket)
        except ObjectStoreError as exc:
            logger.warning("%s: no CORS headers: %s", request.bucket, exc)
            return []
        rule = find_rule(rules, request.origin, request.method) if rules else None
        return [] if rule is None else rule_headers(rule, request.origin)


class _CrossOrigin:
    """What an actual request tells for CORS: its bucket, origin and method."""

    def __init__(self, bucket: str, origin: str, method: str) -> None:
        self.bucket = bucket
        self.origin = origin
        self.method = method

    @classmethod
    def of(cls, scope: Scope) -> _CrossOrigin | None:
        method = str(scope["method"])
        if method == "OPTIONS":
            return None
        headers = dict(scope["headers"])
        origin = headers.get(b"origin")
        if not origin:
            return None
        raw = scope.get("raw_path") or str(scope.get("path", "/")).encode()
        try:
            bucket, _ = split_path(bytes(raw).decode("latin-1").partition("?")[0])
        except S3Error:
            return None
        # S3: the request-method header, when sent, decides the match of an actual request.
        asked = headers.get(b"access-control-request-method")
        method = asked.decode("latin-1") if asked else method
        return cls(bucket, origin.decode("latin-1"), method) if bucket else None


def _error(
    ids: tuple[str, str],
    status: int,
    code: str,
    message: str,
    details: dict[str, str] | None = None,
) -> S3Response:
    """A preflight's refusal: ``<Error>`` with ``Code``, ``Message``, ``Method``,
    ``ResourceType``, ``RequestId``, ``HostId`` in S3's order (no ``Resource``)."""
    parts = [xml.element("Code", code), xml.element("Message", message)]
    parts += [xml.element(name, value) for name, value in (details or {}).items()]
    parts += [xml.element("RequestId", ids[0]), xml.element("HostId", ids[1])]
    body = xml.document("Error", parts, namespace=False)
    return xml_response(body, status)
