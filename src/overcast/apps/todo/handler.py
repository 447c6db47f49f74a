"""The to-do REST API: a Lambda handler on Powertools' API Gateway REST (v1) resolver.

Routes (declared in ``service.py``; all but the document need a Cognito ID token):

- ``POST /todos`` → 201 with the to-do, ``Location`` and ``ETag``.
- ``GET /todos?limit=1..100&cursor=...&completed=true|false`` → 200
  ``{"items": [...], "next_cursor": str | null}``, newest first.
- ``GET /todos/{id}`` → 200 with ``ETag: "<version>"``.
- ``PUT`` / ``PATCH /todos/{id}`` → 200 with the new version; ``DELETE`` → 204.
- ``GET /openapi.json`` → the OpenAPI document Powertools generates from these routes;
  ``GET /swagger`` → a Swagger UI page of it (see ``openapi.py``).

Who is calling: API Gateway's Cognito user pool authorizer verifies the ID token and
passes its claims, as strings, in ``requestContext.authorizer.claims``; ``sub`` names
the user. A request that reaches us without one is answered 401, as the gateway would.

Conditional writes (RFC 9110 §13.1.1): ``If-Match: *`` or no ``If-Match`` writes
whatever the current version is (still atomically: see ``repository.py``); otherwise
the header must be the to-do's strong ETag, ``"<version>"``. Weak tags, lists and
anything else never match. A mismatch is 412 and changes nothing.

Errors are JSON with a ``message``:

- 400 the body is not JSON (Powertools says 422 ``json_invalid``; a body that does not
  parse is a malformed request, RFC 9110 §15.5.1), or a bad list cursor;
- 401 no caller; 404 no such to-do for this caller — another user's to-do is 404 too,
  never 403, which would confirm that it exists; 412 ``If-Match`` failed;
- 415 a body that is not ``application/json``;
- 422 a field is missing, unknown, of the wrong type or out of range: Powertools'
  validation, whose ``detail`` lists ``{"loc", "type", "msg"}``; ``loc`` names the field;
- 503 the table is unavailable (retry later).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import (
    APIGatewayRestResolver,
    CORSConfig,
    Response,
    content_types,
)
from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from overcast import spec
from overcast.apps.todo import openapi as docs
from overcast.apps.todo import service
from overcast.apps.todo.attachments import AttachmentFolders, AttachmentOutsideFolder
from overcast.apps.todo.domain import (
    InvalidPageCursor,
    Todo,
    TodoCreate,
    TodoNotFound,
    TodoPatch,
    TodoReplace,
    UlidFactory,
    VersionConflict,
)
from overcast.apps.todo.repository import MAX_PAGE_SIZE, TodoRepository
from overcast.ports.identities import IdentityRefused, IdentityUnavailable
from overcast.ports.tables import TableUnavailable
from overcast.runtime import ColdStart, RuntimeConfig
from overcast.runtime.adapters import open_identity_directory, open_table

_JSON = content_types.APPLICATION_JSON
# Versions start at 1, so an If-Match that names no version asks for version 0: never there.
_NO_VERSION = 0
_STRONG_ETAG = re.compile(r'"([1-9][0-9]{0,17})"')

IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description='The ETag of the version you read, e.g. "3".'),
]


class TodoPage(BaseModel):
    """A page of ``GET /todos``: to-dos newest first, and the cursor of the next page."""

    items: list[Todo]
    next_cursor: str | None


def create_app(
    repository: TodoRepository, folders: AttachmentFolders, logger: Logger | None = None
) -> APIGatewayRestResolver:
    """The resolver serving every route of ``service.todo_api``; build it once per process.

    ``folders`` checks that attachments are in the caller's folder; ``logger`` records
    the errors answered 503 (with their traceback).
    """
    app = APIGatewayRestResolver(enable_validation=True, cors=cors_config(service.todo_api.cors))
    docs.configure_openapi(app)
    writes = _Writes(app, folders)
    _add_collection_routes(app, repository, writes)
    _add_item_reads(app, repository)
    _add_item_writes(app, repository, writes)
    docs.add_document_routes(app)
    _add_error_handlers(app, logger)
    return app


def cors_config(cors: spec.Cors | None) -> CORSConfig | None:
    """Powertools' CORS settings from the API's declared ``Cors`` (one source of truth)."""
    if cors is None:
        return None
    first, *others = cors.allow_origins
    return CORSConfig(
        allow_origin=first,
        extra_origins=others,
        allow_headers=list(cors.allow_headers),
        expose_headers=list(cors.expose_headers),
        max_age=cors.max_age_seconds,
        allow_credentials=cors.allow_credentials,
    )


class _Writes:
    """What every write checks before it reaches the repository."""

    def __init__(self, app: APIGatewayRestResolver, folders: AttachmentFolders) -> None:
        self._app = app
        self._folders = folders

    def owner_of(self, attachments: list[str] | None) -> str:
        """The caller, once their attachments (if any) are known to be in their folder."""
        owner = _owner(self._app)
        if attachments:
            self._folders.check(owner, _id_token(self._app), attachments)
        return owner


def _add_collection_routes(
    app: APIGatewayRestResolver, repository: TodoRepository, writes: _Writes
) -> None:
    @app.post(
        "/todos",
        status_code=201,
        summary="Create a to-do",
        security=docs.SIGNED_IN,
        responses=docs.responses(201, docs.CREATED, 400, 401),
    )
    def create_todo(todo: TodoCreate) -> Response[Todo]:
        created = repository.add(writes.owner_of(todo.attachments), todo)
        return _todo_response(created, 201, Location=_location(app, created.id))

    @app.get(
        "/todos",
        summary="List my to-dos, newest first",
        security=docs.SIGNED_IN,
        responses=docs.responses(200, docs.LISTED, 400, 401),
    )
    def list_todos(
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
        cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
        completed: Annotated[Literal["true", "false"] | None, Query()] = None,
    ) -> TodoPage:
        wanted = None if completed is None else completed == "true"
        items, next_cursor = repository.list(
            _owner(app), completed=wanted, limit=limit, cursor=cursor
        )
        return TodoPage(items=items, next_cursor=next_cursor)


def _add_item_reads(app: APIGatewayRestResolver, repository: TodoRepository) -> None:
    # The hottest route. Its one input is a path parameter (any string: an unknown id is
    # simply not found), so it skips Powertools' request/response validation, which
    # would triple its cost; the document still describes it (docs.ONE_TODO_BODY).
    @app.get(
        "/todos/<id>",
        summary="Read one of my to-dos",
        security=docs.SIGNED_IN,
        responses=docs.responses(200, docs.ONE_TODO_BODY, 401, 404),
        enable_validation=False,
    )
    def get_todo(id: str) -> Response[str]:
        todo = repository.get(_owner(app), id)
        return Response(
            status_code=200,
            content_type=_JSON,
            body=todo.model_dump_json(),
            headers={"ETag": etag(todo)},
        )


def _add_item_writes(
    app: APIGatewayRestResolver, repository: TodoRepository, writes: _Writes
) -> None:
    answers = docs.responses(200, docs.ONE_TODO, 400, 401, 404, 412)

    @app.put("/todos/<id>", summary="Replace a to-do", security=docs.SIGNED_IN, responses=answers)
    def replace_todo(id: str, todo: TodoReplace, if_match: IfMatch = None) -> Response[Todo]:
        owner = writes.owner_of(todo.attachments)
        replaced = repository.replace(owner, id, todo, expected_version(if_match))
        return _todo_response(replaced)

    @app.patch(
        "/todos/<id>", summary="Change some fields", security=docs.SIGNED_IN, responses=answers
    )
    def patch_todo(id: str, changes: TodoPatch, if_match: IfMatch = None) -> Response[Todo]:
        owner = writes.owner_of(changes.attachments)
        patched = repository.patch(owner, id, changes, expected_version(if_match))
        return _todo_response(patched)

    @app.delete(
        "/todos/<id>",
        status_code=204,
        summary="Delete a to-do",
        security=docs.SIGNED_IN,
        responses=docs.responses(204, docs.DELETED, 401, 404, 412),
    )
    def delete_todo(id: str, if_match: IfMatch = None) -> Response[None]:
        repository.delete(_owner(app), id, expected_version(if_match))
        return Response(status_code=204, content_type=None, body=None)


def _add_error_handlers(app: APIGatewayRestResolver, logger: Logger | None) -> None:
    def unavailable(error: TableUnavailable) -> Response[Any]:
        if logger is not None:
            logger.exception(
                "The to-do table is unavailable",
                exc_info=error,
                extra={"function_request_id": app.lambda_context.aws_request_id},
            )
        return _error(503, "The to-do store is unavailable; try again shortly.")

    answers: dict[type[Exception], Callable[[Any], Response[Any]]] = {
        TodoNotFound: lambda _: _error(404, "To-do not found"),
        VersionConflict: lambda _: _error(
            412, "The to-do has changed since you read it; read it again and retry."
        ),
        InvalidPageCursor: lambda error: _error(400, str(error)),
        AttachmentOutsideFolder: attachment_outside_folder,
        IdentityRefused: lambda _: _error(
            403, "The files identity pool refused your sign-in; sign in again."
        ),
        IdentityUnavailable: lambda _: _error(
            503, "The files identity pool is unavailable; try again shortly."
        ),
        RequestValidationError: validation_error_response,
        RequestUnsupportedContentType: lambda _: _error(
            415, "Send the request body as application/json."
        ),
        TableUnavailable: unavailable,
    }
    for error_type, answer in answers.items():
        app.exception_handler(error_type)(answer)


def validation_error_response(error: RequestValidationError) -> Response[Any]:
    """400 for a body that is not JSON at all, else 422 naming each field that is wrong."""
    problems = [
        {"loc": list(problem["loc"]), "type": problem["type"], "msg": problem["msg"]}
        for problem in error.errors()
    ]
    if any(problem["type"] == "json_invalid" for problem in problems):
        return _error(400, f"The request body is not valid JSON: {_json_reason(error)}.")
    summary = "; ".join(
        f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
        for problem in problems
    )
    body = {"statusCode": 422, "message": f"Invalid request: {summary}", "detail": problems}
    return Response(status_code=422, content_type=_JSON, body=body)


def attachment_outside_folder(error: AttachmentOutsideFolder) -> Response[Any]:
    """422 in the shape of a validation error, naming the attachment and the folder."""
    problem = {
        "loc": ["body", "attachments", error.position],
        "type": "attachment_outside_folder",
        "msg": f"Attachments must be in your folder {error.folder!r}",
    }
    body = {
        "statusCode": 422,
        "message": f"Invalid request: body.attachments.{error.position}: {problem['msg']}",
        "detail": [problem],
    }
    return Response(status_code=422, content_type=_JSON, body=body)


def _json_reason(error: RequestValidationError) -> str:
    for problem in error.errors():
        if problem["type"] == "json_invalid":
            return str(problem.get("ctx", {}).get("error", "it does not parse"))
    return "it does not parse"


def expected_version(if_match: str | None) -> int | None:
    """The version an ``If-Match`` value asks for; ``None`` for no header or ``*``."""
    if if_match is None or if_match.strip() == "*":
        return None
    match = _STRONG_ETAG.fullmatch(if_match.strip())
    return int(match.group(1)) if match else _NO_VERSION


def etag(todo: Todo) -> str:
    """The to-do's strong ETag: its version, quoted."""
    return f'"{todo.version}"'


