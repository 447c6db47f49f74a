"""The to-do API three ways, for ``bench.todo_read_path``: no caches, the table's read
cache only, the API's stage cache only. Each is a service of its own (its own user pool,
table file and port), with the to-do app's own handler code on its own table declaration.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from overcast import spec
from overcast.apps.todo import service as todo
from overcast.apps.todo.attachments import AttachmentFolders
from overcast.apps.todo.domain import UlidFactory
from overcast.apps.todo.handler import TodoFunction, create_app
from overcast.apps.todo.repository import TodoRepository
from overcast.runtime import ColdStart, RuntimeConfig
from overcast.runtime.adapters import open_table

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def variant(name: str, *, read_cache: bool, stage_cache: bool) -> spec.Service:
    """The to-do API as service ``name``, with the caches asked for."""
    table = dataclasses.replace(
        todo.todos_table, read_cache=spec.ReadCache() if read_cache else None
    )
    users = spec.UserPool(name="users")
    function = spec.Function(
        name="api",
        handler=f"bench.read_path.{name.removeprefix('bench-')}:handler",
        tables=(table,),
    )
    signed_in = spec.CognitoAuthorizer(users)
    list_key = item_key = None
    if stage_cache:
        list_key = spec.RouteCache((spec.CALLER, "method.request.querystring.limit"))
        item_key = spec.RouteCache((spec.CALLER, "method.request.path.id"))
    api = spec.Api(
        name=name,
        cache=spec.StageCache() if stage_cache else None,
        routes=(
            spec.Route("POST", "/todos", function, signed_in),
            spec.Route("GET", "/todos", function, signed_in, cache=list_key),
            spec.Route("GET", "/todos/{id}", function, signed_in, cache=item_key),
        ),
    )
    return spec.Service(name=name, api=api, tables=(table,), user_pools=(users,))


def handler_for(service: spec.Service) -> Handler:
    """The to-do app's handler, on ``service``'s table declaration."""
    (table,) = service.tables

    def bootstrap(config: RuntimeConfig) -> TodoFunction:
        def clock() -> datetime:
            return datetime.now(UTC)

        logger = Logger(service=service.name)
        repository = TodoRepository(open_table(table, config), clock, UlidFactory(clock))
        folders = AttachmentFolders(_no_attachments)
        return TodoFunction(create_app(repository, folders, logger), logger)

    dependencies = ColdStart(bootstrap)

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return dependencies().resolve(event, context)

    return handler


def _no_attachments() -> Any:
    raise RuntimeError("The benchmark's to-dos have no attachments.")
