"""The stage cache answers as API Gateway's does, and never mixes up callers (injected clock)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from overcast import spec
from overcast.local.gateway import CognitoAuthorizer, Gateway
from overcast.local.gateway.events import GatewayRequest
from overcast.local.gateway.routes import Resource, RouteMatch
from overcast.local.gateway.stagecache import RoutePolicy, StageCache
from tests.fixtures.invoker import InProcessInvoker

pytestmark = pytest.mark.anyio

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_local"
CLIENT = "web-client-id"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
SIGNED_IN = spec.CognitoAuthorizer(spec.UserPool(name="users"))
COUNTED = spec.Function("counted", "tests.fixtures.cache_handlers:counted")
FAIL = spec.Function("fail", "tests.fixtures.handlers:fail")
BY_ID = spec.RouteCache(key_parameters=("method.request.path.id",))
MINE = spec.RouteCache(key_parameters=(spec.CALLER,))
MINE_BY_ID = spec.RouteCache(key_parameters=(spec.CALLER, "method.request.path.id"))
ROUTES = (
    spec.Route("GET", "/public", COUNTED),
    spec.Route("POST", "/public", COUNTED),
    spec.Route("GET", "/public/{id}", COUNTED, cache=BY_ID),
    spec.Route("GET", "/short", COUNTED, cache=spec.RouteCache(ttl_seconds=10)),
    spec.Route("GET", "/uncached", COUNTED, cache=spec.RouteCache(ttl_seconds=0)),
    spec.Route("GET", "/search", COUNTED, cache=spec.RouteCache(("method.request.querystring.q",))),
    spec.Route("GET", "/fail", FAIL),
    spec.Route("GET", "/todos", COUNTED, SIGNED_IN, cache=MINE),
    spec.Route("POST", "/todos", COUNTED, SIGNED_IN),
    spec.Route("GET", "/todos/{id}", COUNTED, SIGNED_IN, cache=MINE_BY_ID),
    spec.Route("PATCH", "/todos/{id}", COUNTED, SIGNED_IN),
)


def api(**stage_cache: Any) -> spec.Api:
    return spec.Api(name="cached", routes=ROUTES, cache=spec.StageCache(**stage_cache))


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> Clock:
    return Clock()


Connect = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def connect(clock: Clock) -> AsyncIterator[Connect]:
    clients: list[httpx.AsyncClient] = []

    def make(declared: spec.Api | None = None, invoker: Any = None, **cache: Any) -> Any:
        declared = declared or api()
        stage_cache = StageCache(declared, clock=clock, **cache)
        gateway = Gateway(
            declared,
            invoker or InProcessInvoker(route.function for route in ROUTES),
            {"users": CognitoAuthorizer(ISSUER, [CLIENT], KeySet([KEY]).as_dict(private=False))},
            api_id="abc123",
            access_log=None,
            stage_cache=stage_cache,
        )
        transport = httpx.ASGITransport(app=gateway)
        clients.append(httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1/v1"))
        return clients[-1], stage_cache

    yield make
    for client in clients:
        await client.aclose()


def as_user(sub: str, **headers: str) -> dict[str, str]:
    claims = {"sub": sub, "aud": CLIENT, "iss": ISSUER, "token_use": "id", "exp": 4_000_000_000}
    return {"Authorization": jwt.encode({"alg": "RS256", "kid": "k1"}, claims, KEY), **headers}


ALICE, BOB = as_user("alice"), as_user("bob")


def call(response: httpx.Response) -> int:
    assert response.status_code < 500, response.text
    number: int = json.loads(response.text)["call"]
    return number


def outcome(response: httpx.Response) -> str:
    return response.headers["x-overcast-cache"]


# --- API Gateway's behaviour ------------------------------------------------------------


async def test_a_repeated_get_is_answered_from_the_cache(connect: Connect) -> None:
    client, _ = connect()
    first = await client.get("/public")
    second = await client.get("/public")
    assert (outcome(first), outcome(second)) == ("Miss", "Hit")
    assert call(second) == call(first)
    assert second.headers["x-amzn-requestid"] != first.headers["x-amzn-requestid"]
    assert second.headers["content-type"] == "application/json"


async def test_an_entry_lives_for_the_stage_ttl(connect: Connect, clock: Clock) -> None:
    client, _ = connect()
    first = call(await client.get("/public"))
    clock.now += 299.9
    assert call(await client.get("/public")) == first
    clock.now += 0.1
    assert call(await client.get("/public")) > first


async def test_a_method_ttl_overrides_the_stage_ttl_and_zero_turns_caching_off(
    connect: Connect, clock: Clock
) -> None:
    client, _ = connect()
    short = call(await client.get("/short"))
    clock.now += 10
    assert call(await client.get("/short")) > short
    uncached = await client.get("/uncached")
    again = await client.get("/uncached")
    assert call(again) > call(uncached)
    assert outcome(again) == "Bypass"


async def test_only_declared_parameters_are_in_the_key(connect: Connect) -> None:
    client, _ = connect()
    one = call(await client.get("/public/1"))
    assert call(await client.get("/public/2")) != one
    assert call(await client.get("/public/1")) == one
    search = call(await client.get("/search", params={"q": "milk", "page": "1"}))
    # API Gateway: what is not declared is not in the key, so the pages share an entry
    assert call(await client.get("/search", params={"q": "milk", "page": "2"})) == search
    assert call(await client.get("/search", params={"q": "eggs"})) != search


async def test_only_get_methods_are_cached(connect: Connect) -> None:
    client, _ = connect()
    first = await client.post("/public")
    second = await client.post("/public")
    assert call(second) > call(first)
    assert outcome(second) == "Bypass"


async def test_a_response_over_1_mib_is_not_cached(connect: Connect) -> None:
    client, _ = connect()
    big = {"q": "big", "pad": str(1024 * 1024)}
    first = await client.get("/search", params=big)
    assert len(first.content) > 1024 * 1024
    assert call(await client.get("/search", params=big)) > call(first)


async def test_the_least_recently_used_entries_go_when_the_cache_is_full(
    connect: Connect,
) -> None:
    client, cache = connect(max_bytes=3 * 1200)
    pad = {"pad": "1000"}  # about 1.1 kB an entry: three fit
    calls = {n: call(await client.get(f"/public/{n}", params=pad)) for n in (1, 2, 3)}
    await client.get("/public/1", params=pad)  # 1 is now more recent than 2
    await client.get("/public/4", params=pad)  # so 2 goes
    assert call(await client.get("/public/1", params=pad)) == calls[1]
    assert call(await client.get("/public/2", params=pad)) > calls[2]
    assert cache.stats()["routes"]["GET /public/{id}"]["evictions"] >= 1
    assert cache.stats()["bytes"] <= 3 * 1200


async def test_function_responses_are_cached_whatever_their_status(connect: Connect) -> None:
    # API Gateway caches the integration's response, errors included...
    client, cache = connect()
    missing = await client.get("/search", params={"q": "x", "status": "404"})
    again = await client.get("/search", params={"q": "x", "status": "404"})
    assert (again.status_code, call(again)) == (404, call(missing))
    # ...but never its own gateway errors, such as a function that failed
    assert (await client.get("/fail")).status_code == 502
    assert (await client.get("/fail")).status_code == 502
    assert cache.stats()["routes"]["GET /fail"] | {"ttl_seconds": 0} == {
        "ttl_seconds": 0,
        "hits": 0,
        "misses": 2,
        "evictions": 0,
        "invalidations": 0,
    }


async def test_flush_empties_the_cache(connect: Connect) -> None:
    client, cache = connect()
    first = call(await client.get("/public"))
    await client.get("/todos", headers=ALICE)
    assert cache.flush() == 2
    assert call(await client.get("/public")) > first
    assert cache.stats()["routes"]["GET /public"]["invalidations"] == 1


# --- per-user entries and read-your-writes -------------------------------------------


async def test_two_users_never_share_an_entry(connect: Connect) -> None:
    client, _ = connect()
    alice = await client.get("/todos", headers=ALICE)
    bob = await client.get("/todos", headers=BOB)
    assert outcome(bob) == "Miss"
    assert (alice.json()["sub"], bob.json()["sub"]) == ("alice", "bob")
    alice_again = await client.get("/todos", headers=ALICE)
    bob_again = await client.get("/todos", headers=BOB)
    assert (outcome(alice_again), alice_again.json()["sub"]) == ("Hit", "alice")
    assert (outcome(bob_again), bob_again.json()["sub"]) == ("Hit", "bob")


async def test_a_write_drops_the_writers_cached_reads_of_that_resource(connect: Connect) -> None:
    # Given alice's and bob's cached reads
    client, _ = connect()
    for path in ("/todos", "/todos/1", "/todos/2"):
        await client.get(path, headers=ALICE)
    await client.get("/todos/1", headers=BOB)
    # When alice changes to-do 1
    await client.patch("/todos/1", headers=ALICE)
    # Then her reads of it, and of the list above it, are fetched afresh
    assert outcome(await client.get("/todos/1", headers=ALICE)) == "Miss"
    assert outcome(await client.get("/todos", headers=ALICE)) == "Miss"
    # And her other to-do, and bob's entries, are still cached
    assert outcome(await client.get("/todos/2", headers=ALICE)) == "Hit"
    assert outcome(await client.get("/todos/1", headers=BOB)) == "Hit"
    # And a new to-do drops her list and everything below it
    await client.post("/todos", headers=ALICE)
    assert outcome(await client.get("/todos", headers=ALICE)) == "Miss"
    assert outcome(await client.get("/todos/2", headers=ALICE)) == "Miss"


async def test_a_read_that_overlaps_a_write_is_not_cached(connect: Connect) -> None:
    # Given a read whose function is still running when the same user's write lands
    invoker = HeldReads()
    client, _ = connect(invoker=invoker)
    read = asyncio.ensure_future(client.get("/todos", headers=ALICE))
    await invoker.read_started.wait()
    await client.post("/todos", headers=ALICE)
    invoker.release.set()
    assert outcome(await read) == "Miss"
    # Then what that read fetched (from before the write) was not kept
    assert outcome(await client.get("/todos", headers=ALICE)) == "Miss"
    assert outcome(await client.get("/todos", headers=ALICE)) == "Hit"


class HeldReads:
    """An invoker whose first GET waits for ``release``, as a slow function would."""

    def __init__(self) -> None:
        self.read_started = asyncio.Event()
        self.release = asyncio.Event()
        self._held = False

    def __contains__(self, function: object) -> bool:
        return True

    async def invoke(self, function: spec.Function, event: Any, **options: Any) -> Any:
        if event["httpMethod"] == "GET" and not self._held:
            self._held = True
            self.read_started.set()
            await self.release.wait()
        return {"statusCode": 200, "body": json.dumps({"call": 0})}


# --- Cache-Control: max-age=0 ---------------------------------------------------------


async def test_a_cognito_caller_may_not_invalidate_as_on_api_gateway(connect: Connect) -> None:
    # API Gateway: invalidating needs execute-api:InvalidateCache, an IAM permission a
    # Cognito-authorized caller does not hold; by default the cached answer is served
    # with a warning.
    client, _ = connect()
    first = call(await client.get("/todos", headers=ALICE))
    ignored = await client.get("/todos", headers={**ALICE, "Cache-Control": "max-age=0"})
    assert (outcome(ignored), call(ignored)) == ("Hit", first)
    assert ignored.headers["warning"].startswith("199 ")


async def test_without_required_authorization_a_caller_refreshes_their_own_entry(
    connect: Connect,
) -> None:
    client, _ = connect(api(require_authorization=False))
    first = call(await client.get("/todos", headers=ALICE))
    refreshed = await client.get("/todos", headers={**ALICE, "Cache-Control": "max-age=0"})
    assert (outcome(refreshed), call(refreshed) > first) == ("Refresh", True)
    assert call(await client.get("/todos", headers=ALICE)) == call(refreshed)


async def test_an_encoded_path_is_the_same_resource_for_write_invalidation(
    connect: Connect,
) -> None:
    client, _ = connect()
    await client.get("/todos/a%62c", headers=ALICE)
    await client.patch("/todos/abc", headers=ALICE, json={})
    again = await client.get("/todos/abc", headers=ALICE)
    assert outcome(again) == "Miss"


async def test_another_users_max_age_zero_cannot_flush_my_entry(connect: Connect) -> None:
    client, _ = connect(api(require_authorization=False))
    mine = call(await client.get("/todos", headers=ALICE))
    await client.get("/todos", headers={**BOB, "Cache-Control": "no-cache, max-age=0"})
    again = await client.get("/todos", headers=ALICE)
    assert (outcome(again), call(again)) == ("Hit", mine)


async def test_an_unauthorized_max_age_zero_is_ignored_with_a_warning_by_default(
    connect: Connect,
) -> None:
    client, _ = connect()
    first = call(await client.get("/public"))
    ignored = await client.get("/public", headers={"Cache-Control": "max-age=0"})
    assert (outcome(ignored), call(ignored)) == ("Hit", first)
    assert ignored.headers["warning"] == (
        "199 Cache-control headers were ignored because the caller was unauthorized."
    )


@pytest.mark.parametrize(
    ("settings", "status", "warned", "refreshed"),
    [
        ({"unauthorized_strategy": "FAIL_WITH_403"}, 403, False, False),
        ({"unauthorized_strategy": "SUCCEED_WITHOUT_RESPONSE_HEADER"}, 200, False, False),
        ({"require_authorization": False}, 200, False, True),
    ],
)
async def test_the_declared_strategy_answers_an_unauthorized_max_age_zero(
    connect: Connect, settings: dict[str, Any], status: int, warned: bool, refreshed: bool
) -> None:
    client, _ = connect(api(**settings))
    first = call(await client.get("/public"))
    response = await client.get("/public", headers={"Cache-Control": "max-age=0"})
    assert response.status_code == status
    assert ("warning" in response.headers) == warned
    if status == 403:
        assert response.json() == {"message": "User is not authorized to access this resource"}
        assert response.headers["x-amzn-errortype"] == "AccessDeniedException"
    else:
        assert (call(response) > first) == refreshed
    assert call(await client.get("/public")) == (call(response) if refreshed else first)


# --- observability ------------------------------------------------------------------


async def test_stats_count_each_routes_hits_misses_and_invalidations(connect: Connect) -> None:
    client, cache = connect()
    await client.get("/todos/1", headers=ALICE)
    await client.get("/todos/1", headers=ALICE)
    await client.patch("/todos/1", headers=ALICE)
    stats = cache.stats()
    assert stats["routes"]["GET /todos/{id}"] == {
        "ttl_seconds": 300,
        "hits": 1,
        "misses": 1,
        "evictions": 0,
        "invalidations": 1,
    }
    assert "PATCH /todos/{id}" not in stats["routes"]
    assert stats["entries"] == 0


async def test_an_api_without_a_stage_cache_adds_no_cache_header(connect: Connect) -> None:
    plain = spec.Api(name="plain", routes=(spec.Route("GET", "/public", COUNTED),))
    gateway = Gateway(plain, InProcessInvoker([COUNTED]), {}, api_id="x", access_log=None)
    assert gateway.stage_cache is None
    transport = httpx.ASGITransport(app=gateway)
    async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1/v1") as client:
        first = await client.get("/public")
        second = await client.get("/public")
    assert "x-overcast-cache" not in second.headers
    assert call(second) > call(first)


def test_the_key_holds_the_verified_caller_not_only_the_token() -> None:
    # Even were two callers to send the same Authorization value, their keys would differ.
    declared = api()
    route = next(route for route in declared.routes if route.key == "GET /todos/{id}")
    policy = RoutePolicy.of(declared, route)
    request = GatewayRequest(
        "GET", "/todos/7", b"", {"authorization": "Bearer same"}, {}, b"", "127.0.0.1",
        "HTTP/1.1", "https", 443, "id", "apigw-id", "trace", 0.0,
    )  # fmt: skip
    match = RouteMatch(route, Resource("/todos/{id}", "abc"), {"id": "7"})
    alice = policy.key(request, match, (ISSUER, "alice"))
    bob = policy.key(request, match, (ISSUER, "bob"))
    assert alice != bob
    assert alice == policy.key(request, match, (ISSUER, "alice"))
