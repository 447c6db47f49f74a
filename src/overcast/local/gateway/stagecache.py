"""API Gateway's stage cache (REST API caching): after the authorizer, before the function.

What is mirrored (API Gateway developer guide, "Cache settings for REST APIs"):

- "When you enable caching for a stage, only GET methods have caching enabled by
  default"; the TTL is the stage's or the method's own: "The default TTL value for
  API caching is 300 seconds. The maximum TTL value is 3600 seconds. TTL=0 means
  caching is disabled." (The declarations check these bounds.)
- The key is the method's resource and the values of its declared cache key
  parameters (``method.request.path.id``, ``.querystring.x``, ``.header.X``) and
  nothing else: requests that differ only in what is not declared share an entry.
- "The maximum size of a response that can be cached is 1048576 bytes." The cache
  holds at most its cluster size (locally at most 512 MiB); when full, the least
  recently used entries go first (API Gateway does not document its eviction order).
- The integration's response is cached whatever its status, as API Gateway does (it
  has no setting to skip errors). API Gateway's own errors (401, 502, 504, ...) never
  reach the cache: the authorizer runs first, and a failed integration raises.
- A client's ``Cache-Control: max-age=0`` fetches a fresh response and replaces the
  entry, "provided that the client is authorized to do so": with authorization
  required (the default), a caller without ``execute-api:InvalidateCache`` is
  answered by the strategy: ``FAIL_WITH_403``, ``SUCCEED_WITH_RESPONSE_HEADER`` (the
  cached answer, with a ``Warning`` header; the default) or
  ``SUCCEED_WITHOUT_RESPONSE_HEADER``. That permission comes only with IAM (SigV4)
  authorization, which no route here uses: a caller verified by a Cognito authorizer
  is *not* authorized on AWS, so locally nobody is either — a client that relied on
  ``max-age=0`` locally would silently get cached answers on AWS.
- Each response, cached or not, carries its own request ids.

Where the local cloud does better than API Gateway:

- On a route keyed by :data:`overcast.spec.CALLER` the key also holds the caller the
  authorizer verified (issuer and ``sub``), not only the token: two users never share
  an entry. (A declaration that would share one is refused at start-up.)
- A write (POST, PUT, PATCH, DELETE) drops the cached GETs its caller would be served
  (their own, and those shared by everyone) of the same resource path, of the paths
  above it and below it — ``PATCH /todos/7`` drops ``GET /todos/7`` and
  ``GET /todos?...`` — so a user always reads their own writes. API Gateway does
  not: there a client must send ``Cache-Control: max-age=0``. The stages of an API
  share its tables, so a write through any stage does this in every stage's cache
  (:meth:`StageCache.write_through`).
- A GET that missed stores its response only if no write by the same caller began or
  ended while it ran, so a response older than a write is never cached after it.
- ``X-Overcast-Cache: Hit | Miss | Refresh | Bypass`` tells what the cache did (local
  only: API Gateway sends no such header).
"""

from __future__ import annotations

import itertools
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from overcast import spec
from overcast.local.gateway.events import GatewayRequest, parse_query
from overcast.local.gateway.responses import AccessDenied, Headers, HttpResponse
from overcast.local.gateway.routes import RouteMatch

# API Gateway: "The maximum size of a response that can be cached is 1048576 bytes."
MAX_ENTRY_BYTES = 1024 * 1024
# The most memory the local cache takes, whatever the declared cluster size.
LOCAL_MAX_BYTES = 512 * 1024 * 1024
# The header API Gateway adds when it ignores an unauthorized Cache-Control: max-age=0.
UNAUTHORIZED_WARNING = (
    b"warning",
    b"199 Cache-control headers were ignored because the caller was unauthorized.",
)
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# X-Overcast-Cache, by what the cache did.
OUTCOME_HEADERS = {
    name: (b"x-overcast-cache", name.encode()) for name in ("Hit", "Miss", "Refresh", "Bypass")
}
# Writes in flight are tracked per bucket of callers: bounded, and never wrong (two
# callers in one bucket only make a fill skip its store more often).
_BUCKETS = 1024

Caller = tuple[str, str] | None
Integrate = Callable[[], Awaitable[HttpResponse]]


@dataclass(slots=True)
class RouteCounters:
    """What the cache did for one route."""

    hits: int = 0
    misses: int = 0
    evictions: int = 0
    invalidations: int = 0


