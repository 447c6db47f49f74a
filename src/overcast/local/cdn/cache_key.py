"""The cache key of a viewer request, and what of the request reaches the origin.

What is mirrored (CloudFront developer guide, "Control the cache key with a policy"):

- The key is the path plus the query strings, headers and cookies the cache policy
  names ("all" for every query string or cookie). Header names are case-insensitive;
  query string and cookie names, and every value, are case-sensitive ("CloudFront
  considers the case of parameter names and values"). "The order of parameters matters
  in query strings": they stay in the order sent. Cookies are taken in name order.
- The path is the raw path as sent: CloudFront does not decode or re-encode it.
- "Cache compressed objects": with Gzip and/or Brotli enabled in the policy, the
  viewer's ``Accept-Encoding`` is normalised to what both sides support ("br,gzip",
  "gzip" or "br"; other values such as ``deflate`` are dropped) and that goes into the
  key; a viewer that supports neither gets no encoding in the key, and the origin gets
  ``Accept-Encoding: identity``; with no ``Accept-Encoding`` at all, the origin gets
  none. (A coding with ``q=0`` is one the viewer refuses, as RFC 9110 §12.5.3 says.)
- "The values that you include in the cache key are automatically included in requests
  that CloudFront sends to the origin": without an origin request policy the origin
  gets only those. ``forward_all_viewer`` is the managed origin request policy
  ``AllViewerExceptHostHeader``: every viewer header but ``Host``, every cookie and
  query string. Hop-by-hop headers (RFC 9110 §7.6.1) are never forwarded.
- ``Authorization`` cannot be added by an origin request policy on a behaviour that
  caches ("The header must be a part of the cache key to prevent the cache from
  satisfying unauthorized requests"); with caching disabled, ``AllViewer*`` forwards it.
  So a GET or HEAD that may be cached forwards it only when the key holds it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson

from overcast.local.cdn.model import Headers, ViewerRequest, header, header_values
from overcast.spec_cdn import Behavior, CachePolicy, Names

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"}
)
_CACHEABLE_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class CacheKey:
    """Where a request's response lives in the edge's store."""

    digest: str  # hex sha256 of the canonical key; the store's key
    path: str  # the request's raw path (invalidations match on it)
    encoding: str  # "br", "gzip" or "": the best encoding the edge may serve this viewer


def cache_key(behavior: Behavior, request: ViewerRequest) -> CacheKey:
    """The key of ``request`` under ``behavior``'s cache policy."""
    policy = behavior.cache_policy
    encoding = viewer_encoding(policy, request.headers)
    canonical = [
        request.path,
        _selected_query(policy.query_strings, request.query),
        [[name, header_values(request.headers, name)] for name in _lower(policy.headers)],
        _selected_cookies(policy.cookies, request.headers),
        encoding,
    ]
    digest = hashlib.sha256(orjson.dumps(canonical)).hexdigest()
    return CacheKey(digest, request.path, encoding)


def viewer_encoding(policy: CachePolicy, headers: Headers) -> str:
    """The cache key's encoding: "br" or "gzip" when the policy caches it and the viewer
    accepts it (Brotli first, as CloudFront prefers it), else ""."""
    accepted = accepted_encodings(headers)
    if policy.brotli and "br" in accepted:
        return "br"
    if policy.gzip and "gzip" in accepted:
        return "gzip"
    return ""


def accepted_encodings(headers: Headers) -> set[str]:
    """The content codings the viewer's ``Accept-Encoding`` accepts (q > 0)."""
    accepted: set[str] = set()
    for value in header_values(headers, "accept-encoding"):
        for item in value.split(","):
            coding, _, parameters = item.partition(";")
            if coding.strip() and not _refused(parameters):
                accepted.add(coding.strip().lower())
    return accepted


def origin_request_headers(behavior: Behavior, request: ViewerRequest) -> Headers:
    """Viewer headers the origin receives: those in the cache key, or all but Host with
    forward_all_viewer (never hop-by-hop ones); Accept-Encoding per CloudFront's rules."""
    policy = behavior.cache_policy
    if behavior.forward_all_viewer:
        forwarded = _all_viewer(policy, request)
    else:
        forwarded = _in_key(policy, request.headers)
    return [*forwarded, *_origin_accept_encoding(policy, request.headers)]


def origin_query(behavior: Behavior, request: ViewerRequest) -> str:
    """The query string the origin receives (without ``?``)."""
    if behavior.forward_all_viewer:
        return request.query
    selected = _selected_query(behavior.cache_policy.query_strings, request.query)
    return "&".join(selected)


def _all_viewer(policy: CachePolicy, request: ViewerRequest) -> Headers:
    dropped = {"host", "accept-encoding", *HOP_BY_HOP, *_connection_options(request.headers)}
    if _authorization_withheld(policy, request):
        dropped.add("authorization")
    return [
        (name, value)
        for name, value in request.headers
        if name.lower() not in dropped and not name.lower().startswith("proxy-")
    ]


def _authorization_withheld(policy: CachePolicy, request: ViewerRequest) -> bool:
    cacheable = policy.caches and request.method.upper() in _CACHEABLE_METHODS
    return cacheable and "authorization" not in _lower(policy.headers)


def _in_key(policy: CachePolicy, headers: Headers) -> Headers:
    named = set(_lower(policy.headers)) - HOP_BY_HOP - {"host", "accept-encoding"}
    forwarded = [(name, value) for name, value in headers if name.lower() in named]
    cookies = _selected_cookies(policy.cookies, headers)
    if cookies:
        forwarded.append(("Cookie", "; ".join(f"{name}={value}" for name, value in cookies)))
    return forwarded


def _origin_accept_encoding(policy: CachePolicy, headers: Headers) -> Headers:
    sent = header(headers, "accept-encoding")
    if sent is None:
        return []
    if not (policy.gzip or policy.brotli):
        # Nothing in the key says which coding a stored body has: ask for none, unless
        # nothing is stored (then the viewer's own header passes through).
        return [] if policy.caches else [("Accept-Encoding", sent)]
    accepted = accepted_encodings(headers)
    codings = [
        coding
        for coding, enabled in (("br", policy.brotli), ("gzip", policy.gzip))
        if enabled and coding in accepted
    ]
    return [("Accept-Encoding", ",".join(codings) or "identity")]


def _selected_query(names: Names, query: str) -> list[str]:
    parameters = [part for part in query.split("&") if part]
    if names == "all":
        return parameters
    wanted = set(names)
    return [part for part in parameters if part.partition("=")[0] in wanted]


def _selected_cookies(names: Names, headers: Headers) -> list[tuple[str, str]]:
    if not names:
        return []
    cookies = []
    for value in header_values(headers, "cookie"):
        for pair in value.split(";"):
            name, separator, cookie = pair.strip().partition("=")
            if separator and (names == "all" or name in names):
                cookies.append((name, cookie))
    return sorted(cookies)


def _connection_options(headers: Headers) -> set[str]:
    """Header names listed in ``Connection``: hop-by-hop too (RFC 9110 §7.6.1)."""
    return {
        option.strip().lower()
        for value in header_values(headers, "connection")
        for option in value.split(",")
    }


def _refused(parameters: str) -> bool:
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value.strip()) <= 0
            except ValueError:
                return False
    return False


def _lower(names: tuple[str, ...]) -> list[str]:
    return [name.lower() for name in names]
