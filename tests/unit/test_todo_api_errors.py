"""Bad requests to the to-do API, its CORS headers and its OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest

from overcast.apps.todo.handler import cors_config, expected_version
from overcast.apps.todo.service import todo_api
from overcast.spec import Cors
from tests.todo_events import TodoApi, memory_api

ORIGIN = "https://app.example.com"


@pytest.fixture
def api() -> TodoApi:
    return memory_api()


@pytest.mark.parametrize("body", ["{not json", '{"title": "x",}', "[1, 2"])
def test_malformed_json_is_400_and_creates_nothing(api: TodoApi, body: str) -> None:
    response = api.call("POST", "/todos", body=body, headers={"Content-Type": "application/json"})

    assert response.status == 400
    assert response.message.startswith("The request body is not valid JSON")
    assert api.list().body["items"] == []


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        (
            {"title": 7, "completed": "yes"},
            {"body.title": "string_type", "body.completed": "bool_type"},
        ),
        ({"notes": "no title"}, {"body.title": "missing"}),
        ({"title": "t", "owner": "user-b"}, {"body.owner": "extra_forbidden"}),
        ({"title": "x" * 501}, {"body.title": "string_too_long"}),
        ({"title": "   "}, {"body.title": "string_too_short"}),
        ({"title": "t", "due_date": "tomorrow"}, {"body.due_date": "date_type"}),
        (["title"], {"body": "model_attributes_type"}),
    ],
)
def test_an_invalid_body_is_422_naming_each_field(
    api: TodoApi, body: Any, problems: dict[str, str]
) -> None:
    response = api.call("POST", "/todos", body=body)

    assert response.status == 422
    found = {".".join(map(str, p["loc"])): p["type"] for p in response.body["detail"]}
    assert found == problems
    assert all(field in response.message for field in problems)
    assert api.list().body["items"] == []


@pytest.mark.parametrize("body", [None, ""])
def test_a_missing_body_is_422(api: TodoApi, body: str | None) -> None:
    response = api.call("POST", "/todos", body=body)

    assert (response.status, response.body["detail"][0]["loc"]) == (422, ["body"])


def test_an_invalid_patch_is_422_and_changes_nothing(api: TodoApi) -> None:
    created = api.create()

    responses = [
        api.item("PATCH", created["id"], body=body)
        for body in ({"title": None}, {}, {"completed": 1}, {"version": 9})
    ]

    assert [response.status for response in responses] == [422, 422, 422, 422]
    assert api.item("GET", created["id"]).body == created


def test_a_put_missing_a_required_field_is_422(api: TodoApi) -> None:
    created = api.create()

    response = api.item("PUT", created["id"], body={"title": "No completed"})

    assert response.status == 422
    assert response.body["detail"][0]["loc"] == ["body", "completed"]


def test_a_body_that_is_not_json_by_content_type_is_415(api: TodoApi) -> None:
    response = api.call("POST", "/todos", body="title=x", headers={"Content-Type": "text/plain"})

    assert response.status == 415
    assert "application/json" in response.message


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"completed": "yes"}, "completed"),
    ],
)
def test_bad_list_parameters_are_422(api: TodoApi, query: dict[str, str], field: str) -> None:
    response = api.list(**query)

    assert response.status == 422
    assert response.body["detail"][0]["loc"] == ["query", field]


@pytest.mark.parametrize("cursor", ["garbage", "eyJpIjpudWxsfQ", "01ARYZ6S41TSV4RRFFQ69G5FA"])
def test_a_bad_cursor_is_400(api: TodoApi, cursor: str) -> None:
    response = api.list(cursor=cursor)

    assert response.status == 400
    assert "cursor" in response.message


@pytest.mark.parametrize(
    ("method", "resource"), [("GET", "/todos"), ("POST", "/todos"), ("GET", "/todos/{id}")]
)
def test_a_request_without_claims_is_401(api: TodoApi, method: str, resource: str) -> None:
    response = api.as_user(None).call(
        method, resource, path_parameters={"id": "x"}, body={"title": "t"}
    )

    assert (response.status, response.message) == (401, "Unauthorized")


def test_responses_carry_cors_headers_from_the_declaration(api: TodoApi) -> None:
    created = api.call("POST", "/todos", body={"title": "t"}, headers={"Origin": ORIGIN})
    missing = api.item("GET", "nope", headers={"Origin": ORIGIN})

    for response in (created, missing):
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.headers["Access-Control-Expose-Headers"] == "ETag"
        assert "If-Match" in response.headers["Access-Control-Allow-Headers"]


def test_a_preflight_is_answered_204_with_the_allowed_methods(api: TodoApi) -> None:
    response = api.as_user(None).call(
        "OPTIONS",
        "/todos/{id}",
        path_parameters={"id": "x"},
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "PATCH"},
    )

    assert response.status == 204
    assert set(response.headers["Access-Control-Allow-Methods"].split(",")) >= {"PATCH", "DELETE"}
    assert response.headers["Access-Control-Max-Age"] == "600"


def test_cors_config_follows_a_declared_origin_list() -> None:
    cors = Cors(allow_origins=("https://a.example", "https://b.example"), allow_credentials=True)

    config = cors_config(cors)

    assert config is not None
    assert config.to_dict("https://b.example")["Access-Control-Allow-Credentials"] == "true"
    assert config.to_dict("https://evil.example") == {}
    assert cors_config(None) is None


@pytest.mark.parametrize(
    ("header", "version"),
    [(None, None), ("*", None), (' "12" ', 12), ('W/"12"', 0), ('"0"', 0), ("12", 0)],
)
def test_if_match_names_a_version_only_as_a_strong_etag(header: str | None, version: int) -> None:
    assert expected_version(header) == version


def test_the_openapi_document_is_public_and_describes_the_declared_routes(api: TodoApi) -> None:
    response = api.as_user(None).call("GET", "/openapi.json")

    document = response.body
    assert response.status == 200
    assert document["openapi"].startswith("3.")
    operations = {
        f"{method.upper()} {path}": operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }
    # The document and its Swagger UI are not operations of the API.
    documentation = ("/openapi.json", "/swagger")
    declared = {
        route.key: route for route in todo_api.routes if not route.path.startswith(documentation)
    }
    assert set(operations) == set(declared)
    for key, operation in operations.items():
        assert (operation.get("security") == [{"cognitoIdToken": []}]) == bool(
            declared[key].authorizer
        )
    scheme = document["components"]["securitySchemes"]["cognitoIdToken"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")


def test_the_openapi_document_describes_bodies_and_errors(api: TodoApi) -> None:
    document = api.call("GET", "/openapi.json").body

    create = document["paths"]["/todos"]["post"]
    schemas = document["components"]["schemas"]
    assert "201" in create["responses"]
    assert schemas["TodoCreate"]["additionalProperties"] is False
    assert schemas["TodoCreate"]["required"] == ["title"]
    read = document["paths"]["/todos/{id}"]["get"]["responses"]
    assert "404" in read
    assert read["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Todo")
    assert "Todo" in schemas
    parameters = {p["name"].lower() for p in document["paths"]["/todos/{id}"]["put"]["parameters"]}
    assert parameters == {"id", "if-match"}
