"""What of an origin's headers the edge keeps and replays: never another viewer's
cookie, one ``Age``, and no made-up length for a HEAD it passes through."""

from __future__ import annotations

import asyncio
from pathlib import Path

from overcast.local.cdn.model import EdgeResponse, StreamBody
from overcast.local.cdn.origins import content_length
from overcast.spec_cdn import CACHING_DISABLED, CachePolicy
from tests.unit.cdn.test_edge_fakes import (
    Clock,
    FakeOrigin,
    Reply,
    distribution,
    get,
    make_edge,
    read_body,
)

SESSION = Reply(
    b"welcome",
    headers=[("Cache-Control", "max-age=60"), ("Set-Cookie", "session=alice; HttpOnly")],
)


def twice(tmp_path: Path, origin: FakeOrigin, policy: CachePolicy | None = None) -> EdgeResponse:
    edge = make_edge(tmp_path, origin, Clock(), distribution(policy=policy))

    async def scenario() -> EdgeResponse:
        await read_body(await edge(get("/page", ("Cookie", "session=alice"))))
        hit = await edge(get("/page", ("Cookie", "session=alice")))
        await read_body(hit)
        return hit

    return asyncio.run(scenario())


def names(response: EdgeResponse) -> list[str]:
    return [name.lower() for name, _ in response.headers]


def test_a_cookie_the_origin_sets_is_not_replayed_to_other_viewers(tmp_path: Path) -> None:
    # Given a cache policy without cookies in its key (CloudFront then does not cache
    # Set-Cookie), when a second viewer is served from the cache
    hit = twice(tmp_path, FakeOrigin({"/page": SESSION}))
    # Then it does not receive the first viewer's session
    assert "set-cookie" not in names(hit)


def test_a_cookie_is_kept_when_cookies_are_in_the_cache_key(tmp_path: Path) -> None:
    policy = CachePolicy("PerSession", cookies=("session",))
    hit = twice(tmp_path, FakeOrigin({"/page": SESSION}), policy)
    assert ("Set-Cookie", "session=alice; HttpOnly") in hit.headers


def test_a_hit_carries_one_age_header(tmp_path: Path) -> None:
    aged = Reply(b"old news", headers=[("Cache-Control", "max-age=600"), ("Age", "100")])
    hit = twice(tmp_path, FakeOrigin({"/page": aged}))
    assert names(hit).count("age") == 1


def test_head_passed_through_without_a_length_does_not_claim_zero_bytes(tmp_path: Path) -> None:
    # Given an origin answering without Content-Length, behind a policy that never caches
    origin = FakeOrigin({"/feed": Reply(b"streamed", with_length=False)})
    edge = make_edge(tmp_path, origin, Clock(), distribution(policy=CACHING_DISABLED))

    async def scenario() -> EdgeResponse:
        return await edge(get("/feed", method="HEAD"))

    # Then the HEAD's body says "length unknown", not an empty body
    body = asyncio.run(scenario()).body
    assert isinstance(body, StreamBody)
    assert body.length is None
    assert origin.responses[0].closed is True


def test_an_origin_length_that_is_not_ascii_digits_is_no_length() -> None:
    assert content_length([("Content-Length", "\u00b2")]) is None
    assert content_length([("Content-Length", "9" * 5000)]) is None
    assert content_length([("Content-Length", " 12 ")]) == 12