@dataclass(frozen=True, slots=True)
class RoutePolicy:
    """How one route uses the cache: for how long, and keyed by what."""

    route_key: str
    ttl: float
    parameters: tuple[tuple[str, str], ...]  # (path|querystring|header, name)
    per_caller: bool

    @classmethod
    def of(cls, api: spec.Api, route: spec.Route, stage: spec.Stage | None = None) -> RoutePolicy:
        declared = route.cache.key_parameters if route.cache else ()
        parameters = []
        for parameter in declared:
            kind, _, name = parameter.removeprefix("method.request.").partition(".")
            parameters.append((kind, name.lower() if kind == "header" else name))
        return cls(
            route.key,
            float(api.cache_ttl(route, stage)),
            tuple(parameters),
            route.keys_by_caller(),
        )

    def key(self, request: GatewayRequest, match: RouteMatch, caller: Caller) -> tuple[Any, ...]:
        query = parse_query(request.query_string)[1] if self.parameters else None
        values: list[Any] = [self.route_key]
        for kind, name in self.parameters:
            if kind == "path":
                values.append((match.path_parameters or {}).get(name))
            elif kind == "header":
                values.append(request.headers.get(name))
            else:
                values.append(tuple((query or {}).get(name, ())))
        if self.per_caller:
            values.append(caller)
        return tuple(values)


@dataclass(slots=True)
class _Entry:
    status: int
    headers: Headers
    body: bytes
    expires: float
    size: int
    route_key: str
    caller: Caller
    path: tuple[str, ...]


