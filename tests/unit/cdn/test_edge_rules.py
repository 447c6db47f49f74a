"""The edge's other rules: compression, invalidation, errors, methods, pass-through."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import brotli  # type: ignore[import-untyped]
import pytest

from overcast.local.cdn.origins import OriginRequest, OriginTimeout, OriginUnreachable
from overcast.local.cdn.paths import InvalidInvalidationPath
from overcast.spec_cdn import CACHING_DISABLED, ErrorResponse
from tests.unit.cdn.test_edge_fakes import (
    Clock,
    FakeOrigin,
    Reply,
    distribution,
    get,
    make_edge,
    read_body,
    value,
    x_cache_over_time,
)

HTML = [("Content-Type", "text/html"), ("ETag", '"page"')]


@pytest.mark.parametrize(("size", "compressed"), [(999, False), (1000, True)])
def test_edge_compresses_from_1000_bytes(tmp_path: Path, size: int, compressed: bool) -> None:
    text = (b"<p>overcast</p>" * 100)[:size]
    origin = FakeOrigin({"/page": Reply(text, headers=HTML)})
    edge = make_edge(tmp_path, origin, Clock())

    async def scenario() -> None:
        for accepted, decode in (("gzip", gzip.decompress), ("br, gzip", brotli.decompress)):
            response = await edge(get("/page", ("Accept-Encoding", accepted)))
            body = await read_body(response)
            if compressed:
                assert value(response, "Content-Encoding") == accepted.split(",")[0]
                assert value(response, "Vary") == "Accept-Encoding"
                assert value(response, "ETag") == 'W/"page"'
                assert decode(body) == text
            else:
                assert value(response, "Content-Encoding") is None
                assert value(response, "ETag") == '"page"'
                assert body == text

    asyncio.run(scenario())


def test_invalidating_a_path_sends_the_next_request_to_the_origin(tmp_path: Path) -> None:
    origin = FakeOrigin({"/a.css": Reply(b"a"), "/b.css": Reply(b"b"), "/img/c.png": Reply(b"c")})
    edge = make_edge(tmp_path, origin, Clock())

    async def fetch_all() -> None:
        for path in ("/a.css", "/b.css", "/img/c.png"):
            await read_body(await edge(get(path)))

    async def scenario() -> None:
        await fetch_all()
        assert edge.invalidate(["/a.css"]) == 1
        await fetch_all()  # a.css from the origin again, the others hits
        assert len(origin.requests) == 4
        assert edge.invalidate(["/*"]) == 3
        await fetch_all()
        assert len(origin.requests) == 7

    asyncio.run(scenario())
    assert edge.stats.invalidations == 2


def test_invalid_invalidation_path_changes_nothing(tmp_path: Path) -> None:
    origin = FakeOrigin({"/a.css": Reply(b"a")})
    edge = make_edge(tmp_path, origin, Clock())

    async def scenario() -> str | None:
        await read_body(await edge(get("/a.css")))
        with pytest.raises(InvalidInvalidationPath):
            edge.invalidate(["/a.css", "no-slash"])
        return value(await edge(get("/a.css")), "X-Cache")

    assert asyncio.run(scenario()) == "Hit from overcast"


def test_fill_in_flight_during_an_invalidation_is_not_served_later(tmp_path: Path) -> None:
    origin = FakeOrigin({"/v": Reply(b"old")})
    origin.gate = asyncio.Event()
    edge = make_edge(tmp_path, origin, Clock())

    async def scenario() -> bytes:
        assert origin.gate is not None
        first = asyncio.create_task(edge(get("/v")))
        await origin.asked.wait()
        edge.invalidate(["/v"])
        origin.replies["/v"] = Reply(b"new")
        origin.gate.set()
        assert await read_body(await first) == b"old"
        return await read_body(await edge(get("/v")))

    assert asyncio.run(scenario()) == b"new"


def test_origin_404_is_cached_for_the_error_ttl(tmp_path: Path) -> None:
    origin = FakeOrigin()
    clock = Clock()
    edge = make_edge(tmp_path, origin, clock, distribution(errors=(ErrorResponse(404, 30),)))

    assert x_cache_over_time(edge, clock, "/missing", (0, 29, 2)) == [
        (404, "Miss from overcast"),
        (404, "Hit from overcast"),
        (404, "Miss from overcast"),
    ]


def test_custom_error_page_answers_an_origin_error(tmp_path: Path) -> None:
    origin = FakeOrigin({"/errors/404.html": Reply(b"<h1>Lost?</h1>", headers=HTML)})
    rule = ErrorResponse(404, page_path="/errors/404.html", response_status=200)
    edge = make_edge(tmp_path, origin, Clock(), distribution(errors=(rule,)))

    async def scenario() -> None:
        for _ in range(2):
            response = await edge(get("/nowhere"))
            assert response.status == 200
            assert await read_body(response) == b"<h1>Lost?</h1>"
            assert value(response, "X-Cache") == "Error from overcast"

    asyncio.run(scenario())
    # the 404 and the page were each fetched once, then both came from the cache
    assert [r.path for r in origin.requests] == ["/nowhere", "/errors/404.html"]


def test_method_the_behavior_does_not_allow_is_403(tmp_path: Path) -> None:
    origin = FakeOrigin()
    edge = make_edge(tmp_path, origin, Clock())

    response = asyncio.run(edge(get("/form", method="POST", body=b"x=1")))

    assert response.status == 403
    assert value(response, "X-Cache") == "Error from overcast"
    assert b"not configured to allow the HTTP request method" in bytes(response.body)  # type: ignore[arg-type]
    assert origin.requests == []


@pytest.mark.parametrize("forward_all", [True, False])
def test_post_passes_through_with_its_body(tmp_path: Path, forward_all: bool) -> None:
    seen: list[OriginRequest] = []

    def answer(request: OriginRequest) -> Reply:
        seen.append(request)
        return Reply(b'{"ok":true}', 201, [("Content-Type", "application/json")])

    origin = FakeOrigin()
    origin.answer = answer
    dist = distribution(
        policy=CACHING_DISABLED, allowed_methods="ALL", forward_all_viewer=forward_all
    )
    edge = make_edge(tmp_path, origin, Clock(), dist)
    request = get("/api/todos?x=1", ("Authorization", "Bearer t"), method="POST", body=b"{}")

    async def scenario() -> bytes:
        response = await edge(request)
        assert response.status == 201
        assert value(response, "X-Cache") == "Miss from overcast"
        return await read_body(response)

    assert asyncio.run(scenario()) == b'{"ok":true}'
    sent = seen[0]
    assert (sent.method, sent.body) == ("POST", b"{}")
    assert (("Authorization", "Bearer t") in sent.headers) is forward_all
    assert sent.query == ("x=1" if forward_all else "")
    assert edge.stats.passes == 1


@pytest.mark.parametrize(
    ("error", "status"), [(OriginUnreachable("refused"), 502), (OriginTimeout("slow"), 504)]
)
def test_origin_failure_is_an_edge_error(tmp_path: Path, error: Exception, status: int) -> None:
    origin = FakeOrigin()
    origin.error = error  # type: ignore[assignment]
    edge = make_edge(tmp_path, origin, Clock())

    response = asyncio.run(edge(get("/x")))

    assert response.status == status
    assert value(response, "X-Cache") == "Error from overcast"
    assert f"{status} ERROR".encode() in bytes(response.body)  # type: ignore[arg-type]
    assert edge.stats.errors == 1


def test_uncacheable_answer_sends_every_waiting_viewer_to_the_origin(tmp_path: Path) -> None:
    origin = FakeOrigin({"/now": Reply(b"tick", headers=[("Cache-Control", "no-store")])})
    origin.gate = asyncio.Event()
    edge = make_edge(tmp_path, origin, Clock())

    async def scenario() -> list[bytes]:
        assert origin.gate is not None
        viewers = [asyncio.create_task(edge(get("/now"))) for _ in range(3)]
        await origin.asked.wait()
        origin.gate.set()
        return [await read_body(response) for response in await asyncio.gather(*viewers)]

    assert asyncio.run(scenario()) == [b"tick"] * 3
    assert len(origin.requests) == 3


def test_root_asks_for_the_default_root_object_with_edge_headers(tmp_path: Path) -> None:
    origin = FakeOrigin({"/index.html": Reply(b"home", headers=HTML)})
    edge = make_edge(tmp_path, origin, Clock())

    response = asyncio.run(edge(get("/")))

    assert response.status == 200
    assert value(response, "Via") == "1.1 e1test.cloudfront.local (Overcast)"
    assert value(response, "X-Amz-Cf-Pop") == "LOCAL1"
    assert len(value(response, "X-Amz-Cf-Id") or "") == 56
    assert value(response, "Content-Length") is None  # the server frames the body
