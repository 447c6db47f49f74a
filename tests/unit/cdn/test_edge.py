"""The edge answering from its cache: hits, misses, TTLs, collapsing, ranges, revalidation."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from overcast.local.cdn.model import FileBody
from tests.unit.cdn.test_edge_fakes import (
    Clock,
    FakeOrigin,
    Reply,
    get,
    make_edge,
    read_body,
    value,
    x_cache_over_time,
)

BODY = os.urandom(300_000)


def test_second_request_is_a_hit_with_its_age(tmp_path: Path) -> None:
    # Given an object the origin lets the edge keep for an hour
    origin = FakeOrigin({"/app.bin": Reply(BODY, headers=[("Cache-Control", "max-age=3600")])})
    clock = Clock()
    edge = make_edge(tmp_path, origin, clock)

    async def scenario() -> None:
        first = await edge(get("/app.bin"))
        assert value(first, "X-Cache") == "Miss from overcast"
        assert await read_body(first) == BODY
        # When it is asked again 5 seconds later
        clock.now += 5
        second = await edge(get("/app.bin"))
        # Then the edge answers from its cache, saying how old the copy is
        assert value(second, "X-Cache") == "Hit from overcast"
        assert value(second, "Age") == "5"
        assert await read_body(second) == BODY

    asyncio.run(scenario())
    assert len(origin.requests) == 1
    assert edge.stats.hits == 1
    assert edge.stats.misses == 1
    assert edge.stats.origin_bytes == len(BODY)
    assert edge.stats.edge_bytes == 2 * len(BODY)
    assert edge.stats.as_dict()["hit_ratio"] == 0.5


def test_object_expires_after_the_origins_max_age(tmp_path: Path) -> None:
    origin = FakeOrigin({"/a.txt": Reply(b"v1", headers=[("Cache-Control", "max-age=10")])})
    clock = Clock()
    edge = make_edge(tmp_path, origin, clock)

    # t=0 miss, t=9 hit, t=11 expired: miss again
    assert x_cache_over_time(edge, clock, "/a.txt", (0, 9, 2)) == [
        (200, "Miss from overcast"),
        (200, "Hit from overcast"),
        (200, "Miss from overcast"),
    ]
    assert len(origin.requests) == 2


def test_private_response_is_never_cached(tmp_path: Path) -> None:
    origin = FakeOrigin({"/me": Reply(b"mine", headers=[("Cache-Control", "private")])})
    edge = make_edge(tmp_path, origin, Clock())

    async def scenario() -> list[bytes]:
        bodies = []
        for _ in range(2):
            response = await edge(get("/me"))
            assert value(response, "X-Cache") == "Miss from overcast"
            bodies.append(await read_body(response))
        return bodies

    assert asyncio.run(scenario()) == [b"mine", b"mine"]
    assert len(origin.requests) == 2


def test_hundred_concurrent_misses_make_one_origin_request(tmp_path: Path) -> None:
    # Given a slow origin that holds its body until released
    origin = FakeOrigin({"/big.bin": Reply(BODY)})
    origin.gate = asyncio.Event()
    edge = make_edge(tmp_path, origin, Clock())

    async def viewer() -> bytes:
        return await read_body(await edge(get("/big.bin")))

    async def scenario() -> list[bytes]:
        assert origin.gate is not None
        # When 100 viewers ask for the same object at once
        viewers = [asyncio.create_task(viewer()) for _ in range(100)]
        await origin.asked.wait()
        await asyncio.sleep(0.01)
        origin.gate.set()
        return await asyncio.gather(*viewers)

    bodies = asyncio.run(scenario())
    # Then the origin saw one request and every viewer got every byte
    assert len(origin.requests) == 1
    assert all(body == BODY for body in bodies)
    assert edge.stats.misses == 1
    assert edge.stats.hits == 99


def test_a_viewer_leaving_does_not_cancel_the_fill(tmp_path: Path) -> None:
    origin = FakeOrigin({"/big.bin": Reply(BODY, headers=[("Content-Type", "image/png")])})
    origin.gate = asyncio.Event()
    edge = make_edge(tmp_path, origin, Clock())

    async def scenario() -> str | None:
        assert origin.gate is not None
        # Given a viewer who starts a fill and then disconnects
        leaver = asyncio.create_task(edge(get("/big.bin", ("Range", "bytes=0-0"))))
        await origin.asked.wait()
        leaver.cancel()
        origin.gate.set()
        for _ in range(200):
            await asyncio.sleep(0.005)
            if edge._fills.in_flight == 0:
                break
        # When the next viewer asks
        response = await edge(get("/big.bin"))
        assert await read_body(response) == BODY
        return value(response, "X-Cache")

    # Then the object was stored anyway
    assert asyncio.run(scenario()) == "Hit from overcast"
    assert len(origin.requests) == 1


def test_range_of_a_cached_object_is_served_from_the_cache(tmp_path: Path) -> None:
    origin = FakeOrigin({"/f": Reply(BODY)})
    edge = make_edge(tmp_path, origin, Clock())

    async def scenario() -> None:
        await read_body(await edge(get("/f")))
        response = await edge(get("/f", ("Range", "bytes=1000-1999")))
        assert response.status == 206
        assert value(response, "Content-Range") == f"bytes 1000-1999/{len(BODY)}"
        assert value(response, "X-Cache") == "Hit from overcast"
        assert await read_body(response) == BODY[1000:2000]

    asyncio.run(scenario())
    assert len(origin.requests) == 1


def test_range_of_a_cold_object_fetches_the_whole_object_once(tmp_path: Path) -> None:
    # Given an object nobody asked for yet, from a slow origin
    origin = FakeOrigin({"/f": Reply(BODY)})
    origin.gate = asyncio.Event()
    edge = make_edge(tmp_path, origin, Clock())

    async def scenario() -> None:
        assert origin.gate is not None
        # When a viewer asks for its last 500 bytes
        task = asyncio.create_task(edge(get("/f", ("Range", "bytes=-500"))))
        await origin.asked.wait()
        origin.gate.set()
        response = await task
        # Then it gets them as the fill writes them, and the next viewer gets the rest
        assert response.status == 206
        assert isinstance(response.body, FileBody)
        assert await read_body(response) == BODY[-500:]
        assert await read_body(await edge(get("/f"))) == BODY

    asyncio.run(scenario())
    assert len(origin.requests) == 1
    assert all(name.lower() != "range" for name, _ in origin.requests[0].headers)


def test_stale_object_is_revalidated_with_its_etag(tmp_path: Path) -> None:
    reply = Reply(b"same", headers=[("Cache-Control", "max-age=10"), ("ETag", '"v1"')])
    origin = FakeOrigin({"/doc": reply})
    clock = Clock()
    edge = make_edge(tmp_path, origin, clock)

    async def scenario() -> None:
        await read_body(await edge(get("/doc")))
        clock.now += 11
        # When the object is stale and the origin says it has not changed
        refreshed = await edge(get("/doc"))
        # Then the edge serves its copy as a refresh hit, and keeps it 10 s more
        assert value(refreshed, "X-Cache") == "RefreshHit from overcast"
        assert await read_body(refreshed) == b"same"
        clock.now += 5
        assert value(await edge(get("/doc")), "X-Cache") == "Hit from overcast"

    asyncio.run(scenario())
    assert len(origin.requests) == 2
    assert ("If-None-Match", '"v1"') in origin.requests[1].headers
    assert edge.stats.refresh_hits == 1


def test_stale_object_is_served_when_the_origin_fails(tmp_path: Path) -> None:
    reply = Reply(b"old", headers=[("Cache-Control", "max-age=10"), ("ETag", '"v1"')])
    origin = FakeOrigin({"/doc": reply})
    clock = Clock()
    edge = make_edge(tmp_path, origin, clock)

    async def scenario() -> bytes:
        await read_body(await edge(get("/doc")))
        clock.now += 60
        origin.replies["/doc"] = Reply(b"boom", 503)
        response = await edge(get("/doc"))
        assert response.status == 200
        return await read_body(response)

    assert asyncio.run(scenario()) == b"old"


def test_viewer_with_a_current_etag_gets_304(tmp_path: Path) -> None:
    headers = [("ETag", '"abc"'), ("Last-Modified", "Tue, 01 Oct 2024 10:00:00 GMT")]
    origin = FakeOrigin(
        {"/doc": Reply(b"body", headers=[*headers, ("Cache-Control", "max-age=60")])}
    )
    edge = make_edge(tmp_path, origin, Clock())

    async def scenario() -> None:
        await read_body(await edge(get("/doc")))
        by_etag = await edge(get("/doc", ("If-None-Match", 'W/"abc"')))
        by_date = await edge(get("/doc", ("If-Modified-Since", "Wed, 02 Oct 2024 00:00:00 GMT")))
        changed = await edge(get("/doc", ("If-None-Match", '"other"')))
        assert (by_etag.status, by_date.status, changed.status) == (304, 304, 200)
        assert await read_body(by_etag) == b""
        assert value(by_etag, "ETag") == '"abc"'
        assert value(by_etag, "Cache-Control") == "max-age=60"
        assert value(by_etag, "X-Cache") == "Hit from overcast"

    asyncio.run(scenario())
    assert len(origin.requests) == 1
