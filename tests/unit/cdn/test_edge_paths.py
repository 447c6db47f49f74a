"""The edge routes, keys and forwards the path with its dot segments removed, as
CloudFront normalises a path before it matches behaviours (RFC 3986 section 5.2.4)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from overcast.local.cdn.edge import Edge
from overcast.local.cdn.store import EdgeStore
from overcast.spec_cdn import CACHING_DISABLED, Behavior, Distribution, HttpOrigin
from tests.unit.cdn.test_edge_fakes import (
    ORIGIN,
    Clock,
    FakeOrigin,
    Reply,
    get,
    make_edge,
    read_body,
    value,
)

API = HttpOrigin("api", url="http://api.test")
COUNT = Reply(b"42", headers=[("Cache-Control", "max-age=60")])


def test_a_path_with_dot_segments_reaches_the_origin_and_the_cache_normalised(
    tmp_path: Path,
) -> None:
    origin = FakeOrigin({"/count": COUNT})
    edge = make_edge(tmp_path, origin, Clock())

    async def scenario() -> list[str | None]:
        outcomes = []
        for path in ("/a/../count", "/count", "/b/%2E%2e/./count"):
            response = await edge(get(path))
            assert await read_body(response) == b"42"
            outcomes.append(value(response, "X-Cache"))
        return outcomes

    # Then the three spellings are one object, fetched once as /count
    assert asyncio.run(scenario()) == [
        "Miss from overcast",
        "Hit from overcast",
        "Hit from overcast",
    ]
    assert [request.path for request in origin.requests] == ["/count"]


def test_dot_segments_cannot_route_around_a_behaviour(tmp_path: Path) -> None:
    # Given /api/* going to the API and everything else to the site
    site, api = FakeOrigin({}), FakeOrigin({"/api/me": Reply(b"me")})
    behaviors = (Behavior("/api/*", API, cache_policy=CACHING_DISABLED),)
    dist = Distribution("site", Behavior("*", ORIGIN), behaviors=behaviors)
    store = EdgeStore(tmp_path / "cache", max_bytes=1 << 20, clock=Clock())
    edge = Edge(dist, {ORIGIN: site, API: api}, store, distribution_id="E1", clock=Clock())

    async def scenario() -> bytes:
        return await read_body(await edge(get("/static/../api/me")))

    # Then the request is matched as /api/me
    assert asyncio.run(scenario()) == b"me"
    assert [r.path for r in api.requests] == ["/api/me"]
    assert site.requests == []


@pytest.mark.parametrize("path", ["/..%2Fother/secret.txt", "/a/%2e%2e%2F..%2Fother/x"])
def test_dot_segments_behind_an_encoded_slash_are_refused_at_the_edge(
    tmp_path: Path, path: str
) -> None:
    origin = FakeOrigin({})
    edge = make_edge(tmp_path, origin, Clock())

    async def scenario() -> int:
        return (await edge(get(path))).status

    assert asyncio.run(scenario()) == 400
    assert origin.requests == []
