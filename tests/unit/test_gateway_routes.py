"""The route table matches requests to resources and methods as API Gateway does."""

from __future__ import annotations

import pytest

from overcast import spec
from overcast.local.gateway.routes import RouteMatch, RouteTable

FN = spec.Function(name="fn", handler="tests.fixtures.handlers:echo")


def table(*keys: str, cors: bool = False) -> RouteTable:
    routes = []
    for key in keys:
        method, path = key.split(" ")
        routes.append(spec.Route(method, path, FN))  # type: ignore[arg-type]
    return RouteTable(tuple(routes), cors_preflight=cors)


def key_of(found: RouteMatch | None) -> str | None:
    if found is None:
        return None
    return found.route.key if found.route else f"PREFLIGHT {found.resource.path}"


def test_literal_route_matches_without_parameters() -> None:
    found = table("GET /todos").match("GET", "/todos")

    assert key_of(found) == "GET /todos"
    assert found is not None
    assert found.path_parameters is None
    assert found.resource.path == "/todos"


def test_path_parameter_is_captured_and_url_decoded() -> None:
    found = table("GET /todos/{id}").match("GET", "/todos/a%2Fb%20c")

    assert found is not None
    assert found.path_parameters == {"id": "a/b c"}


def test_literal_segment_beats_parameter() -> None:
    routes = table("GET /todos/{id}", "GET /todos/today")

    assert key_of(routes.match("GET", "/todos/today")) == "GET /todos/today"
    assert key_of(routes.match("GET", "/todos/42")) == "GET /todos/{id}"


def test_parameter_beats_greedy_proxy() -> None:
    routes = table("GET /files/{name}", "GET /{proxy+}")

    assert key_of(routes.match("GET", "/files/a.txt")) == "GET /files/{name}"
    assert key_of(routes.match("GET", "/files/a/b.txt")) == "GET /{proxy+}"


def test_greedy_proxy_takes_the_rest_of_the_path_but_not_its_parent() -> None:
    routes = table("ANY /static/{path+}")

    found = routes.match("GET", "/static/css/site%20main.css")

    assert found is not None
    assert found.path_parameters == {"path": "css/site main.css"}
    assert routes.match("GET", "/static") is None
    assert routes.match("GET", "/static/") is None


def test_explicit_method_beats_any_on_the_same_resource() -> None:
    routes = table("ANY /todos", "DELETE /todos")

    assert key_of(routes.match("DELETE", "/todos")) == "DELETE /todos"
    assert key_of(routes.match("POST", "/todos")) == "ANY /todos"


def test_unserved_method_falls_back_to_a_less_specific_resource() -> None:
    routes = table("PATCH /users/me", "GET /users/{id}", "ANY /{proxy+}")

    assert key_of(routes.match("GET", "/users/me")) == "GET /users/{id}"
    assert key_of(routes.match("POST", "/users/me")) == "ANY /{proxy+}"


def test_unknown_path_or_method_matches_nothing() -> None:
    routes = table("GET /todos", "GET /todos/{id}")

    assert routes.match("GET", "/nothing") is None
    assert routes.match("POST", "/todos") is None
    assert routes.match("GET", "/todos/1/extra") is None
    assert routes.match("GET", "/todos//") is None


def test_trailing_slash_is_ignored() -> None:
    assert key_of(table("GET /todos").match("GET", "/todos/")) == "GET /todos"


def test_root_resource_is_its_own_route() -> None:
    routes = table("GET /", "GET /{proxy+}")

    assert key_of(routes.match("GET", "/")) == "GET /"
    assert key_of(routes.match("GET", "/x")) == "GET /{proxy+}"


def test_cors_preflight_answers_options_on_every_resource_including_parents() -> None:
    routes = table("GET /todos/{id}", cors=True)

    assert key_of(routes.match("OPTIONS", "/todos/1")) == "PREFLIGHT /todos/{id}"
    assert key_of(routes.match("OPTIONS", "/todos")) == "PREFLIGHT /todos"
    assert key_of(routes.match("OPTIONS", "/")) == "PREFLIGHT /"
    assert routes.match("OPTIONS", "/elsewhere") is None


def test_without_cors_options_is_not_served() -> None:
    assert table("GET /todos").match("OPTIONS", "/todos") is None


def test_resource_ids_are_stable_and_distinct() -> None:
    first = table("GET /a", "GET /b")
    second = table("GET /b", "GET /a")

    a = first.match("GET", "/a")
    b = first.match("GET", "/b")
    again = second.match("GET", "/a")
    assert a is not None
    assert b is not None
    assert again is not None
    assert a.resource.id == again.resource.id
    assert a.resource.id != b.resource.id


def test_two_variable_siblings_are_refused_as_api_gateway_does() -> None:
    with pytest.raises(spec.DeclarationError, match="only one"):
        table("GET /todos/{id}", "GET /todos/{name}/x")
    with pytest.raises(spec.DeclarationError, match="only one"):
        table("GET /todos/{id}", "GET /todos/{proxy+}")


def test_same_parameter_name_can_be_shared_by_nested_routes() -> None:
    routes = table("GET /todos/{id}", "GET /todos/{id}/items")

    found = routes.match("GET", "/todos/7/items")
    assert found is not None
    assert found.path_parameters == {"id": "7"}


def test_explicit_options_route_conflicts_with_declared_cors() -> None:
    with pytest.raises(spec.DeclarationError, match="OPTIONS"):
        table("OPTIONS /todos", cors=True)


def test_remembered_matches_stay_per_method_and_path_however_many_paths_come() -> None:
    routes = table("GET /things/{id}", "PUT /things/{id}")
    for number in range(5000):  # more paths than the table remembers
        path = f"/things/{number % 4500}"
        assert key_of(routes.match("GET", path)) == "GET /things/{id}"
        assert key_of(routes.match("PUT", path)) == "PUT /things/{id}"
        assert routes.match("DELETE", path) is None
    found = routes.match("GET", "/things/7")
    assert found is not None
    assert found.path_parameters == {"id": "7"}
