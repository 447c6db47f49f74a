"""A function calls another service's API through its gateway, as its own caller."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from overcast import spec
from overcast.apps.todo.service import service as todo_service
from overcast.apps.todo.service import todos_table
from overcast.local.aws_services import ServiceResources
from overcast.local.discovery import discover
from overcast.local.function_resources import called_apis, check_calls, function_resources
from overcast.runtime.config import RuntimeConfig
from overcast.runtime.services import (
    OutgoingRequest,
    ServiceCaller,
    ServiceRefused,
    ServiceResponse,
    ServiceUnavailable,
    UrllibTransport,
)

SAMPLE_SRC = Path(__file__).parents[1] / "e2e" / "sample_project" / "src"
TODO_URL = "https://127.0.0.1:4510/v1"
NO_RESOURCES = ServiceResources({}, {}, {})


def _pinboard() -> spec.Service:
    (found,) = discover(["pinboard.service"], python_path=[SAMPLE_SRC], builtin_apps=False)
    return found


def _function(service: spec.Service, name: str) -> spec.Function:
    return next(function for function in service.all_functions if function.name == name)


class FakeTransport:
    """Answers every request with ``status`` and ``body``; keeps what it was sent."""

    def __init__(self, status: int = 200, body: bytes = b'{"items": []}') -> None:
        self.status, self.body = status, body
        self.sent: list[OutgoingRequest] = []

    def __call__(self, request: OutgoingRequest) -> ServiceResponse:
        self.sent.append(request)
        return ServiceResponse(self.status, {}, self.body)


def _caller(transport: FakeTransport) -> ServiceCaller:
    config = RuntimeConfig(service="pinboard", resources={"OVERCAST_RESOURCE_API_TODO": TODO_URL})
    return ServiceCaller(config, "todo", transport=transport)


def _event(**headers: str) -> dict[str, Any]:
    return {"headers": headers or None, "multiValueHeaders": None}


# Declarations


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: spec.Function("f", handler="m:f", calls=("Todo",)), "called service name"),
        (lambda: spec.Function("f", handler="m:f", calls=("todo", "todo")), "twice"),
        (
            lambda: spec.Service(
                "todo", functions=(spec.Function("f", handler="m:f", calls=("todo",)),)
            ),
            "calls its own service",
        ),
    ],
)
def test_a_bad_call_declaration_is_refused(build: Any, message: str) -> None:
    with pytest.raises(spec.DeclarationError, match=message):
        build()


def test_a_function_cannot_use_the_table_of_another_service() -> None:
    # Given the to-do service's table, imported by another service's function
    reader = spec.Function("todos", handler="pinboard.todos:handler", tables=(todos_table,))

    # Then the declaration is refused: the table is not the pinboard's
    with pytest.raises(spec.DeclarationError, match="does not declare in tables="):
        spec.Service("pinboard", functions=(reader,))


def test_the_pinboards_caller_knows_the_todo_api_and_nothing_else_of_the_todo_service() -> None:
    # Given the sample pinboard's function that calls the to-do API
    function = _function(_pinboard(), "todos")
    assert function.calls == ("todo",)

    # When the local cloud builds its variables
    variables = function_resources("pinboard", function, NO_RESOURCES) | called_apis(
        function, {"todo": TODO_URL, "pinboard": "https://127.0.0.1:4511/prod"}
    )

    # Then it has the to-do API's URL, and no name of any to-do resource
    assert variables == {"OVERCAST_RESOURCE_API_TODO": TODO_URL}
    config = RuntimeConfig(service="pinboard", resources=variables)
    with pytest.raises(ValueError, match="no table 'todos'"):
        config.resource("TABLE", "todos")


def test_only_functions_that_declare_a_call_learn_the_other_apis_url() -> None:
    board = _function(_pinboard(), "board")
    assert called_apis(board, {"todo": TODO_URL}) == {}


def test_the_local_cloud_refuses_a_call_to_a_service_it_does_not_serve() -> None:
    pinboard = _pinboard()
    with pytest.raises(spec.DeclarationError, match="calls service 'todo', which this local"):
        check_calls([pinboard])
    check_calls([todo_service, pinboard])  # served: accepted


def test_the_local_cloud_refuses_a_call_to_a_service_without_an_api() -> None:
    caller = spec.Service(
        "caller", functions=(spec.Function("f", handler="m:f", calls=("quiet",)),)
    )
    with pytest.raises(spec.DeclarationError, match="declares no api="):
        check_calls([caller, spec.Service("quiet")])


# The caller


def test_the_call_forwards_only_the_callers_authorization_header() -> None:
    transport = FakeTransport()
    event = _event(authorization="Bearer the-token", Cookie="c=1", **{"X-Api-Key": "k"})

    _caller(transport).get("/todos", caller_event=event, query={"limit": "5"})

    (sent,) = transport.sent
    assert (sent.method, sent.url) == ("GET", f"{TODO_URL}/todos?limit=5")
    assert sent.headers["Authorization"] == "Bearer the-token"
    assert set(sent.headers) == {"Authorization", "Accept", "User-Agent"}


def test_a_call_without_a_caller_token_sends_no_credentials() -> None:
    transport = FakeTransport()
    _caller(transport).delete("/todos/1", caller_event=_event())
    assert "Authorization" not in transport.sent[0].headers


def test_a_json_body_is_sent_as_json() -> None:
    transport = FakeTransport(201, b'{"id": "1"}')
    answer = _caller(transport).post(
        "/todos", caller_event=_event(Authorization="t"), json={"title": "milk"}
    )
    assert answer.json() == {"id": "1"}
    assert transport.sent[0].body == b'{"title": "milk"}'
    assert transport.sent[0].headers["Content-Type"] == "application/json"


def test_a_refusal_is_raised_with_its_status_and_body() -> None:
    transport = FakeTransport(401, b'{"message": "Unauthorized"}')
    with pytest.raises(ServiceRefused) as refused:
        _caller(transport).put("/todos/1", caller_event=_event(), json={})
    assert refused.value.status == 401
    assert refused.value.json() == {"message": "Unauthorized"}


def test_a_server_error_is_unavailable() -> None:
    with pytest.raises(ServiceUnavailable) as failed:
        _caller(FakeTransport(503, b"")).get("/todos", caller_event=_event())
    assert failed.value.status == 503


@pytest.mark.parametrize("path", ["todos", "//evil.example/todos"])
def test_a_path_must_stay_on_the_other_api(path: str) -> None:
    with pytest.raises(ValueError, match="starts with one '/'"):
        _caller(FakeTransport()).get(path, caller_event=_event())


@pytest.mark.parametrize(
    "path",
    [
        "/todos/../admin",
        "/todos/%2e%2E/admin",
        "/..",
        "/todos?owner=x",
        "/todos#top",
        "/todos/a b",
        "/todos/\n",
        "/todos/\x00",
        "/todos\t",
    ],
)
def test_a_path_that_could_leave_its_resource_is_the_callers_mistake(path: str) -> None:
    transport = FakeTransport()

    with pytest.raises(ValueError, match="A service path"):
        _caller(transport).get(path, caller_event=_event())
    assert transport.sent == []


def test_a_plain_path_with_dots_in_names_is_sent() -> None:
    transport = FakeTransport()

    _caller(transport).get("/files/a..b/%20x/.well", caller_event=_event())

    assert transport.sent[0].url == TODO_URL + "/files/a..b/%20x/.well"


class FakeContext:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_the_timeout_is_capped_at_the_invocations_remaining_time() -> None:
    transport = FakeTransport()
    caller = _caller(transport)

    caller.get("/todos", caller_event=_event(), context=FakeContext(2500))
    caller.post("/todos", caller_event=_event(), json={}, context=FakeContext(60_000))
    caller.get("/todos", caller_event=_event())

    assert [sent.timeout_seconds for sent in transport.sent] == [2.5, 10.0, 10.0]
    with pytest.raises(ServiceUnavailable, match="No time left"):
        caller.get("/todos", caller_event=_event(), context=FakeContext(0))


def test_a_function_that_declares_no_call_is_told_how_to_declare_it() -> None:
    with pytest.raises(ValueError, match=r"calls=\('todo',\)"):
        ServiceCaller(RuntimeConfig(service="pinboard"), "todo")


def test_an_unreachable_service_is_unavailable() -> None:
    # A port nothing listens on: the connection is refused at once.
    transport = UrllibTransport("todo", timeout_seconds=2)
    with pytest.raises(ServiceUnavailable, match="could not be reached"):
        transport(OutgoingRequest("GET", "http://127.0.0.1:9/v1/todos", {}))
