"""One cache fill: how the edge gets an object from its origin into its store.

The fill asks for the whole object (no ``Range``, no viewer conditionals) and, with a
stale copy that has a validator, revalidates it (``If-None-Match`` /
``If-Modified-Since``). Then, as CloudFront does ("How CloudFront processes requests",
"How CloudFront processes HTTP 4xx and 5xx status codes from your origin"):

- a 304 refreshes the stale copy (*RefreshHit*); a 5xx or an unreachable origin
  serves it as it is. If the copy went meanwhile (an invalidation, an eviction; its
  file is deleted), it is never pointed at: after a 304 the object is fetched in full,
  and an origin error or 5xx is answered as it is;
- a response the policy may keep is streamed into the store (:class:`.BodyCopy`)
  while viewers read it; its ``Set-Cookie`` and ``Age`` are not stored
  (:func:`.origins.stored_headers`). If an invalidation covered the path after the
  fill asked the origin (its :attr:`FillState.mark`), it commits as already expired;
- a response it may not keep is handed to the viewer who started the fill, as the
  origin's open stream (:class:`.fills.FillResult`'s ``handoff``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from overcast.local.cdn.cache_key import CacheKey, origin_query, origin_request_headers
from overcast.local.cdn.compression import compressed_headers, compression_for, compressor
from overcast.local.cdn.fills import Fill, FillResult
from overcast.local.cdn.model import Headers, StreamBody, ViewerRequest, header
from overcast.local.cdn.origins import (
    OriginClient,
    OriginError,
    OriginRequest,
    OriginResponse,
    content_length,
    refreshed_headers,
    storable_headers,
    stored_headers,
)
from overcast.local.cdn.passthrough import OriginRelay
from overcast.local.cdn.stats import EdgeStats
from overcast.local.cdn.store import BodyWriter, EdgeStore, Entry
from overcast.local.cdn.ttl import cache_ttl
from overcast.spec_cdn import Behavior, Origin

# Viewer headers a fill never forwards: it fetches the whole object, unconditionally.
VIEWER_CONDITIONS = frozenset(
    {"range", "if-range", "if-none-match", "if-modified-since", "if-match", "if-unmodified-since"}
)
_STALE_IF_ERROR = frozenset({500, 502, 503, 504})


@dataclass
class FillState:
    """What the edge knows of one fill beyond the registry's view of it."""

    outcome: str = "Miss"
    mark: int = 0  # the store's invalidation mark when the fill started


