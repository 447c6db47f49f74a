"""The edge when things happen meanwhile: viewers leaving, invalidations during an
origin request, cached bodies deleted under a revalidation."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from overcast.local.cdn.model import EdgeResponse
from overcast.local.cdn.origins import OriginUnreachable
from overcast.spec_cdn import CachePolicy, ErrorResponse
from tests.unit.cdn.test_edge_fakes import (
    Clock,
    FakeOrigin,
    Reply,
    distribution,
    get,
    make_edge,
    read_body,
)

PRIVATE = Reply(b"for you only", headers=[("Cache-Control", "private")])
CACHED = Reply(b"version one", headers=[("Cache-Control", "max-age=10"), ("ETag", '"v1"')])


async def settle(rounds: int = 50) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


async def leave(viewer: asyncio.Task[EdgeResponse]) -> None:
    viewer.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await viewer


def test_a_viewer_leaving_before_an_uncacheable_answer_frees_the_origin_response(
    tmp_path: Path,
) -> None:
    # Given an origin slow to answer with a response the edge may not cache
    origin = FakeOrigin({"/me": PRIVATE})
    origin.headers_gate = asyncio.Event()
    edge = make_edge(tmp_path, origin, Clock())

    async def scenario() -> bool:
        # When the viewer hangs up before the origin's headers arrive
        viewer = asyncio.create_task(edge(get("/me")))
        await origin.asked.wait()
        await leave(viewer)
        origin.headers_gate.set()
        await settle()
        return origin.responses[0].closed

    # Then the origin's response (its pooled connection) is closed, not left open
    assert asyncio.run(scenario()) is True


def test_a_head_of_an_uncacheable_answer_closes_the_origin_response(tmp_path: Path) -> None:
    origin = FakeOrigin({"/me": PRIVATE})
    edge = make_edge(tmp_path, origin, Clock())

    async def scenario() -> EdgeResponse:
        return await edge(get("/me", method="HEAD"))

    response = asyncio.run(scenario())
    assert response.status == 200
    assert origin.responses[0].closed is True


def test_an_error_page_replacing_a_passed_through_answer_closes_it(tmp_path: Path) -> None:
    # Given a POST the origin answers 500, and a custom error page for 500
    origin = FakeOrigin({"/api": Reply(b"boom", 500), "/500.html": Reply(b"sorry")})
    rule = ErrorResponse(500, page_path="/500.html", response_status=500)
    dist = distribution(errors=(rule,), allowed_methods="ALL")
    edge = make_edge(tmp_path, origin, Clock(), dist)

    async def scenario() -> bytes:
        return await read_body(await edge(get("/api", method="POST", body=b"x")))

    # Then the viewer gets the page and the origin's 500 response is closed
    assert asyncio.run(scenario()) == b"sorry"
    assert origin.responses[0].closed is True


def test_an_invalidation_while_the_origin_is_answering_is_not_undone(tmp_path: Path) -> None:
    # Given a fill waiting for the origin's headers (version one)
    origin = FakeOrigin({"/obj": CACHED})
    origin.headers_gate = asyncio.Event()
    edge = make_edge(tmp_path, origin, Clock())

    async def scenario() -> bytes:
        viewer = asyncio.create_task(edge(get("/obj")))
        await origin.asked.wait()
        # When version two is deployed and the path invalidated before the origin answers
        origin.replies["/obj"] = Reply(b"version two", headers=[("ETag", '"v2"')])
        edge.invalidate(["/obj"])
        origin.headers_gate.set()
        assert await read_body(await viewer) == b"version one"
        # Then the next request goes back to the origin and gets version two
        return await read_body(await edge(get("/obj")))

    assert asyncio.run(scenario()) == b"version two"
    assert len(origin.requests) == 2


def test_a_stale_copy_invalidated_during_its_revalidation_is_fetched_in_full(
    tmp_path: Path,
) -> None:
    # Given a stale copy being revalidated
    origin = FakeOrigin({"/obj": CACHED})
    clock = Clock()
    edge = make_edge(tmp_path, origin, clock)

    async def scenario() -> tuple[int, bytes]:
        await read_body(await edge(get("/obj")))
        clock.now += 20
        origin.headers_gate = asyncio.Event()
        origin.asked.clear()
        viewer = asyncio.create_task(edge(get("/obj")))
        await origin.asked.wait()
        # When an invalidation deletes the copy before the origin's 304 arrives
        edge.invalidate(["/obj"])
        origin.headers_gate.set()
        response = await viewer
        return response.status, await read_body(response)

    # Then the edge fetches the whole object again rather than serve a deleted file
    assert asyncio.run(scenario()) == (200, b"version one")
    assert [dict(r.headers).get("If-None-Match") for r in origin.requests] == [None, '"v1"', None]


def test_a_stale_copy_deleted_while_the_origin_fails_is_an_edge_error(tmp_path: Path) -> None:
    origin = FakeOrigin({"/obj": CACHED})
    clock = Clock()
    edge = make_edge(tmp_path, origin, clock)

    async def scenario() -> int:
        await read_body(await edge(get("/obj")))
        clock.now += 20
        origin.headers_gate = asyncio.Event()
        origin.asked.clear()
        origin.error = OriginUnreachable("down")
        viewer = asyncio.create_task(edge(get("/obj")))
        await origin.asked.wait()
        edge.invalidate(["/obj"])
        origin.headers_gate.set()
        return (await viewer).status

    assert asyncio.run(scenario()) == 502


def test_a_stale_copy_deleted_while_the_origin_answers_5xx_serves_the_5xx(
    tmp_path: Path,
) -> None:
    origin = FakeOrigin({"/obj": CACHED})
    clock = Clock()
    edge = make_edge(tmp_path, origin, clock, distribution(policy=CachePolicy("Short")))

    async def scenario() -> tuple[int, bytes]:
        await read_body(await edge(get("/obj")))
        clock.now += 20
        origin.replies["/obj"] = Reply(b"unavailable", 503)
        origin.headers_gate = asyncio.Event()
        origin.asked.clear()
        viewer = asyncio.create_task(edge(get("/obj")))
        await origin.asked.wait()
        edge.invalidate(["/obj"])
        origin.headers_gate.set()
        response = await viewer
        return response.status, await read_body(response)

    assert asyncio.run(scenario()) == (503, b"unavailable")
