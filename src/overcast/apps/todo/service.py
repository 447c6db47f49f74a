"""MyToDoList's declaration: one table, one user pool, one function behind one REST API.

The API serves two versions side by side: stage ``v1`` (the default) and stage ``v2``,
which runs its own handler code (``handler_v2``) on the same data.

Table layout (single-table style; the item shape is private to ``repository.py``):

- primary key: ``pk = "USER#<sub>"``, ``sk = "TODO#<id>"``. A user's to-dos form one
  partition, so listing them is a query, and another user's id is simply not found.
- index ``by-completed``: ``owner_completed = "<sub>#true|false"``, sort key ``id``.
  ``GET /todos?completed=...`` queries it; no request path filters or scans.

Ids are ULIDs, so sort-key order is creation order and "newest first" is a
descending query.

Reads are cached twice, as on AWS: the table has a read cache (DAX), and the API's
stage caches each user's GETs, keyed by the caller. A user's write drops their
cached GETs of what it changed, so they always read their own writes.

Files: each signed-in user exchanges their ID token at the ``files`` identity pool
for temporary credentials that reach only their own folder, ``<identity id>/``, of
the ``files`` bucket; they read and write it directly with any S3 client. A to-do's
attachments are keys in that folder, and the API refuses any other key.
"""

from __future__ import annotations

from overcast import spec

COMPLETED_INDEX = "by-completed"

todos_table = spec.Table(
    name="todos",
    partition_key=spec.Key("pk"),
    sort_key=spec.Key("sk"),
    indexes=(
        spec.Index(
            name=COMPLETED_INDEX,
            partition_key=spec.Key("owner_completed"),
            sort_key=spec.Key("id"),
        ),
    ),
    read_cache=spec.ReadCache(),
)

users = spec.UserPool(
    name="users",
    clients=(
        spec.UserPoolClient(
            "web", auth_flows=("USER_SRP_AUTH", "USER_PASSWORD_AUTH", "REFRESH_TOKEN_AUTH")
        ),
    ),
)

files_identities = spec.IdentityPool(name="files", user_pool=users)

files_bucket = spec.Bucket(name="files", user_folders=files_identities)

api_function = spec.Function(
    name="api",
    handler="overcast.apps.todo.handler:handler",
    tables=(todos_table,),
    identity_pools=(files_identities,),
)

_signed_in = spec.CognitoAuthorizer(users)

# Stage cache keys: always the caller (each user's list is their own) and the Origin
# (the CORS headers echo it, so a browser must not be served another origin's answer),
# then what the route reads: every query parameter of the list, the id of one to-do.
_ORIGIN = "method.request.header.Origin"
_list_key = spec.RouteCache(
    key_parameters=(
        spec.CALLER,
        _ORIGIN,
        "method.request.querystring.limit",
        "method.request.querystring.cursor",
        "method.request.querystring.completed",
    )
)
_uncached = spec.RouteCache(ttl_seconds=0)
_item_key = spec.RouteCache(key_parameters=(spec.CALLER, _ORIGIN, "method.request.path.id"))

todo_api = spec.Api(
    name="todo",
    stage="v1",
    cors=spec.Cors(),
    cache=spec.StageCache(),
    routes=(
        spec.Route("POST", "/todos", api_function, _signed_in),
        spec.Route("GET", "/todos", api_function, _signed_in, cache=_list_key),
        spec.Route("GET", "/todos/{id}", api_function, _signed_in, cache=_item_key),
        spec.Route("PUT", "/todos/{id}", api_function, _signed_in),
        spec.Route("PATCH", "/todos/{id}", api_function, _signed_in),
        spec.Route("DELETE", "/todos/{id}", api_function, _signed_in),
        spec.Route("GET", "/openapi.json", api_function),
        # Swagger UI: browsers keep its files (Cache-Control), and its script is over the
        # stage cache's 1 MiB entry limit anyway, so the stage cache leaves them alone.
        spec.Route("GET", "/swagger", api_function, cache=_uncached),
        spec.Route("GET", "/swagger-ui/swagger-ui-bundle.min.js", api_function, cache=_uncached),
        spec.Route("GET", "/swagger-ui/swagger-ui.min.css", api_function, cache=_uncached),
    ),
    # Two versions side by side: v1 as it always was; v2 runs its own handler code
    # (``handler_v2``: its lists also say how many to-dos they hold). On AWS each stage
    # invokes a Lambda alias named after it.
    stages=(
        spec.Stage("v1", variables={"version": "1"}),
        spec.Stage(
            "v2",
            handlers={api_function.name: "overcast.apps.todo.handler_v2:handler"},
            variables={"version": "2"},
        ),
    ),
)

service = spec.Service(
    name="todo",
    description="MyToDoList: each signed-in user keeps their own to-do list.",
    api=todo_api,
    tables=(todos_table,),
    user_pools=(users,),
    identity_pools=(files_identities,),
    buckets=(files_bucket,),
)
