"""The edge: how one viewer request to a distribution is answered.

What is mirrored from CloudFront ("How CloudFront processes requests", "Request and
response behavior", "Simultaneous requests for the same object (request collapsing)",
"How CloudFront processes HTTP 4xx and 5xx status codes from your origin"):

- The path is normalised first (dot segments removed, :func:`.paths.normalized_path`):
  behaviours match, keys are built and origins are asked on that path only; a path
  whose decoded form still climbs (``/..%2Fx``) is refused with 400.
- The behaviour is the first whose path pattern matches (the default last); a request
  for ``/`` asks for the default root object. A method the behaviour does not allow is
  403 from the edge ("GET, HEAD" / "GET, HEAD, OPTIONS" / all methods).
- "CloudFront always caches responses to GET and HEAD requests": those, under a policy
  that caches, are looked up by their cache key. A fresh entry is a *Hit* with ``Age``.
  A stale entry with a validator is revalidated with a conditional origin request; the
  origin's 304 refreshes it (*RefreshHit*). A stale entry whose origin is unreachable or
  answers 5xx is served as it is ("CloudFront continues to serve cached content"). A
  stale copy deleted meanwhile (invalidated, evicted) is never pointed at: after a 304
  the object is fetched in full; on an origin error the error is answered.
- Request collapsing: concurrent requests for one key share one origin fetch (a fill,
  :mod:`.fills`), however slow; the fill runs on when the viewer who started it leaves.
  The fill asks for the whole object (no ``Range``, no viewer conditionals) and viewers,
  ranges included, are served from its body file as the bytes arrive ("CloudFront
  begins to serve the requested range or object ... as soon as the first byte arrives").
- The edge compresses what :func:`.compression.compression_for` allows, storing the
  compressed variant (``Content-Encoding``, ``Vary: Accept-Encoding``, the ``ETag``
  made weak, as CloudFront does when it compresses).
- Other methods and policies pass through: the origin gets what the origin request
  rules allow (:func:`.cache_key.origin_request_headers`) and the body, streamed back.
- The edge's own errors: origin unreachable 502, too slow 504, with CloudFront's error
  page and ``X-Cache: Error``. A custom error response with a page path answers an
  error status with that page, fetched through the edge itself (and cached like any
  object), under the response code it names.
- Response headers: the origin's less hop-by-hop ones, ``X-Cache: <outcome> from
  overcast`` (CloudFront says "from cloudfront"), ``Via``, ``X-Amz-Cf-Pop``,
  ``X-Amz-Cf-Id``, and ``Age`` on hits.

- An invalidation takes effect on fills already asking the origin: a fill records the
  store's invalidation mark when it starts and commits as already expired if an
  invalidation since then covers its path.
- The origin's ``Set-Cookie`` is not stored unless cookies are in the cache key ("Cache
  content based on cookies": with cookies not forwarded, CloudFront does not cache
  ``Set-Cookie``), so one viewer's cookie is never replayed to another; nor is its
  ``Age`` (the edge says its own on hits).

Choices where CloudFront documents nothing: viewers who join a fill in progress count
as hits (they cost the origin nothing); a HEAD miss fills with a GET; the edge's own
502/504 pages are not cached.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from overcast.local.cdn.cache_fill import VIEWER_CONDITIONS, CacheFiller, FillState
from overcast.local.cdn.cache_key import CacheKey, cache_key, origin_query, origin_request_headers
from overcast.local.cdn.fills import Fill, FillRegistry, close_stream
from overcast.local.cdn.model import EdgeResponse, Headers, StreamBody, ViewerRequest, header
from overcast.local.cdn.origins import (
    OriginClient,
    OriginError,
    OriginRequest,
    storable_headers,
)
from overcast.local.cdn.passthrough import nothing, relayed_body
from overcast.local.cdn.paths import (
    UnsafePath,
    behavior_for,
    check_invalidation_path,
    normalized_path,
)
from overcast.local.cdn.stats import EdgeStats
from overcast.local.cdn.store import EdgeStore, Entry
from overcast.local.cdn.viewer import Stored, edge_error, edge_headers, request_id, respond
from overcast.spec_cdn import Behavior, Distribution, ErrorResponse, Origin

_ALLOWED = {
    "GET_HEAD": frozenset({"GET", "HEAD"}),
    "GET_HEAD_OPTIONS": frozenset({"GET", "HEAD", "OPTIONS"}),
    "ALL": frozenset({"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"}),
}


class Edge:
    """One distribution's edge: a :class:`~overcast.local.cdn.model.Handler`."""

    def __init__(
        self,
        distribution: Distribution,
        origins: Mapping[Origin, OriginClient],
        store: EdgeStore,
        *,
        distribution_id: str,
        clock: Callable[[], float] = time.time,
        fills: FillRegistry | None = None,
    ) -> None:
        self.stats = EdgeStats()
        self._distribution = distribution
        self._origins = origins
        self._store = store
        self._via = f"1.1 {distribution_id.lower()}.cloudfront.local (Overcast)"
        self._clock = clock
        self._fills = fills if fills is not None else FillRegistry()
        self._active: dict[str, FillState] = {}
        self._epoch = 0  # bumped by invalidations: later requests never join older fills
        self._error_ttls = {r.status: r.ttl_seconds for r in distribution.error_responses}
        self._error_pages = {r.status: r for r in distribution.error_responses if r.page_path}
        self._filler = CacheFiller(
            origins, store, self.stats, clock, self._error_ttls, self._forwarding
        )

    async def __call__(self, request: ViewerRequest) -> EdgeResponse:
        self.stats.requests += 1
        response = await self._answer(request)
        rule = self._error_pages.get(response.status)
        if rule is not None and request.path != rule.page_path:
            return await self._error_page(request, response, rule)
        return response

    def invalidate(self, paths: Sequence[str]) -> int:
        """Remove the objects ``paths`` name; every path is checked before any is
        applied. Fills in flight for those paths are not stored. Returns entries removed."""
        checked = [check_invalidation_path(path) for path in paths]
        removed = sum(self._store.invalidate(path) for path in checked)
        self._epoch += 1
        self.stats.invalidations += len(checked)
        return removed

    async def close(self) -> None:
        """Cancel fills in flight, close the origin clients and the store."""
        await self._fills.close()
        for client in self._origins.values():
            close = getattr(client, "aclose", None)
            if close is not None:
                await close()
        self._store.close()

    # --- routing ----------------------------------------------------------------

    async def _answer(self, request: ViewerRequest) -> EdgeResponse:
        try:
            request = replace(request, path=normalized_path(request.path))
        except UnsafePath:
            return self._edge_error(400)
        if request.path == "/" and self._distribution.default_root_object:
            request = replace(request, path="/" + self._distribution.default_root_object)
        behavior = behavior_for(self._distribution, request.path)
        if request.method not in _ALLOWED[behavior.allowed_methods]:
            return self._edge_error(403)
        if request.method in ("GET", "HEAD") and behavior.cache_policy.caches:
            return await self._cached(request, behavior)
        self.stats.passes += 1
        return await self._pass(request, behavior)

    async def _cached(self, request: ViewerRequest, behavior: Behavior) -> EdgeResponse:
        key = cache_key(behavior, request)
        entry = self._store.lookup(key.digest)
        now = self._clock()
        if entry is not None and entry.fresh(now):
            self.stats.hits += 1
            return self._from_entry(request, entry, "Hit", entry.age(now))
        stale = entry if entry is not None and _validators(entry.headers) else None
        return await self._through_fill(request, behavior, key, stale)

    async def _through_fill(
        self, request: ViewerRequest, behavior: Behavior, key: CacheKey, stale: Entry | None
    ) -> EdgeResponse:
        name = f"{key.digest}@{self._epoch}"
        state = FillState(mark=self._store.invalidation_mark())

        async def start(fill: Fill) -> None:
            try:
                await self._filler.run(fill, state, request, behavior, key, stale)
            finally:
                if self._active.get(name) is state:
                    del self._active[name]

        fill, started = self._fills.join_or_start(name, start)
        if started:
            self._active[name] = state
        shared = state if started else self._active.get(name, FillState("Hit"))
        try:
            result = await fill.wait_ready()
        except OriginError as error:
            return self._edge_error(error.status)
        except asyncio.CancelledError:  # the viewer left: nobody will take the stream
            if started:
                fill.abandon_handoff()
            raise
        if result.body_path is None:
            handoff = fill.claim_handoff() if started else None
            if handoff is not None:
                self.stats.misses += 1
                if request.method == "HEAD":  # nobody will read the origin's stream
                    await close_stream(handoff)
                    handoff = StreamBody(nothing(), handoff.length)
                return EdgeResponse(result.status, self._headers(result.headers, "Miss"), handoff)
            self.stats.passes += 1
            return await self._pass(request, behavior)
        outcome = shared.outcome if started or shared.outcome == "RefreshHit" else "Hit"
        self._count(outcome)
        assert result.length is not None
        stored = Stored(
            result.status,
            result.headers,
            result.body_path,
            result.length,
            None if fill.complete else fill,
        )
        return self._viewer_response(request, stored, self._headers([], outcome))

    # --- pass-through ---------------------------------------------------------------

    async def _pass(self, request: ViewerRequest, behavior: Behavior) -> EdgeResponse:
        headers = [*origin_request_headers(behavior, request), *self._forwarding(request)]
        query = origin_query(behavior, request)
        outgoing = OriginRequest(request.method, request.path, query, headers, request.body)
        self.stats.origin_requests += 1
        try:
            response = await self._origins[behavior.origin].fetch(outgoing)
        except OriginError as error:
            return self._edge_error(error.status)
        returned = self._headers(storable_headers(response.headers), "Miss")
        body = await relayed_body(response, request.method, self.stats)
        return EdgeResponse(response.status, returned, body)

    # --- responses ------------------------------------------------------------------

    def _from_entry(
        self, request: ViewerRequest, entry: Entry, outcome: str, age: int | None = None
    ) -> EdgeResponse:
        stored = Stored(entry.status, entry.headers, entry.body_path, entry.size)
        return self._viewer_response(request, stored, self._headers([], outcome, age))

    def _viewer_response(
        self, request: ViewerRequest, stored: Stored, edge_headers: Headers
    ) -> EdgeResponse:
        response = respond(request, stored, edge_headers)
        if request.method == "GET" and response.status in (200, 206):
            self.stats.edge_bytes += _body_length(response)
        return response

    async def _error_page(
        self, request: ViewerRequest, response: EdgeResponse, rule: ErrorResponse
    ) -> EdgeResponse:
        assert rule.page_path is not None
        kept = [(n, v) for n, v in request.headers if n.lower() not in VIEWER_CONDITIONS]
        method = "HEAD" if request.method == "HEAD" else "GET"
        page_request = replace(
            request, method=method, path=rule.page_path, query="", headers=kept, body=b""
        )
        page = await self._answer(page_request)
        if page.status != 200:
            await _discard(page)
            return response
        await _discard(response)
        page.status = rule.response_status or response.status
        page.headers = [
            (n, "Error from overcast" if n.lower() == "x-cache" else v) for n, v in page.headers
        ]
        return page

    def _edge_error(self, status: int) -> EdgeResponse:
        self.stats.errors += 1
        return edge_error(status, self._via)

    def _headers(self, headers: Headers, outcome: str, age: int | None = None) -> Headers:
        return [*headers, *edge_headers(outcome, self._via, age)]

    def _forwarding(self, request: ViewerRequest) -> Headers:
        # CloudFront adds these to every origin request ("Request and response behavior
        # for custom origins": X-Forwarded-For with the viewer's address, Via).
        return [
            ("X-Forwarded-For", request.client_ip),
            ("Via", self._via),
            ("X-Amz-Cf-Id", request_id()),
        ]

    def _count(self, outcome: str) -> None:
        if outcome == "Miss":
            self.stats.misses += 1
        elif outcome == "RefreshHit":
            self.stats.refresh_hits += 1
        else:
            self.stats.hits += 1


def _validators(headers: Headers) -> bool:
    return header(headers, "etag") is not None or header(headers, "last-modified") is not None


def _body_length(response: EdgeResponse) -> int:
    body = response.body
    if isinstance(body, bytes):
        return len(body)
    if isinstance(body, StreamBody):
        return body.length or 0
    return body.length


async def _discard(response: EdgeResponse) -> None:
    if isinstance(response.body, StreamBody):
        await close_stream(response.body)
