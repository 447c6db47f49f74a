"""In-memory fakes for the edge's tests (no tests here): an origin whose answers,
delays and failures the test chooses, a settable clock, a body reader, and a run of
requests as the clock moves on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from overcast.local.cdn.edge import Edge
from overcast.local.cdn.model import EdgeResponse, FileBody, Headers, StreamBody, ViewerRequest
from overcast.local.cdn.origins import OriginError, OriginRequest
from overcast.local.cdn.store import EdgeStore
from overcast.spec_cdn import Behavior, CachePolicy, Distribution, ErrorResponse, HttpOrigin

ORIGIN = HttpOrigin("app", url="http://origin.test")
START = 1_700_000_000.0


@dataclass
class Reply:
    """What the fake origin answers."""

    body: bytes = b""
    status: int = 200
    headers: Headers = field(default_factory=list)
    chunk_size: int = 16 * 1024
    with_length: bool = True

    def all_headers(self) -> Headers:
        length = [("Content-Length", str(len(self.body)))] if self.with_length else []
        return [*self.headers, *length]


class FakeResponse:
    def __init__(self, reply: Reply, gate: asyncio.Event | None) -> None:
        self.status = reply.status
        self.headers = reply.all_headers()
        self._reply = reply
        self._gate = gate
        self.closed = False

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        body, size = self._reply.body, self._reply.chunk_size
        for start in range(0, len(body), size):
            if self._gate is not None:
                await self._gate.wait()
            await asyncio.sleep(0)
            yield body[start : start + size]

    async def aclose(self) -> None:
        self.closed = True


class FakeOrigin:
    """An origin answering from ``replies`` (by path), or with ``answer`` (any request).

    ``headers_gate``, when set, holds every answer (its headers) until it is set;
    ``gate`` holds every body; ``error`` is raised instead of answering. An
    ``If-None-Match`` equal to the reply's ETag is answered 304. ``responses`` are the
    answers given, to see whether the edge closed them.
    """

    def __init__(self, replies: dict[str, Reply] | None = None) -> None:
        self.replies = replies or {}
        self.answer: Callable[[OriginRequest], Reply] | None = None
        self.requests: list[OriginRequest] = []
        self.gate: asyncio.Event | None = None
        self.headers_gate: asyncio.Event | None = None
        self.error: OriginError | None = None
        self.asked = asyncio.Event()
        self.responses: list[FakeResponse] = []

    async def fetch(self, request: OriginRequest) -> FakeResponse:
        self.requests.append(request)
        self.asked.set()
        reply = self.answer(request) if self.answer else self.replies.get(request.path)
        if self.headers_gate is not None:
            await self.headers_gate.wait()
        if self.error is not None:
            raise self.error
        reply = reply or Reply(b"not found", 404, [("Content-Type", "text/plain")])
        if _not_modified(request, reply):
            reply = Reply(b"", 304, [h for h in reply.headers if h[0].lower() != "content-type"])
        response = FakeResponse(reply, self.gate)
        self.responses.append(response)
        return response


def _not_modified(request: OriginRequest, reply: Reply) -> bool:
    sent = {n.lower(): v for n, v in request.headers}.get("if-none-match")
    etag = {n.lower(): v for n, v in reply.headers}.get("etag")
    return sent is not None and etag is not None and sent.removeprefix("W/") == etag


class Clock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def distribution(
    *,
    policy: CachePolicy | None = None,
    errors: tuple[ErrorResponse, ...] = (),
    **options: object,
) -> Distribution:
    behavior = Behavior("*", ORIGIN, cache_policy=policy or CachePolicy("Test"), **options)  # type: ignore[arg-type]
    return Distribution("site", behavior, error_responses=errors)


def make_edge(
    tmp_path: Path, origin: FakeOrigin, clock: Clock, dist: Distribution | None = None
) -> Edge:
    store = EdgeStore(tmp_path / "cache", max_bytes=1 << 30, clock=clock)
    return Edge(
        dist or distribution(), {ORIGIN: origin}, store, distribution_id="E1TEST", clock=clock
    )


def get(
    path: str, *headers: tuple[str, str], method: str = "GET", body: bytes = b""
) -> ViewerRequest:
    path, _, query = path.partition("?")
    return ViewerRequest(method, path, query, list(headers), body)


def value(response: EdgeResponse, name: str) -> str | None:
    return next((v for n, v in response.headers if n.lower() == name.lower()), None)


async def read_body(response: EdgeResponse) -> bytes:
    """The bytes a viewer would receive (waiting for a fill in progress)."""
    body = response.body
    if isinstance(body, bytes):
        return body
    if isinstance(body, StreamBody):
        return b"".join([chunk async for chunk in body.chunks])
    return await _read_file(body)


def x_cache_over_time(
    edge: Edge, clock: Clock, path: str, advances: tuple[float, ...]
) -> list[tuple[int, str | None]]:
    """Each answer's status and ``X-Cache`` to a GET of ``path`` after each clock advance."""

    async def scenario() -> list[tuple[int, str | None]]:
        outcomes = []
        for advance in advances:
            clock.now += advance
            response = await edge(get(path))
            await read_body(response)
            outcomes.append((response.status, value(response, "X-Cache")))
        return outcomes

    return asyncio.run(scenario())


async def _read_file(body: FileBody) -> bytes:
    end = body.offset + body.length
    progress = body.progress
    while progress is not None and progress.written < end and not progress.complete:
        if progress.failed is not None:
            raise progress.failed
        await progress.wait_beyond(progress.written)
    with body.path.open("rb") as file:
        file.seek(body.offset)
        data = file.read(body.length)
    assert len(data) == body.length
    return data
