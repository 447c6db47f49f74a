"""An API's stages served side by side: each its own code, stage variables and cache."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from overcast import spec
from overcast.local.cloud import stage_aliases
from overcast.local.gateway import Gateway
from tests.fixtures.invoker import InProcessInvoker

pytestmark = pytest.mark.anyio

ECHO = spec.Function("echo", "tests.fixtures.handlers:echo")
COUNTED = spec.Function("counted", "tests.fixtures.cache_handlers:counted")
V2_ECHO = "tests.unit.test_gateway_stages:echo_v2"
ROUTES = (
    spec.Route("GET", "/echo", ECHO),
    spec.Route("GET", "/counted", COUNTED),
)
API = spec.Api(
    name="versions",
    routes=ROUTES,
    stage="v1",
    cache=spec.StageCache(),
    stages=(
        spec.Stage("v1", variables={"color": "blue"}),
        spec.Stage("v2", handlers={"echo": V2_ECHO}, cache=spec.StageCache(ttl_seconds=0)),
        spec.Stage("beta_3", variables={"color": "green", "tier": "beta"}),
    ),
)


def echo_v2(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Stage v2's own code for ``echo``: the event, and which version answered."""
    return {"statusCode": 200, "body": json.dumps({"version": 2, "event": event})}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    invoker = InProcessInvoker((ECHO, COUNTED), aliases=stage_aliases(API))
    gateway = Gateway(API, invoker, {}, api_id="abc123", access_log=None)
    transport = httpx.ASGITransport(app=gateway)
    async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1") as c:
        yield c


async def test_each_stage_runs_its_own_code_side_by_side(client: httpx.AsyncClient) -> None:
    v1 = await client.get("/v1/echo")
    v2 = await client.get("/v2/echo")
    beta = await client.get("/beta_3/echo")

    assert v1.status_code == v2.status_code == beta.status_code == 200
    assert "version" not in v1.json()
    assert v2.json()["version"] == 2
    assert beta.json()["requestContext"]["stage"] == "beta_3"


async def test_the_event_names_its_stage_and_carries_its_variables(
    client: httpx.AsyncClient,
) -> None:
    v1 = (await client.get("/v1/echo")).json()
    v2 = (await client.get("/v2/echo")).json()["event"]
    beta = (await client.get("/beta_3/echo")).json()

    assert (v1["requestContext"]["stage"], v1["stageVariables"]) == ("v1", {"color": "blue"})
    assert (v2["requestContext"]["stage"], v2["stageVariables"]) == ("v2", None)
    assert beta["stageVariables"] == {"color": "green", "tier": "beta"}
    assert (v2["path"], v2["requestContext"]["path"]) == ("/echo", "/v2/echo")


async def test_a_path_that_names_no_stage_is_missing_authentication_token(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/v3/echo", "/echo", "/V1/echo", "/v1x/echo", "/"):
        response = await client.get(path)

        assert response.status_code == 403, path
        assert response.json() == {"message": "Missing Authentication Token"}


async def test_each_stage_caches_in_its_own_cache_or_not_at_all(
    client: httpx.AsyncClient,
) -> None:
    # Given v1 (the API's cache) has cached an answer
    first = (await client.get("/v1/counted")).json()["call"]
    assert (await client.get("/v1/counted")).json()["call"] == first
    # Then beta_3 (its own copy of the API's cache) does not serve it, but caches its own
    beta = (await client.get("/beta_3/counted")).json()["call"]
    assert beta != first
    assert (await client.get("/beta_3/counted")).json()["call"] == beta
    # And v2, whose cache keeps nothing (TTL 0), runs the function every time
    calls = [(await client.get("/v2/counted")).json()["call"] for _ in range(2)]
    assert len(set(calls)) == 2
    assert (await client.get("/v2/counted")).headers["x-overcast-cache"] == "Bypass"


async def test_stage_caches_are_kept_apart_by_stage() -> None:
    gateway = Gateway(
        API, InProcessInvoker((ECHO, COUNTED), stage_aliases(API)), {}, api_id="a", access_log=None
    )

    caches = gateway.stage_caches
    assert set(caches) == {"v1", "v2", "beta_3"}
    assert len({id(cache) for cache in caches.values()}) == 3
    assert gateway.stage_cache is caches["v1"]


async def test_an_api_of_one_stage_invokes_its_functions_unqualified() -> None:
    single = spec.Api(name="one", routes=ROUTES, stage="prod")

    assert stage_aliases(single) == {"echo": {}, "counted": {}}
    gateway = Gateway(single, InProcessInvoker((ECHO, COUNTED)), {}, api_id="a", access_log=None)
    transport = httpx.ASGITransport(app=gateway)
    async with httpx.AsyncClient(transport=transport, base_url="https://h") as client:
        event = (await client.get("/prod/echo")).json()

    assert (event["requestContext"]["stage"], event["stageVariables"]) == ("prod", None)


def test_every_stage_invokes_the_alias_named_after_it() -> None:
    assert stage_aliases(API) == {
        "echo": {"v1": ECHO.handler, "v2": V2_ECHO, "beta_3": ECHO.handler},
        "counted": {"v1": COUNTED.handler, "v2": COUNTED.handler, "beta_3": COUNTED.handler},
    }


async def test_a_write_through_any_stage_drops_what_every_stage_cached() -> None:
    # Given stages that share the tables: v1 and v2 cache, v3 does not
    api = spec.Api(
        name="shared",
        routes=(*ROUTES, spec.Route("PUT", "/counted", ECHO)),
        stage="v1",
        stages=(
            spec.Stage("v1", cache=spec.StageCache()),
            spec.Stage("v2", cache=spec.StageCache()),
            spec.Stage("v3"),
        ),
    )
    invoker = InProcessInvoker((ECHO, COUNTED), aliases=stage_aliases(api))
    gateway = Gateway(api, invoker, {}, api_id="a", access_log=None)
    transport = httpx.ASGITransport(app=gateway)
    async with httpx.AsyncClient(transport=transport, base_url="https://h") as client:

        async def read(stage: str) -> int:
            call: int = (await client.get(f"/{stage}/counted")).json()["call"]
            return call

        cached = {stage: await read(stage) for stage in ("v1", "v2")}
        assert {stage: await read(stage) for stage in ("v1", "v2")} == cached
        # When v3, which has no cache, writes
        assert (await client.put("/v3/counted", content=b"new")).status_code == 200
        # Then neither v1 nor v2 serves its old answer
        after_v3 = {stage: await read(stage) for stage in ("v1", "v2")}
        assert all(after_v3[stage] != cached[stage] for stage in cached)
        # And a write through v2 drops v1's answer too
        await client.put("/v2/counted", content=b"newer")
        assert await read("v1") != after_v3["v1"]
