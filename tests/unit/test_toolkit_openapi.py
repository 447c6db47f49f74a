"""Each service's OpenAPI document, asked of its own function offline, and its Swagger UI."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from overcast import spec
from overcast.apps.blog import openapi as blog_docs
from overcast.apps.blog.service import api_function as blog_function
from overcast.apps.blog.service import blog_api
from overcast.apps.blog.service import service as blog_service
from overcast.apps.todo.handler import create_app
from overcast.apps.todo.service import service as todo_service
from overcast.apps.todo.service import todo_api
from overcast.runtime.config import resource_variable
from overcast.toolkit.openapi import (
    NOWHERE,
    OpenApiError,
    document_event,
    document_route,
    fetch_document,
    function_variables,
    server_url,
    with_server,
)
from tests.blog_fakes import memory_blog
from tests.todo_events import memory_folders, repository_on

FN = spec.Function("api", "somewhere.handler:handler")
_DOCUMENTATION = ("/openapi.json", "/swagger")


def _get(app: APIGatewayRestResolver, api: spec.Api, path: str) -> dict[str, Any]:
    event = document_event(api, now=0)
    event["path"] = event["resource"] = path
    event["requestContext"]["path"] = f"/{api.stage}{path}"
    answer: dict[str, Any] = app.resolve(event, None)
    return answer


def test_a_service_without_the_document_route_is_told_how_to_serve_one() -> None:
    service = spec.Service("plain", api=spec.Api("plain", routes=(spec.Route("GET", "/x", FN),)))

    with pytest.raises(OpenApiError, match=r"declares no GET /openapi.json.*spec.Route"):
        document_route(service)
    with pytest.raises(OpenApiError, match="declares no API"):
        document_route(spec.Service("quiet"))


def test_the_document_is_asked_for_with_api_gateways_rest_event() -> None:
    event = document_event(todo_api, now=1_700_000_000)

    assert (event["httpMethod"], event["path"], event["resource"]) == (
        "GET",
        "/openapi.json",
        "/openapi.json",
    )
    assert event["requestContext"]["path"] == "/v1/openapi.json"
    assert event["requestContext"]["stage"] == "v1"
    assert "authorizer" not in event["requestContext"]
    assert event["queryStringParameters"] is None
    assert event["body"] is None


def test_the_function_gets_placeholders_for_what_it_declares_and_no_reachable_aws(
    tmp_path: Path,
) -> None:
    variables = function_variables(blog_service, blog_function, tmp_path)

    assert variables["OVERCAST_BACKEND"] == "local"
    assert variables["OVERCAST_DATA_DIR"] == str(tmp_path)
    assert variables["OVERCAST_AWS_ENDPOINT"] == NOWHERE
    assert variables[resource_variable("TABLE", "blog")] == "blog-blog"
    assert variables[resource_variable("BUCKET", "photos")] == "blog-photos"
    assert resource_variable("USER_POOL", "readers") in variables
    assert resource_variable("USER_POOL_CLIENT", "readers-web") in variables


def test_the_todo_document_comes_from_its_function_with_its_security_scheme() -> None:
    document = fetch_document(todo_service)

    assert document["openapi"].startswith("3.")
    assert {"/todos", "/todos/{id}"} <= set(document["paths"])
    assert document["components"]["securitySchemes"]["cognitoIdToken"]["scheme"] == "bearer"
    assert not any(path.startswith(_DOCUMENTATION) for path in document["paths"])


def test_the_blog_document_describes_every_declared_route() -> None:
    document = fetch_document(blog_service)

    operations = {
        (method.upper(), re.sub(r"\{[^}]+\}", "{}", path)): operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }
    declared = {
        (route.method, re.sub(r"\{[^}]+\}", "{}", route.path))
        for route in blog_api.routes
        if not route.path.startswith(_DOCUMENTATION)
    }
    assert set(operations) == declared
    register = operations[("POST", "/api/users")]
    body = register["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/NewUserBody"}
    assert set(register["responses"]) == {"201", "409", "422", "503"}
    assert operations[("GET", "/api/user")]["security"] == [{"Token": []}]
    assert operations[("GET", "/api/articles")]["security"] == [{}, {"Token": []}]
    assert "security" not in operations[("GET", "/api/tags")]
    scheme = document["components"]["securitySchemes"]["Token"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")


def test_a_route_missing_from_the_blog_descriptions_is_refused() -> None:
    app = memory_blog().app

    @app.get("/api/undocumented")
    def undocumented() -> dict[str, str]:
        return {}

    with pytest.raises(LookupError, match="GET /api/undocumented"):
        blog_docs.build_document(app)


def test_a_users_service_function_that_fails_is_reported(tmp_path: Path) -> None:
    (tmp_path / "broken_api.py").write_text(
        "def handler(event, context):\n"
        "    return {'statusCode': 500, 'body': 'boom: ' + event['path']}\n"
    )
    function = spec.Function("api", "broken_api:handler")
    routes = (spec.Route("GET", "/openapi.json", function),)
    service = spec.Service("broken", api=spec.Api("broken", routes=routes))

    with pytest.raises(
        OpenApiError, match=r"answered GET /openapi\.json with 500: boom: /openapi\.json"
    ):
        fetch_document(service, [tmp_path])


def test_servers_name_the_running_api_else_the_stage_path() -> None:
    assert server_url(todo_service, None) == "/v1"
    assert server_url(todo_service, "https://127.0.0.1:4567/v1") == "https://127.0.0.1:4567/v1"
    document = with_server({"openapi": "3.1.0", "servers": [{"url": "/v1"}]}, "https://h/v1")
    assert document["servers"] == [{"url": "https://h/v1"}]


@pytest.mark.parametrize(
    ("app", "api"),
    [
        (lambda: create_app(repository_on(), memory_folders()), todo_api),
        (lambda: memory_blog().app, blog_api),
    ],
    ids=["todo", "blog"],
)
def test_the_swagger_page_works_offline_from_the_functions_own_files(
    app: Any, api: spec.Api
) -> None:
    resolver = app()

    page = _get(resolver, api, "/swagger")

    assert page["statusCode"] == 200
    assert page["multiValueHeaders"]["Content-Type"] == ["text/html; charset=utf-8"]
    links = re.findall(r"(?:src|href)='([^']*)'", page["body"])
    assert links == ["/v1/swagger-ui/swagger-ui.min.css", "/v1/swagger-ui/swagger-ui-bundle.min.js"]
    assert not re.search(r"(?:src|href)=['\"]?https?:", page["body"])
    assert '"openapi": "3.1.0"' in page["body"]
    for link, content_type in [(links[0], "text/css"), (links[1], "text/javascript")]:
        asset = _get(resolver, api, link.removeprefix("/v1"))
        assert asset["statusCode"] == 200
        assert asset["multiValueHeaders"]["Content-Type"] == [f"{content_type}; charset=utf-8"]
        assert len(asset["body"]) > 100_000


def test_queues_topics_calls_get_placeholders_and_smtp_and_sdks_reach_nothing(
    tmp_path: Path,
) -> None:
    jobs, done = spec.Queue("jobs"), spec.Topic("done")
    function = spec.Function("api", "x:handler", queues=(jobs,), topics=(done,), calls=("todo",))
    routes = (spec.Route("GET", "/openapi.json", function),)
    service = spec.Service(
        "shop", api=spec.Api("shop", routes=routes), queues=(jobs,), topics=(done,)
    )

    variables = function_variables(service, function, tmp_path)

    assert variables[resource_variable("QUEUE", "jobs")] == spec.queue_name("shop", jobs)
    assert variables[resource_variable("TOPIC", "done")] == spec.topic_name("shop", done)
    assert variables[resource_variable("API", "todo")].startswith(NOWHERE)
    assert variables["OVERCAST_SMTP"] == "127.0.0.1:9"
    assert variables["AWS_ENDPOINT_URL"] == NOWHERE


def test_the_document_comes_from_the_default_stages_own_code(tmp_path: Path) -> None:
    (tmp_path / "staged_api.py").write_text(
        "import json\n"
        "def old(event, context):\n"
        "    return {'statusCode': 500, 'body': 'the base code'}\n"
        "def new(event, context):\n"
        "    doc = {'openapi': '3.0.3', 'info': {'title': 'v2', 'version': '2'}, 'paths': {}}\n"
        "    return {'statusCode': 200, 'body': json.dumps(doc)}\n"
    )
    function = spec.Function("api", "staged_api:old")
    routes = (spec.Route("GET", "/openapi.json", function),)
    api = spec.Api(
        "staged",
        routes=routes,
        stage="v2",
        stages=(spec.Stage("v1"), spec.Stage("v2", handlers={"api": "staged_api:new"})),
    )

    document = fetch_document(spec.Service("staged", api=api), [tmp_path])

    assert document["info"]["title"] == "v2"
