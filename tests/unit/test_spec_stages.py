"""Declaring an API's stages: versions side by side, each with its own code and settings."""

from __future__ import annotations

from typing import Any

import pytest

from overcast import spec
from overcast.spec import Api, DeclarationError, Function, Route, Stage, StageCache

FN = Function("api", "app.handler:handler")
OTHER = Function("other", "app.other:handler")
ROUTES = (Route("GET", "/things", FN), Route("POST", "/things", OTHER))


def test_an_api_without_stages_has_its_one_stage() -> None:
    api = Api("shop", ROUTES, stage="prod", cache=StageCache(ttl_seconds=60))

    assert [stage.name for stage in api.all_stages] == ["prod"]
    assert api.default_stage == Stage("prod")
    assert api.cache_for() == StageCache(ttl_seconds=60)


def test_each_stage_runs_its_own_handler_or_the_functions_own() -> None:
    v2 = Stage("v2", handlers={"api": "app.handler_v2:handler"})

    assert v2.handler_of(FN) == "app.handler_v2:handler"
    assert v2.handler_of(OTHER) == OTHER.handler
    assert v2.function(FN) == Function("api", "app.handler_v2:handler")
    assert v2.function(OTHER) is OTHER
    assert not Stage("v1").runs_own_code(FN)


def test_the_default_stage_is_the_one_named_by_stage() -> None:
    api = Api("shop", ROUTES, stage="v2", stages=(Stage("v1"), Stage("v2")))

    assert api.default_stage.name == "v2"
    assert [stage.name for stage in api.all_stages] == ["v1", "v2"]


def test_a_stage_without_a_cache_of_its_own_takes_the_apis() -> None:
    own = StageCache(ttl_seconds=30)
    cached = Route("GET", "/things", FN)
    api = Api(
        "shop",
        (cached,),
        cache=StageCache(ttl_seconds=600),
        stages=(Stage("v1"), Stage("v2", cache=own)),
    )
    v1, v2 = api.all_stages

    assert (api.cache_ttl(cached, v1), api.cache_ttl(cached, v2)) == (600, 30)
    assert api.cache_for(v2) == own


def test_a_route_may_be_cached_when_only_one_stage_has_a_cache() -> None:
    keyed = spec.RouteCache(key_parameters=("method.request.querystring.q",))
    route = Route("GET", "/things", FN, cache=keyed)

    api = Api("shop", (route,), stages=(Stage("v1"), Stage("v2", cache=StageCache())))

    assert [api.cache_ttl(route, stage) for stage in api.all_stages] == [0, 300]


def test_a_declaration_is_read_only_once_built() -> None:
    handlers = {"api": "app.handler_v2:handler"}
    stage = Stage("v2", handlers=handlers, variables={"color": "blue"})
    handlers["api"] = "app.elsewhere:handler"

    assert stage.handler_of(FN) == "app.handler_v2:handler"
    with pytest.raises(TypeError):
        stage.variables["color"] = "red"  # type: ignore[index]
    assert hash(stage) == hash(
        Stage("v2", handlers={"api": "app.handler_v2:handler"}, variables={"color": "blue"})
    )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Stage("v 2"), "letters, digits, hyphens and underscores"),
        (lambda: Stage("x" * 129), "1-128"),
        (lambda: Stage(""), "1-128"),
        (lambda: Stage("v2", handlers={"api": "not a handler"}), "package.module:function"),
        (lambda: Stage("v2", variables={"bad-name": "x"}), "stage variable"),
        (lambda: Stage("v2", variables={"name": "sp ace"}), "stage variable"),
        (lambda: Stage("v2", variables={"name": ""}), "stage variable"),
        (
            lambda: Api("shop", ROUTES, stages=(Stage("v1"), Stage("v1"))),
            "stage name twice",
        ),
        (lambda: Api("shop", ROUTES, stages=(Stage("prod"),)), "is not among its stages"),
        (
            lambda: Api("shop", ROUTES, stages=(Stage("v1", handlers={"nope": "a.b:c"}),)),
            "'nope', which no route of the API uses",
        ),
        (
            lambda: Api(
                "shop",
                (Route("GET", "/x/{id}", FN),),
                stages=(Stage("v1"), Stage("v2", cache=StageCache())),
            ),
            "lacks the path parameter 'id'",
        ),
    ],
)
def test_invalid_stages_are_refused(build: Any, message: str) -> None:
    with pytest.raises(DeclarationError, match=message):
        build()


def test_stage_names_allow_what_api_gateway_allows() -> None:
    assert Stage("Prod_2-beta").name == "Prod_2-beta"
    assert Stage("v2", variables={"Url_1": "https://x.example/a?b=c&d=e#f,g~h"}).variables


def test_the_todo_api_serves_v1_and_v2_side_by_side() -> None:
    from overcast.apps.todo.service import api_function, todo_api

    v1, v2 = todo_api.all_stages
    assert todo_api.default_stage == v1
    assert v1.handler_of(api_function) == api_function.handler
    assert v2.handler_of(api_function) == "overcast.apps.todo.handler_v2:handler"
    assert (v1.variables, v2.variables) == ({"version": "1"}, {"version": "2"})
