"""Cache declarations check themselves: a stage cache that would leak one user's data to
another is refused, with the leak explained and the fix named."""

from __future__ import annotations

from typing import Any

import pytest

from overcast import spec
from overcast.spec import CALLER, Api, DeclarationError, Route, RouteCache, StageCache

FN = spec.Function("fn", handler="m:handler")
SIGNED_IN = spec.CognitoAuthorizer(spec.UserPool("users"))


def cached_api(*routes: Route, **stage: Any) -> Api:
    return Api("shop", routes=routes, cache=StageCache(**stage))


def test_a_cached_authorized_route_without_the_caller_in_its_key_is_refused() -> None:
    with pytest.raises(DeclarationError) as refused:
        cached_api(Route("GET", "/orders", FN, SIGNED_IN))
    message = str(refused.value)
    assert "'GET /orders'" in message
    assert "leaves the Authorization header out of the cache key" in message
    assert "served to every other user" in message
    assert "for up to 300 s" in message
    assert "method.request.header.Authorization" in message
    assert "RouteCache(ttl_seconds=0)" in message


def test_keying_by_the_caller_or_turning_caching_off_is_accepted() -> None:
    mine = cached_api(Route("GET", "/orders", FN, SIGNED_IN, cache=RouteCache((CALLER,))))
    lowercase = RouteCache(("method.request.header.authorization",))
    also_mine = cached_api(Route("GET", "/orders", FN, SIGNED_IN, cache=lowercase))
    off = cached_api(Route("GET", "/orders", FN, SIGNED_IN, cache=RouteCache(ttl_seconds=0)))
    no_stage_ttl = cached_api(Route("GET", "/orders", FN, SIGNED_IN), ttl_seconds=0)
    assert [api.cache_ttl(api.routes[0]) for api in (mine, also_mine, off, no_stage_ttl)] == [
        300,
        300,
        0,
        0,
    ]


def test_a_cached_route_must_key_by_each_of_its_path_parameters() -> None:
    with pytest.raises(DeclarationError, match="lacks the path parameter 'id'"):
        cached_api(Route("GET", "/items/{id}", FN))
    keyed = RouteCache(("method.request.path.id",))
    assert cached_api(Route("GET", "/items/{id}", FN, cache=keyed)).routes[0].cache == keyed


def test_only_get_methods_are_cached() -> None:
    with pytest.raises(DeclarationError, match="only GET methods can be cached"):
        Route("POST", "/items", FN, cache=RouteCache())
    api = cached_api(Route("POST", "/items", FN, SIGNED_IN), Route("GET", "/items", FN))
    assert [api.cache_ttl(route) for route in api.routes] == [0, 300]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: StageCache(ttl_seconds=3601), "0-3600 seconds"),
        (lambda: StageCache(ttl_seconds=-1), "0-3600 seconds"),
        (lambda: RouteCache(ttl_seconds=4000), "0-3600 seconds"),
        (lambda: StageCache(size_gb="1"), "not an API Gateway cache size"),
        (lambda: RouteCache(("path.id",)), "must look like 'method.request.path.<name>'"),
        (lambda: RouteCache(("method.request.body",)), "must look like"),
        (lambda: RouteCache((CALLER, "method.request.header.AUTHORIZATION")), "declared twice"),
        (
            lambda: Route("GET", "/items", FN, cache=RouteCache(("method.request.path.id",))),
            "names no path parameter",
        ),
        (lambda: Api("a", routes=(Route("GET", "/x", FN, cache=RouteCache()),)), "no stage cache"),
        (lambda: spec.ReadCache(item_ttl_seconds=-1), "0 seconds or more"),
        (lambda: spec.ReadCache(max_items=0), "at least 1"),
    ],
)
def test_invalid_cache_declarations_are_refused(build: Any, message: str) -> None:
    with pytest.raises(DeclarationError, match=message):
        build()


def test_the_todo_api_caches_each_users_reads_by_caller() -> None:
    from overcast.apps.todo.service import todo_api, todos_table

    assert todos_table.read_cache == spec.ReadCache()
    cached = {route.key: route for route in todo_api.routes if todo_api.cache_ttl(route)}
    assert set(cached) == {"GET /todos", "GET /todos/{id}", "GET /openapi.json"}
    for key in ("GET /todos", "GET /todos/{id}"):
        assert cached[key].keys_by_caller()
