"""The admin API answers only the bearer of the data directory's token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from overcast import spec
from overcast.local.admin import AdminApp, ServiceCaches, write_admin_token
from overcast.local.functions.stats import ReadCacheStats
from overcast.local.gateway.stagecache import StageCache
from overcast.local.stats_render import print_stats

pytestmark = pytest.mark.anyio

FN = spec.Function("fn", "m:handler")
API = spec.Api("shop", routes=(spec.Route("GET", "/items", FN),), cache=spec.StageCache())
TOKEN = "the-token"


class NoEnvironments:
    def environments(self) -> list[Any]:
        return []


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def stage_cache() -> StageCache:
    return StageCache(API, max_bytes=1024)


@pytest.fixture
def v2_cache() -> StageCache:
    return StageCache(API, max_bytes=2048)


@pytest.fixture
async def client(stage_cache: StageCache, v2_cache: StageCache) -> AsyncIterator[httpx.AsyncClient]:
    stages = {"v1": stage_cache, "v2": v2_cache}
    services = {
        "shop": ServiceCaches(stage_cache, ReadCacheStats(NoEnvironments()), stages),
        "plain": ServiceCaches(None, ReadCacheStats(NoEnvironments())),
    }
    transport = httpx.ASGITransport(app=AdminApp(TOKEN, services))
    async with httpx.AsyncClient(transport=transport, base_url="https://aws") as c:
        yield c


BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Authorization": "Bearer"}],
)
async def test_requests_without_the_token_are_refused(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    for method, path in (("GET", "/_overcast/stats"), ("POST", "/_overcast/stage-cache/flush")):
        response = await client.request(method, path, params={"service": "shop"}, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


async def test_stats_report_each_service(client: httpx.AsyncClient) -> None:
    response = await client.get("/_overcast/stats", headers=BEARER)
    assert response.status_code == 200
    services = response.json()["services"]
    assert services["plain"] == {"stage_cache": None, "stages": {}, "read_caches": {}}
    assert services["shop"]["stage_cache"]["routes"]["GET /items"]["ttl_seconds"] == 300
    assert services["shop"]["stage_cache"]["capacity_bytes"] == 1024


async def test_flush_needs_a_service_with_a_stage_cache(client: httpx.AsyncClient) -> None:
    flushed = await client.post(
        "/_overcast/stage-cache/flush", params={"service": "shop"}, headers=BEARER
    )
    assert flushed.json() == {"service": "shop", "flushed": 0}
    for service in ("plain", "nothing"):
        refused = await client.post(
            "/_overcast/stage-cache/flush", params={"service": service}, headers=BEARER
        )
        assert refused.status_code == 404
        assert "there are ['shop']" in refused.json()["message"]
    assert (await client.get("/_overcast/nothing", headers=BEARER)).status_code == 404


async def test_each_stage_has_its_figures_and_its_own_flush(
    client: httpx.AsyncClient, v2_cache: StageCache
) -> None:
    stats = (await client.get("/_overcast/stats", headers=BEARER)).json()
    stages = stats["services"]["shop"]["stages"]
    assert {name: each["capacity_bytes"] for name, each in stages.items()} == {
        "v1": 1024,
        "v2": 2048,
    }
    flush = "/_overcast/stage-cache/flush"
    flushed = await client.post(flush, params={"service": "shop", "stage": "v2"}, headers=BEARER)
    assert flushed.json() == {"service": "shop", "flushed": 0}
    unknown = await client.post(flush, params={"service": "shop", "stage": "v9"}, headers=BEARER)
    assert unknown.status_code == 404
    assert "['v1', 'v2']" in unknown.json()["message"]


async def test_a_cache_only_on_a_non_default_stage_can_be_flushed_and_shown() -> None:
    v2_only = StageCache(API, max_bytes=4096)
    services = {"shop": ServiceCaches(None, ReadCacheStats(NoEnvironments()), {"v2": v2_only})}
    transport = httpx.ASGITransport(app=AdminApp(TOKEN, services))
    async with httpx.AsyncClient(transport=transport, base_url="https://aws") as c:
        flush = "/_overcast/stage-cache/flush"
        flushed = await c.post(flush, params={"service": "shop", "stage": "v2"}, headers=BEARER)
        default = await c.post(flush, params={"service": "shop"}, headers=BEARER)
        stats = (await c.get("/_overcast/stats", headers=BEARER)).json()

    assert flushed.json() == {"service": "shop", "flushed": 0}
    assert default.status_code == 404
    assert "default stage" in default.json()["message"]
    assert "['v2']" in default.json()["message"]
    console = Console(record=True, width=200)
    print_stats(stats, console)
    assert "shop API v2 stage cache" in console.export_text()


def test_each_start_writes_a_fresh_token_only_its_owner_can_read(tmp_path: Path) -> None:
    first = write_admin_token(tmp_path)
    second = write_admin_token(tmp_path)
    assert first != second
    assert len(second) >= 40
    assert (tmp_path / "admin-token").read_text() == second
    assert (tmp_path / "admin-token").stat().st_mode & 0o777 == 0o600
