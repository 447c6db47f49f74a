"""Declarations check themselves and explain what is wrong."""

from __future__ import annotations

import pytest

from overcast import spec
from overcast.spec import (
    Api,
    CognitoAuthorizer,
    Cors,
    DeclarationError,
    Function,
    Index,
    Key,
    Route,
    Service,
    Table,
    UserPool,
    UserPoolClient,
)

echo = Function("echo", handler="tests.fixtures.handlers:echo")


def test_the_todo_service_declaration_is_valid() -> None:
    from overcast.apps.todo.service import service

    assert service.api is not None
    assert {route.key for route in service.api.routes} >= {"GET /todos", "GET /todos/{id}"}
    assert [function.name for function in service.all_functions] == ["api"]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Table("Todos", Key("pk")), "Table name 'Todos' is invalid"),
        (lambda: Table("t", Key("pk"), indexes=(Index("i", Key("a")),) * 2), "index name twice"),
        (lambda: Function("f", handler="not a handler"), "must look like"),
        (lambda: Function("f", handler="m:f", timeout_seconds=901), "1-900 seconds"),
        (lambda: Route("GET", "todos", echo), "must start with '/'"),
        (lambda: Route("GET", "/a/{rest+}/b", echo), "must be the last segment"),
        (lambda: Route("GET", "/a b", echo), "segment 'a b' is invalid"),
        (lambda: UserPool("p", verification_message="no code"), "{####}"),
        (lambda: UserPool("p", id_token_minutes=2), "5 minutes to 1 day"),
        (lambda: Cors(allow_credentials=True), "allow_credentials"),
        (lambda: CognitoAuthorizer(UserPool("p"), ttl_seconds=3601), "0-3600"),
        (
            lambda: Api("a", routes=(Route("GET", "/x", echo), Route("GET", "/x", echo))),
            "routes twice",
        ),
        (
            lambda: Api("a", routes=(Route("GET", "/x", echo),), integration_timeout_seconds=30),
            "(0, 29]",
        ),
    ],
)
def test_invalid_declarations_are_refused_with_a_clear_message(build: object, message: str) -> None:
    assert callable(build)
    with pytest.raises(DeclarationError) as raised:
        build()
    assert message in str(raised.value)


def test_two_different_functions_with_one_name_are_refused() -> None:
    # Given two routes whose functions share a name but not a handler
    other = Function("echo", handler="tests.fixtures.handlers:fail")

    with pytest.raises(DeclarationError, match="two different functions are named 'echo'"):
        Api("a", routes=(Route("GET", "/a", echo), Route("GET", "/b", other)))


def test_one_pool_authorized_two_ways_is_refused() -> None:
    pool = UserPool("users")
    short, long = CognitoAuthorizer(pool, ttl_seconds=60), CognitoAuthorizer(pool)

    with pytest.raises(DeclarationError, match="in two different ways"):
        Api(
            "a",
            routes=(
                Route("GET", "/a", echo, authorizer=short),
                Route("GET", "/b", echo, authorizer=long),
            ),
        )


def test_a_service_must_declare_what_its_routes_and_functions_use() -> None:
    pool = UserPool("users")
    table = Table("things", Key("pk"))
    authorized = Api("a", routes=(Route("GET", "/a", echo, authorizer=CognitoAuthorizer(pool)),))
    with pytest.raises(DeclarationError, match="does not declare"):
        Service("s", api=authorized)
    uses_table = Function("f", handler="m:f", tables=(table,))
    with pytest.raises(DeclarationError, match="does not declare in tables="):
        Service("s", functions=(uses_table,))


def test_a_pool_needs_a_client() -> None:
    with pytest.raises(DeclarationError, match="at least one client"):
        UserPool("p", clients=())
    assert UserPool("p").client("web") == UserPoolClient("web")


def test_a_stream_trigger_needs_a_table_with_a_stream() -> None:
    function = spec.Function("f", "m.h:handler")
    plain = spec.Table("t", spec.Key("pk"))

    with pytest.raises(spec.DeclarationError, match="declares no stream"):
        spec.StreamTrigger(plain, function)


@pytest.mark.parametrize(
    "options",
    [{"batch_size": 0}, {"batching_window_seconds": 301}, {"maximum_retry_attempts": -2},
     {"maximum_record_age_seconds": 59}, {"filter_patterns": ("[1]",)},
     {"filter_patterns": ("{",)}],
)  # fmt: skip
def test_stream_trigger_settings_outside_lambdas_limits_are_refused(
    options: dict[str, object],
) -> None:
    table = spec.Table("t", spec.Key("pk"), stream="NEW_IMAGE")

    with pytest.raises(spec.DeclarationError):
        spec.StreamTrigger(table, spec.Function("f", "m.h:handler"), **options)


def test_triggered_functions_belong_to_the_service_and_overlapping_triggers_are_refused() -> None:
    photos = spec.Bucket("photos")
    thumbnails = spec.Function("thumbnails", "m.h:handler", buckets=(photos,))
    other = spec.Function("other", "m.h:handler")
    ok = spec.Service(
        "blog",
        buckets=(photos,),
        object_triggers=(spec.ObjectCreatedTrigger(photos, thumbnails, prefix="uploads/"),),
    )

    assert ok.all_functions == (thumbnails,)
    with pytest.raises(spec.DeclarationError, match="overlap"):
        spec.Service(
            "blog",
            buckets=(photos,),
            object_triggers=(
                spec.ObjectCreatedTrigger(photos, thumbnails, prefix="uploads/"),
                spec.ObjectCreatedTrigger(photos, other, prefix="uploads/raw/"),
            ),
        )