class CacheFiller:
    """Runs the edge's fills against its origins and store (see the module)."""

    def __init__(
        self,
        origins: Mapping[Origin, OriginClient],
        store: EdgeStore,
        stats: EdgeStats,
        clock: Callable[[], float],
        error_ttls: Mapping[int, int],
        forwarding: Callable[[ViewerRequest], Headers],
    ) -> None:
        self._origins = origins
        self._store = store
        self._stats = stats
        self._clock = clock
        self._error_ttls = error_ttls
        self._forwarding = forwarding

    async def run(
        self,
        fill: Fill,
        state: FillState,
        request: ViewerRequest,
        behavior: Behavior,
        key: CacheKey,
        stale: Entry | None,
    ) -> None:
        client = self._origins[behavior.origin]
        self._stats.origin_requests += 1
        try:
            response = await client.fetch(self._fill_request(request, behavior, stale))
        except OriginError:
            if stale is None or not self._serve_stale(fill, state, key, stale):
                raise
            return
        if stale is not None and response.status == 304:
            await response.aclose()
            if not self._refresh(fill, state, behavior, key, stale, response.headers):
                # The copy went meanwhile (invalidated, evicted): fetch the whole object.
                await self.run(fill, state, request, behavior, key, None)
        elif (
            stale is not None
            and response.status in _STALE_IF_ERROR
            and self._serve_stale(fill, state, key, stale)
        ):
            await response.aclose()
        else:
            await self._store_response(fill, state, request, behavior, key, response)

    def _fill_request(
        self, request: ViewerRequest, behavior: Behavior, stale: Entry | None
    ) -> OriginRequest:
        headers = [
            (name, value)
            for name, value in origin_request_headers(behavior, request)
            if name.lower() not in VIEWER_CONDITIONS
        ]
        if stale is not None:
            etag, modified = header(stale.headers, "etag"), header(stale.headers, "last-modified")
            headers += [("If-None-Match", etag)] if etag else []
            headers += [("If-Modified-Since", modified)] if modified else []
        query = origin_query(behavior, request)
        return OriginRequest("GET", request.path, query, [*headers, *self._forwarding(request)])

    async def _store_response(
        self,
        fill: Fill,
        state: FillState,
        request: ViewerRequest,
        behavior: Behavior,
        key: CacheKey,
        response: OriginResponse,
    ) -> None:
        now = self._clock()
        moment = datetime.fromtimestamp(now, UTC)
        policy = behavior.cache_policy
        ttl = cache_ttl(policy, response.status, response.headers, moment, self._error_ttls)
        if ttl <= 0:
            headers = storable_headers(response.headers)
            length = content_length(response.headers)
            handoff = StreamBody(OriginRelay(response, self._stats), length)
            fill.ready(_uncached(response.status, headers, length, handoff))
            return
        headers = stored_headers(response.headers, keep_cookies=bool(policy.cookies))
        encoding = compression_for(behavior, request, response.status, response.headers)
        writer = self._store.begin(key.digest, key.path, since=state.mark)
        copy = BodyCopy(writer, fill, self._stats)
        try:
            await copy.run(response, headers, encoding)
        except BaseException:
            copy.writer.abort()
            raise
        finally:
            await response.aclose()
        # A fill an invalidation covered since it started still commits, as already
        # expired (the store sees to it): its viewers are reading its file.
        copy.writer.commit(response.status, copy.headers, now + ttl)
        fill.finish()

    def _refresh(
        self,
        fill: Fill,
        state: FillState,
        behavior: Behavior,
        key: CacheKey,
        stale: Entry,
        fresh_headers: Headers,
    ) -> bool:
        """Serve the stale copy refreshed by the origin's 304; False if it is gone."""
        if self._still_stored(key, stale) is None:
            return False
        now = self._clock()
        headers = refreshed_headers(stale.headers, fresh_headers)
        moment = datetime.fromtimestamp(now, UTC)
        ttl = cache_ttl(behavior.cache_policy, stale.status, headers, moment, self._error_ttls)
        entry = self._store.refresh(key.digest, headers, now + ttl)
        if entry is None:
            return False
        state.outcome = "RefreshHit"
        fill.ready(_result_of(entry))
        fill.finish()
        return True

    def _serve_stale(self, fill: Fill, state: FillState, key: CacheKey, stale: Entry) -> bool:
        """Serve the stale copy as it is; False if it is gone."""
        entry = self._still_stored(key, stale)
        if entry is None:
            return False
        state.outcome = "Hit"
        fill.ready(_result_of(entry))
        fill.finish()
        return True

    def _still_stored(self, key: CacheKey, stale: Entry) -> Entry | None:
        # The copy the fill began with, if an invalidation or eviction has not dropped
        # (or a newer fill replaced) it meanwhile.
        entry = self._store.lookup(key.digest)
        return entry if entry is not None and entry.body_path == stale.body_path else None


def _result_of(entry: Entry) -> FillResult:
    return FillResult(entry.status, entry.headers, entry.size, entry.body_path)


def _uncached(status: int, headers: Headers, length: int | None, handoff: StreamBody) -> FillResult:
    return FillResult(status, headers, length, None, handoff)


class BodyCopy:
    """An origin body streamed into the store, announced to the fill's viewers: at
    once when its length is known, at the end when it is not or when the edge
    compresses it (then ``headers`` are the compressed variant's)."""

    def __init__(self, writer: BodyWriter, fill: Fill, stats: EdgeStats) -> None:
        self.writer = writer
        self.headers: Headers = []
        self._fill = fill
        self._stats = stats

    async def run(self, response: OriginResponse, headers: Headers, encoding: str) -> None:
        if encoding:
            self.headers = _vary_on_encoding(compressed_headers(headers, encoding))
            squeeze = compressor(encoding)
            async for chunk in self._origin_chunks(response):
                self._write(squeeze.compress(chunk))
            self._write(squeeze.flush())
            self._ready(response.status, self.writer.written)
            return
        self.headers = headers
        length = content_length(response.headers)
        if length is not None:
            self._ready(response.status, length)
        async for chunk in self._origin_chunks(response):
            self._write(chunk)
        if length is None:
            self._ready(response.status, self.writer.written)

    async def _origin_chunks(self, response: OriginResponse) -> AsyncIterator[bytes]:
        async for chunk in response.aiter_bytes():
            self._stats.origin_bytes += len(chunk)
            yield chunk

    def _write(self, data: bytes) -> None:
        if data:
            self.writer.write(data)
            self._fill.advance(len(data))

    def _ready(self, status: int, length: int) -> None:
        self._fill.ready(FillResult(status, self.headers, length, self.writer.body_path))


def _vary_on_encoding(headers: Headers) -> Headers:
    vary = [v for n, v in headers if n.lower() == "vary"]
    tokens = [token.strip() for value in vary for token in value.split(",") if token.strip()]
    if "accept-encoding" not in {token.lower() for token in tokens}:
        tokens.append("Accept-Encoding")
    kept = [(n, v) for n, v in headers if n.lower() != "vary"]
    return [*kept, ("Vary", ", ".join(tokens))]
