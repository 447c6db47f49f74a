"""The to-do API's OpenAPI document: security scheme, response descriptions, and its route.

Powertools generates the document from the routes' type hints (bodies, parameters,
return types); this module adds what hints cannot say: that the API wants a Cognito
ID token (API Gateway's Cognito user pool authorizer reads it from the
``Authorization`` header, ``Bearer`` prefix optional), which headers come back, and
which errors each route may answer. ``GET /openapi.json`` serves the document
without authentication; it is generated once, on its first request.

``GET /swagger`` is a Swagger UI page of the same document, served offline by this
function (:mod:`overcast.swagger`).
"""

from __future__ import annotations

import functools

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server
from aws_lambda_powertools.event_handler.openapi.types import (
    OpenAPIResponse,
    OpenAPIResponseContentModel,
    OpenAPIResponseHeader,
)
from pydantic import BaseModel

from overcast.apps.todo import service
from overcast.apps.todo.domain import Todo
from overcast.swagger import add_swagger_routes

SECURITY_SCHEME = "cognitoIdToken"
SIGNED_IN: list[dict[str, list[str]]] = [{SECURITY_SCHEME: []}]
DOCUMENT_PATH = "/openapi.json"
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