class StageCache:
    """The cache of one of ``api``'s stages (default: its default stage), as declared.

    ``clock`` is monotonic seconds; ``max_bytes`` overrides the capacity (tests).
    """

    def __init__(
        self,
        api: spec.Api,
        stage: spec.Stage | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_bytes: int | None = None,
    ) -> None:
        settings = api.cache_for(stage)
        if settings is None:
            raise spec.DeclarationError(f"Api {api.name!r} declares no stage cache.")
        self._settings = settings
        self.clock = clock
        self.max_bytes = max_bytes or min(int(float(settings.size_gb) * 2**30), LOCAL_MAX_BYTES)
        self._policies = {
            route.key: RoutePolicy.of(api, route, stage)
            for route in api.routes
            if api.cache_ttl(route, stage)
        }
        self._entries: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()
        self._by_caller: dict[Caller, dict[tuple[Any, ...], None]] = {}
        self._bytes = 0
        self._counters = {route.key: RouteCounters() for route in api.routes}
        self._events = itertools.count(1)
        self._last_write = [0] * _BUCKETS
        self._writing = [0] * _BUCKETS

    # --- the request flow ---------------------------------------------------------

    async def serve(
        self,
        request: GatewayRequest,
        match: RouteMatch,
        claims: Mapping[str, str] | None,
        integrate: Integrate,
    ) -> tuple[HttpResponse, str]:
        """The response for ``request``, from the cache or ``integrate``; and the outcome
        (a key of :data:`OUTCOME_HEADERS`)."""
        assert match.route is not None
        caller = _caller(claims)
        policy = self._policies.get(match.route.key)
        if policy is None or request.method != "GET":
            if request.method in WRITES:
                return await self._write(request, caller, integrate), "Bypass"
            return await integrate(), "Bypass"
        key = policy.key(request, match, caller)
        refresh, warn = self._cache_control(request.headers)
        if refresh:
            self._counters[policy.route_key].misses += 1
        else:
            entry = self._lookup(key, policy.route_key)
            if entry is not None:
                response = HttpResponse(entry.status, [*entry.headers], entry.body)
                if warn:
                    response.headers.append(UNAUTHORIZED_WARNING)
                return response, "Hit"
        ticket = next(self._events)
        response = await integrate()
        self._store(key, policy, caller, _segments(request.path), response, ticket)
        if warn:  # the ignored Cache-Control is reported on a miss too
            response = HttpResponse(response.status, [*response.headers, UNAUTHORIZED_WARNING],
                                    response.body)  # fmt: skip
        return response, "Refresh" if refresh else "Miss"

    async def _write(
        self, request: GatewayRequest, caller: Caller, integrate: Integrate
    ) -> HttpResponse:
        self._write_began(caller)
        try:
            return await integrate()
        finally:
            self._write_ended(caller, request.path)

    async def write_through(
        self, request: GatewayRequest, claims: Mapping[str, str] | None, integrate: Integrate
    ) -> HttpResponse:
        """``integrate`` a write served by another stage of the API.

        The stages share the tables behind the functions, so this cache drops what the
        write makes stale and keeps no GET that ran alongside it, as for its own writes.
        """
        return await self._write(request, _caller(claims), integrate)

    def _write_began(self, caller: Caller) -> None:
        bucket = hash(caller) % _BUCKETS
        self._writing[bucket] += 1
        self._last_write[bucket] = next(self._events)

    def _write_ended(self, caller: Caller, resource_path: str) -> None:
        bucket = hash(caller) % _BUCKETS
        self._writing[bucket] -= 1
        self._last_write[bucket] = next(self._events)
        path = _segments(resource_path)
        self._drop_related(caller, path)
        if caller is not None:
            self._drop_related(None, path)  # what everyone is served, this caller too

    def _cache_control(self, headers: Mapping[str, str]) -> tuple[bool, bool]:
        """(fetch afresh?, add the unauthorized warning?) for the request's Cache-Control.

        With authorization required, no caller here holds ``execute-api:InvalidateCache``
        (an IAM permission; the local routes authorize with Cognito or not at all).
        """
        value = headers.get("cache-control")
        if value is None or not _asks_max_age_zero(value):
            return False, False
        if not self._settings.require_authorization:
            return True, False
        strategy = self._settings.unauthorized_strategy
        if strategy == "FAIL_WITH_403":
            raise AccessDenied("Cache-Control: max-age=0 from a caller who may not invalidate")
        return False, strategy == "SUCCEED_WITH_RESPONSE_HEADER"

    # --- entries ------------------------------------------------------------------

    def _lookup(self, key: tuple[Any, ...], route_key: str) -> _Entry | None:
        counters = self._counters[route_key]
        entry = self._entries.get(key)
        if entry is None or entry.expires <= self.clock():
            if entry is not None:
                self._remove(key)
            counters.misses += 1
            return None
        self._entries.move_to_end(key)
        counters.hits += 1
        return entry

    def _store(
        self,
        key: tuple[Any, ...],
        policy: RoutePolicy,
        caller: Caller,
        path: tuple[str, ...],
        response: HttpResponse,
        ticket: int,
    ) -> None:
        bucket = hash(caller) % _BUCKETS
        if self._writing[bucket] or self._last_write[bucket] > ticket:
            return  # the caller wrote meanwhile: this response may predate the write
        if key in self._entries:
            self._remove(key)  # a refresh replaces the entry, even with an uncacheable answer
        size = len(response.body) + sum(len(name) + len(value) for name, value in response.headers)
        if size > MAX_ENTRY_BYTES:
            return
        expires = self.clock() + policy.ttl
        entry = _Entry(
            response.status, [*response.headers], response.body, expires, size,
            policy.route_key, caller, path,
        )  # fmt: skip
        self._entries[key] = entry
        self._by_caller.setdefault(caller, {})[key] = None
        self._bytes += size
        self._evict_beyond_capacity()

    def _evict_beyond_capacity(self) -> None:
        while self._bytes > self.max_bytes:
            oldest = next(iter(self._entries))
            self._counters[self._entries[oldest].route_key].evictions += 1
            self._remove(oldest)

    def _drop_related(self, caller: Caller, path: tuple[str, ...]) -> None:
        """Drop the caller's entries for ``path``, the paths above it and those below it."""
        for key in list(self._by_caller.get(caller, ())):
            entry = self._entries[key]
            shorter = min(len(entry.path), len(path))
            if entry.path[:shorter] == path[:shorter]:
                self._counters[entry.route_key].invalidations += 1
                self._remove(key)

    def _remove(self, key: tuple[Any, ...]) -> None:
        entry = self._entries.pop(key)
        self._bytes -= entry.size
        keys = self._by_caller[entry.caller]
        del keys[key]
        if not keys:
            del self._by_caller[entry.caller]

    # --- operations -----------------------------------------------------------------

    def flush(self) -> int:
        """Drop every entry (API Gateway's FlushStageCache); how many there were."""
        flushed = len(self._entries)
        for entry in self._entries.values():
            self._counters[entry.route_key].invalidations += 1
        self._entries.clear()
        self._by_caller.clear()
        self._bytes = 0
        return flushed

    def stats(self) -> dict[str, Any]:
        """Entries, bytes and capacity, and each cached route's counters."""
        return {
            "entries": len(self._entries),
            "bytes": self._bytes,
            "capacity_bytes": self.max_bytes,
            "routes": {
                policy.route_key: {
                    "ttl_seconds": int(policy.ttl),
                    **_as_dict(self._counters[policy.route_key]),
                }
                for policy in self._policies.values()
            },
        }


def _caller(claims: Mapping[str, str] | None) -> Caller:
    if claims is None:
        return None
    return claims.get("iss", ""), claims.get("sub", "")


def _asks_max_age_zero(value: str) -> bool:
    return any(
        directive.strip().lower().replace(" ", "") == "max-age=0" for directive in value.split(",")
    )


def _segments(path: str) -> tuple[str, ...]:
    # Decoded, as the cache key's path parameters are: /todos/a%62c is /todos/abc.
    return tuple(unquote(part) for part in path.split("/") if part)


def _as_dict(counters: RouteCounters) -> dict[str, int]:
    return {
        "hits": counters.hits,
        "misses": counters.misses,
        "evictions": counters.evictions,
        "invalidations": counters.invalidations,
    }
