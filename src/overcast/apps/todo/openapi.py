"""The to-do API's OpenAPI document: security scheme, response descriptions, and its route.

Powertools generates the document from the routes' type hints (bodies, parameters,
return types); this module adds what hints cannot say: that the API wants a Cognito
ID token (API Gateway's Cognito user pool authorizer reads it from the
``Authorization`` header, ``Bearer`` prefix optional), which headers come back, and
which errors each route may answer. ``GET /openapi.json`` serves the document
without authentication; it is generated once, on its first request.

``GET /swagger`` is a Swagger UI page of the same document, and works offline: its
script and style sheet are Swagger UI 5 as Powertools ships it, served by this
function (``GET /swagger-ui/<file>``), never a CDN. (The ``swagger-ui-bundle``
package holds Swagger UI 4.15, which cannot render OpenAPI 3.1, the version
Powertools writes.) The asset URLs carry the path prefix the caller used (the
stage, ``/v1``), read from ``requestContext.path``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi import swagger_ui
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server
from aws_lambda_powertools.event_handler.openapi.types import (
    OpenAPIResponse,
    OpenAPIResponseContentModel,
    OpenAPIResponseHeader,
)
from pydantic import BaseModel

from overcast.apps.todo import service
from overcast.apps.todo.domain import Todo

SECURITY_SCHEME = "cognitoIdToken"
SIGNED_IN: list[dict[str, list[str]]] = [{SECURITY_SCHEME: []}]
DOCUMENT_PATH = "/openapi.json"
SWAGGER_PATH = "/swagger"
SWAGGER_ASSETS = "/swagger-ui"
# The files Powertools' Swagger page asks for under its base URL, and their types.
SWAGGER_FILES = {"swagger-ui-bundle.min.js": "text/javascript", "swagger-ui.min.css": "text/css"}
_SWAGGER_DIR = Path(swagger_ui.__file__).parent
_JSON = content_types.APPLICATION_JSON


class ErrorMessage(BaseModel):
    """An error response body."""

    message: str


_ERRORS = {
    400: "Malformed JSON body or bad cursor",
    401: "No valid ID token",
    404: "No such to-do for this user",
    412: "If-Match does not match the to-do's current ETag",
}
_ETAG: OpenAPIResponseHeader = {
    "description": 'The to-do\'s version as a strong ETag, e.g. "3"; send it back in If-Match.',
    "schema": {"type": "string"},
}
_LOCATION: OpenAPIResponseHeader = {
    "description": "The new to-do's URL path.",
    "schema": {"type": "string"},
}
CREATED: OpenAPIResponse = {
    "description": "The new to-do",
    "headers": {"ETag": _ETAG, "Location": _LOCATION},
}
ONE_TODO: OpenAPIResponse = {"description": "The to-do", "headers": {"ETag": _ETAG}}
# For a route whose return type does not carry the model (it returns serialized JSON).
ONE_TODO_BODY: OpenAPIResponse = {**ONE_TODO, "content": {_JSON: {"model": Todo}}}
LISTED: OpenAPIResponse = {"description": "A page of to-dos, newest first"}
DELETED: OpenAPIResponse = {"description": "Deleted", "content": {}}


def responses(status: int, success: OpenAPIResponse, *errors: int) -> dict[int, OpenAPIResponse]:
    """The success response (its body is the route's return type) and the errors it may send."""
    content: dict[str, OpenAPIResponseContentModel] = {_JSON: {"model": ErrorMessage}}
    failures: dict[int, OpenAPIResponse] = {
        error: {"description": _ERRORS[error], "content": dict(content)} for error in errors
    }
    return {status: success, **failures}


def configure_openapi(app: APIGatewayRestResolver) -> None:
    """Title, server (the stage's base path) and the ID token security scheme."""
    bearer = HTTPBearer(
        bearerFormat="JWT",
        description="The Cognito ID token of a user of the `users` pool (`Bearer` is optional).",
    )
    app.configure_openapi(
        title="MyToDoList",
        version="1.0.0",
        description=service.service.description,
        servers=[Server(url=f"/{service.todo_api.stage}")],
        security_schemes={SECURITY_SCHEME: bearer},
    )


def add_document_routes(app: APIGatewayRestResolver) -> None:
    """``GET /openapi.json`` (generated on first request and kept) and its Swagger UI."""
    document = functools.cache(app.get_openapi_json_schema)

    @app.get(DOCUMENT_PATH, include_in_schema=False, enable_validation=False)
    def openapi_document() -> Response[str]:
        return Response(status_code=200, content_type=_JSON, body=document())

    add_swagger_routes(app, document)


def add_swagger_routes(app: APIGatewayRestResolver, document: Callable[[], str]) -> None:
    """``GET /swagger``: Swagger UI on ``document``, its script and styles served here."""

    @app.get(SWAGGER_PATH, include_in_schema=False, enable_validation=False)
    def swagger_page() -> Response[str]:
        base = _path_prefix(app) + SWAGGER_ASSETS
        # As Powertools does: "</" inside the inline script would end it early.
        spec = document().replace("</", "<\\/")
        page = swagger_ui.generate_swagger_html(
            spec, f"{base}/swagger-ui-bundle.min.js", f"{base}/swagger-ui.min.css", base, None
        )
        return Response(status_code=200, content_type="text/html; charset=utf-8", body=page)

    for name, content_type in SWAGGER_FILES.items():
        _add_swagger_file(app, name, content_type)


def _add_swagger_file(app: APIGatewayRestResolver, name: str, content_type: str) -> None:
    content = functools.cache((_SWAGGER_DIR / name).read_bytes)

    @app.get(f"{SWAGGER_ASSETS}/{name}", include_in_schema=False, enable_validation=False)
    def swagger_file() -> Response[str]:
        return Response(
            status_code=200,
            content_type=f"{content_type}; charset=utf-8",
            body=content().decode("utf-8"),
            headers={"Cache-Control": "public, max-age=86400"},
        )


def _path_prefix(app: APIGatewayRestResolver) -> str:
    # requestContext.path is the path the caller used ("/v1/swagger"), event.path the
    # resource's ("/swagger"): what precedes it is the stage (or a base path mapping).
    event = app.current_event
    used = event.request_context.get("path") or event.path
    return used[: -len(event.path)] if used.endswith(event.path) else ""