def _owner(app: APIGatewayRestResolver) -> str:
    sub = app.current_event.request_context.authorizer.claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise UnauthorizedError("Unauthorized")
    return sub


def _id_token(app: APIGatewayRestResolver) -> str:
    # The authorizer verified this header's token; "Bearer " is optional, as there.
    header = app.current_event.headers.get("Authorization") or ""
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token else header.strip()


def _location(app: APIGatewayRestResolver, todo_id: str) -> str:
    # requestContext.path is the path the client used, stage included ("/v1/todos").
    path = app.current_event.request_context.get("path") or app.current_event.path
    return f"{path.rstrip('/')}/{todo_id}"


def _todo_response(todo: Todo, status: int = 200, **headers: str) -> Response[Todo]:
    return Response(
        status_code=status, content_type=_JSON, body=todo, headers={"ETag": etag(todo), **headers}
    )


def _error(status: int, message: str) -> Response[Any]:
    return Response(status_code=status, content_type=_JSON, body={"message": message})


# --- the Lambda entry point -------------------------------------------------------


class TodoFunction:
    """What a cold start builds: the resolver and the logger.

    The logger is not wrapped around every invocation (``inject_lambda_context`` would
    cost a quarter of a read's time); the error log names the request id itself.
    """

    def __init__(self, app: APIGatewayRestResolver, logger: Logger) -> None:
        self.app = app
        self.logger = logger

    def resolve(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        response: dict[str, Any] = self.app.resolve(event, context)
        return response


def bootstrap(config: RuntimeConfig) -> TodoFunction:
    """The composition root: the table and identity pool for this environment, the clock,
    ids, the resolver."""

    def clock() -> datetime:
        return datetime.now(UTC)

    logger = Logger(service=config.service or "todo")
    table = open_table(service.todos_table, config)
    repository = TodoRepository(table, clock=clock, new_id=UlidFactory(clock))
    folders = AttachmentFolders(lambda: open_identity_directory(service.files_identities, config))
    return TodoFunction(create_app(repository, folders, logger), logger)


dependencies = ColdStart(bootstrap)


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The Lambda handler (``overcast.apps.todo.handler:handler``)."""
    return dependencies().resolve(event, context)
