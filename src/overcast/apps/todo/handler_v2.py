"""MyToDoList v2: v1's API, whose lists also say how many to-dos they hold.

The to-do API's ``v2`` stage runs this handler (``service.todo_api``'s stages); ``v1``
runs :mod:`overcast.apps.todo.handler`, unchanged. Both are served at once.

v2 is v1's resolver, built by v1's own ``bootstrap``, with one Powertools middleware:
``GET /todos`` answers ``{"items": [...], "next_cursor": ..., "count": <items on this
page>}``. Every other route answers exactly as in v1.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.utilities.typing import LambdaContext

from overcast.apps.todo import handler as v1
from overcast.runtime import ColdStart, RuntimeConfig

LIST_RESOURCE = "/todos"


def count_listed(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Add ``count`` to a listed page (a Powertools middleware).

    It runs outside the response validation, so a page's body is already a JSON dict.
    """
    response: Response[Any] = next_middleware(app)
    event = app.current_event
    body = response.body
    listed = event.resource == LIST_RESOURCE and event.http_method == "GET"
    if listed and isinstance(body, dict) and isinstance(body.get("items"), list):
        response.body = {**body, "count": len(body["items"])}
    return response


def upgrade(app: APIGatewayRestResolver) -> APIGatewayRestResolver:
    """v1's resolver ``app`` made v2's (before its first request)."""
    app.use(middlewares=[count_listed])
    return app


def bootstrap(config: RuntimeConfig) -> v1.TodoFunction:
    """v1's composition root, with v2's resolver."""
    function = v1.bootstrap(config)
    upgrade(function.app)
    return function


dependencies = ColdStart(bootstrap)


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The Lambda handler of stage v2 (``overcast.apps.todo.handler_v2:handler``)."""
    return dependencies().resolve(event, context)
