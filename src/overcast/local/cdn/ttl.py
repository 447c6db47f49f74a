"""How long the edge may keep an origin response: CloudFront's expiration rules.

What is mirrored (CloudFront developer guide):

- "Manage how long content stays in the cache (expiration)": the origin's
  ``Cache-Control: s-maxage`` (for shared caches) wins over ``max-age``, which wins over
  ``Expires`` ("If you specify values both for Cache-Control max-age and for Expires,
  CloudFront uses only the value of Cache-Control max-age"). The value is clamped into
  ``[Minimum TTL, Maximum TTL]``; without any of them the object is kept for the
  Default TTL ("CloudFront uses this setting's value as the object's TTL only when the
  origin does not send Cache-Control or Expires headers").
- ``no-cache``, ``no-store`` and ``private`` are respected while the Minimum TTL is 0;
  above 0 "CloudFront will cache content for at least the duration specified in the
  cache policy's minimum TTL, even if the Cache-Control: no-cache, no-store, or private
  directives are present in the origin headers" (CachePolicyConfig).
- "How CloudFront processes HTTP 3xx status codes": 3xx responses are cached by the same
  rules, but "CloudFront caches 307 and 308 responses only when you include the
  Cache-Control header". A 304 only revalidates a stored entry; it is never stored.
- "How CloudFront processes HTTP 4xx and 5xx status codes": 404, 405, 414, 500, 501,
  502, 503 and 504 are always cached; 400, 403, 412 and 415 only when the origin sends
  ``max-age`` or ``s-maxage``; 416 never ("CloudFront doesn't cache status code 416
  responses"). "Control how long CloudFront caches errors": an error is kept for "the
  greater of the value in the header or the value of Error Caching Minimum TTL" (10 s
  by default, per status in the distribution's custom error responses), and "max-age
  and s-maxage values cannot be greater than the Maximum TTL"; with other directives
  (``no-store`` included) or none, for the Error Caching Minimum TTL.
- "Range GETs": a 206 from the origin is cached ("CloudFront serves the requested range
  and also caches it").

Choices where CloudFront documents nothing (said here so they can be found):

- 200, 203, 204, 206, 300-303 and 410 are the statuses cached under the policy's TTLs
  (410 because RFC 9110 makes it cacheable by default); any other status is not cached.
- A Maximum TTL of 0 (the managed ``CachingDisabled`` policy) caches nothing, errors
  included.
- Malformed values (``max-age=abc``, ``max-age=-1``, an unparsable ``Expires``) count
  as absent, and a directive given twice counts once (the first); nothing here raises.
- ``Expires`` is measured from the response's ``Date`` when it is valid (RFC 9111
  §4.2.1), else from ``now``; a date in the past means 0 before clamping.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import MappingProxyType

from overcast.local.cdn.model import Headers, header, header_values
from overcast.spec_cdn import CachePolicy

# "CloudFront caches error responses for a default duration of 10 seconds."
DEFAULT_ERROR_TTL_SECONDS = 10
# "HTTP 4xx and 5xx status codes that CloudFront always caches".
ALWAYS_CACHED_ERRORS = frozenset({404, 405, 414, 500, 501, 502, 503, 504})
# "HTTP 4xx status codes that CloudFront caches based on Cache-Control headers".
ERRORS_CACHED_WITH_MAX_AGE = frozenset({400, 403, 412, 415})
CACHED_UNDER_POLICY = frozenset({200, 203, 204, 206, 300, 301, 302, 303, 410})
# "CloudFront caches 307 and 308 responses only when you include the Cache-Control header".
CACHED_WITH_CACHE_CONTROL = frozenset({307, 308})
UNCACHEABLE_DIRECTIVES = frozenset({"no-cache", "no-store", "private"})
_NO_ERROR_TTLS: Mapping[int, int] = MappingProxyType({})
# One Cache-Control directive: a token, optionally "=" and a token or a quoted string.
_DIRECTIVE = re.compile(r'\s*([^\s,=]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,]*))?\s*(?:,|$)')


def cache_ttl(
    policy: CachePolicy,
    status: int,
    headers: Headers,
    now: datetime,
    error_ttls: Mapping[int, int] = _NO_ERROR_TTLS,
) -> float:
    """Seconds the edge may keep this origin response; 0 = do not cache."""
    if not policy.caches:
        return 0.0
    directives = cache_control(headers)
    if status in ALWAYS_CACHED_ERRORS or status in ERRORS_CACHED_WITH_MAX_AGE:
        return _error_ttl(policy, status, directives, headers, now, error_ttls)
    if status in CACHED_UNDER_POLICY or (
        status in CACHED_WITH_CACHE_CONTROL and header(headers, "cache-control") is not None
    ):
        return _object_ttl(policy, directives, headers, now)
    return 0.0


def cache_control(headers: Headers) -> dict[str, str | None]:
    """The response's Cache-Control directives (lower-case names; first one wins)."""
    directives: dict[str, str | None] = {}
    for value in header_values(headers, "cache-control"):
        for match in _DIRECTIVE.finditer(value):
            name, argument = match.group(1).lower(), match.group(2)
            if argument is not None:
                argument = argument.strip().strip('"')
            directives.setdefault(name, argument)
    return directives


def _object_ttl(
    policy: CachePolicy, directives: dict[str, str | None], headers: Headers, now: datetime
) -> float:
    if UNCACHEABLE_DIRECTIVES.intersection(directives):
        return float(policy.min_ttl_seconds)
    origin = _origin_ttl(directives, headers, now)
    if origin is None:
        return float(policy.default_ttl_seconds)
    return float(min(max(origin, policy.min_ttl_seconds), policy.max_ttl_seconds))


def _error_ttl(
    policy: CachePolicy,
    status: int,
    directives: dict[str, str | None],
    headers: Headers,
    now: datetime,
    error_ttls: Mapping[int, int],
) -> float:
    has_max_age = _seconds(directives, "s-maxage") is not None or (
        _seconds(directives, "max-age") is not None
    )
    if status in ERRORS_CACHED_WITH_MAX_AGE and not has_max_age:
        return 0.0
    minimum = float(error_ttls.get(status, DEFAULT_ERROR_TTL_SECONDS))
    origin = _origin_ttl(directives, headers, now)
    if origin is None:
        return minimum
    return max(minimum, min(origin, float(policy.max_ttl_seconds)))


def _origin_ttl(directives: dict[str, str | None], headers: Headers, now: datetime) -> float | None:
    """What the origin asks for: s-maxage, else max-age, else Expires; None if none."""
    for name in ("s-maxage", "max-age"):
        seconds = _seconds(directives, name)
        if seconds is not None:
            return float(seconds)
    expires = _http_date(header(headers, "expires"))
    if expires is None:
        return None
    base = _http_date(header(headers, "date")) or _utc(now)
    return max(0.0, (expires - base).total_seconds())


def _seconds(directives: dict[str, str | None], name: str) -> int | None:
    value = directives.get(name)
    if value is None or not value.isascii() or not value.isdigit():
        return None
    return int(value)


def _http_date(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return _utc(parsedate_to_datetime(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
