"""API Gateway REST proxy (v1) events for the to-do API, made from AWS's sample event.

:func:`rest_event` copies a base event (``tests/events/api_gateway_rest_proxy.json``)
and sets what API Gateway sets for one request: method, resource and path, path
parameters, headers (single- and multi-value), query string (single- and
multi-value), body, the stage's ``requestContext`` and the Cognito authorizer's
claims — strings, as API Gateway passes them. :class:`TodoApi` sends such events to
a handler and reads the proxy response back; :func:`memory_api` builds the app on
an in-memory table with a :class:`ManualClock`.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from overcast.apps.todo.attachments import AttachmentFolders
from overcast.apps.todo.domain import UlidFactory
from overcast.apps.todo.handler import create_app
from overcast.apps.todo.repository import TodoRepository
from overcast.apps.todo.service import todos_table
from overcast.ports.identities.memory import MemoryIdentityDirectory
from overcast.ports.tables import Table
from overcast.ports.tables.memory import MemoryTable

SAMPLE_EVENT = Path(__file__).parent / "events" / "api_gateway_rest_proxy.json"
STAGE = "v1"
_request_ids = itertools.count(1)


def load_sample_event() -> dict[str, Any]:
    """AWS's sample REST proxy event."""
    event: dict[str, Any] = json.loads(SAMPLE_EVENT.read_text())
    return event


def id_token_claims(sub: str, email: str | None = None) -> dict[str, str]:
    """The claims of a Cognito ID token as the user pool authorizer passes them: strings."""
    return {
        "sub": sub,
        "email": email or f"{sub}@example.com",
        "email_verified": "true",
        "cognito:username": sub,
        "aud": "web-client-id",
        "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_example",
        "token_use": "id",
        "auth_time": "1700000000",
        "iat": "1700000000",
        "exp": "1700003600",
    }


def rest_event(
    base: Mapping[str, Any],
    method: str,
    resource: str,
    *,
    path_parameters: Mapping[str, str] | None = None,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    claims: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``base`` as API Gateway would send ``method resource`` (``/todos/{id}``) to a proxy.

    ``body`` that is not a string is sent as JSON with ``Content-Type: application/json``
    (unless ``headers`` says otherwise); a string is sent as is.
    """
    event = copy.deepcopy(dict(base))
    path = resource
    for name, value in (path_parameters or {}).items():
        path = path.replace(f"{{{name}}}", value)
    all_headers = dict(headers or {})
    if body is not None and not isinstance(body, str):
        body = json.dumps(body)
        all_headers.setdefault("Content-Type", "application/json")
    event.update(
        httpMethod=method,
        resource=resource,
        path=path,
        pathParameters=dict(path_parameters) if path_parameters else None,
        body=body,
        isBase64Encoded=False,
        headers=all_headers or None,
        multiValueHeaders={name: [value] for name, value in all_headers.items()} or None,
        queryStringParameters=dict(query) if query else None,
        multiValueQueryStringParameters={k: [v] for k, v in query.items()} if query else None,
    )
    context = event["requestContext"]
    context.update(
        httpMethod=method,
        resourcePath=resource,
        path=f"/{STAGE}{path}",
        stage=STAGE,
        requestId=f"request-{next(_request_ids)}",
        authorizer={"claims": dict(claims)} if claims else {"claims": None, "scopes": None},
    )
    return event


@dataclass(frozen=True)
class LambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    function_name: str = "todo-api"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:todo-api"
    memory_limit_in_mb: int = 256
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    log_group_name: str = "/aws/lambda/todo-api"
    log_stream_name: str = "2024/01/01/[$LATEST]abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


@dataclass(frozen=True)
class ApiResponse:
    """A proxy response, decoded."""

    status: int
    headers: dict[str, str]
    body: Any

    @property
    def message(self) -> str:
        return str(self.body["message"])


@dataclass
class TodoApi:
    """Calls ``resolve(event, context)`` as one signed-in user (or nobody, with ``sub=None``)."""

    resolve: Callable[[dict[str, Any], Any], dict[str, Any]]
    sub: str | None = "user-a"
    base: dict[str, Any] = field(default_factory=load_sample_event)

    def as_user(self, sub: str | None) -> TodoApi:
        return TodoApi(self.resolve, sub, self.base)

    def call(self, method: str, resource: str, **options: Any) -> ApiResponse:
        claims = id_token_claims(self.sub) if self.sub else None
        if self.sub:
            options["headers"] = {
                "Authorization": id_token_of(self.sub),
                **options.get("headers", {}),
            }
        event = rest_event(self.base, method, resource, claims=claims, **options)
        return decode(self.resolve(event, LambdaContext()))

    def create(self, **fields: Any) -> dict[str, Any]:
        response = self.call("POST", "/todos", body={"title": "A to-do", **fields})
        assert response.status == 201, response.body
        created: dict[str, Any] = response.body
        return created

    def item(self, method: str, todo_id: str, **options: Any) -> ApiResponse:
        return self.call(method, "/todos/{id}", path_parameters={"id": todo_id}, **options)

    def list(self, **query: str) -> ApiResponse:
        return self.call("GET", "/todos", query=query or None)


def decode(response: Mapping[str, Any]) -> ApiResponse:
    """Status, headers (single-valued, from ``multiValueHeaders`` too) and JSON body."""
    headers = {
        name: values[-1] for name, values in (response.get("multiValueHeaders") or {}).items()
    }
    headers.update(response.get("headers") or {})
    text = response.get("body") or ""
    return ApiResponse(int(response["statusCode"]), headers, json.loads(text) if text else None)


class ManualClock:
    """A clock that stands still until told to move."""

    def __init__(self, start: datetime = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def repository_on(table: Table | None = None, clock: ManualClock | None = None) -> TodoRepository:
    """A repository on ``table`` (a fresh in-memory one by default)."""
    clock = clock or ManualClock()
    return TodoRepository(table or MemoryTable(todos_table), clock, UlidFactory(clock))


def id_token_of(sub: str) -> str:
    """The (opaque, for these tests) ID token that user ``sub`` presents."""
    return f"id-token-of-{sub}"


def identity_of(sub: str) -> str:
    """The identity-pool identity id of user ``sub`` in these tests."""
    return f"us-east-1:identity-of-{sub}"


def memory_folders(subs: tuple[str, ...] = ("user-a", "user-b")) -> AttachmentFolders:
    """Attachment folders whose identity pool knows ``subs``, by :func:`id_token_of`."""
    directory = MemoryIdentityDirectory({id_token_of(sub): identity_of(sub) for sub in subs})
    return AttachmentFolders(lambda: directory)


def memory_api(clock: ManualClock | None = None) -> TodoApi:
    """The to-do app on a fresh in-memory table, called as ``user-a``."""
    return TodoApi(create_app(repository_on(clock=clock), memory_folders()).resolve)
