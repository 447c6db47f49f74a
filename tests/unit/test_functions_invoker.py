"""The in-process invoker runs handlers as Lambda does: JSON in and out, errors, timeouts."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from overcast import spec
from overcast.local.functions import FunctionError, FunctionInvoker, FunctionTimeout

pytestmark = pytest.mark.anyio


def function(name: str, handler: str, timeout: int = 3) -> spec.Function:
    return spec.Function(
        name=name, handler=f"tests.fixtures.handlers:{handler}", timeout_seconds=timeout
    )


ECHO = function("echo", "echo")
CONTEXT = function("context", "context_and_environment")
OTHER_CONTEXT = function("other", "context_and_environment")
FAIL = function("fail", "fail")
EXIT = function("exit", "exit_process")
SLEEP = function("sleep", "sleep", timeout=1)
MARSHAL = function("marshal", "unserialisable")
PROBE = function("probe", "concurrency_probe")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def invoker() -> Iterator[FunctionInvoker]:
    functions = (ECHO, CONTEXT, OTHER_CONTEXT, FAIL, EXIT, SLEEP, MARSHAL, PROBE)
    running = FunctionInvoker(
        "shop",
        functions,
        {"OVERCAST_SERVICE": "shop"},
        region="eu-west-1",
        account_id="123456789012",
        clock=lambda: 100.0,
    )
    yield running
    running.close()


def body(result: Any) -> Any:
    return json.loads(result["body"])


async def test_handler_receives_the_event_and_its_result_comes_back(
    invoker: FunctionInvoker,
) -> None:
    result = await invoker.invoke(ECHO, {"hello": ["world", 1]})

    assert result["statusCode"] == 200
    assert body(result) == {"hello": ["world", 1]}


async def test_context_has_lambdas_attributes(invoker: FunctionInvoker) -> None:
    seen = body(await invoker.invoke(CONTEXT, {}))

    assert seen["function_name"] == "shop-context"
    assert (
        seen["invoked_function_arn"]
        == "arn:aws:lambda:eu-west-1:123456789012:function:shop-context"
    )
    assert seen["memory_limit_in_mb"] == 256
    assert seen["log_group_name"] == "/aws/lambda/shop-context"
    assert seen["remaining_ms"] == 3000
    assert uuid.UUID(seen["aws_request_id"]).version == 4


async def test_each_function_keeps_one_environment_of_its_own(invoker: FunctionInvoker) -> None:
    first = body(await invoker.invoke(CONTEXT, {}))
    again = body(await invoker.invoke(CONTEXT, {}))
    other = body(await invoker.invoke(OTHER_CONTEXT, {}))

    assert first["environment_id"] == again["environment_id"]
    assert first["environment_id"] != other["environment_id"]
    assert first["service"] == "shop"
    assert first["lambda_name"] == "shop-context"
    assert other["lambda_name"] == "shop-other"
    assert first["aws_request_id"] != again["aws_request_id"]


async def test_handler_exception_becomes_a_function_error_and_is_logged(
    invoker: FunctionInvoker, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR), pytest.raises(FunctionError) as caught:
        await invoker.invoke(FAIL, {})

    assert caught.value.error_type == "ValueError"
    assert caught.value.error_message == "the handler broke"
    assert "Traceback" in caplog.text


async def test_handler_calling_exit_is_a_runtime_exit_error(invoker: FunctionInvoker) -> None:
    with pytest.raises(FunctionError) as caught:
        await invoker.invoke(EXIT, {})

    assert caught.value.error_type == "Runtime.ExitError"
    assert (await invoker.invoke(ECHO, {"still": "alive"}))["statusCode"] == 200


async def test_unserialisable_result_is_a_marshal_error(invoker: FunctionInvoker) -> None:
    with pytest.raises(FunctionError) as caught:
        await invoker.invoke(MARSHAL, {})

    assert caught.value.error_type == "Runtime.MarshalError"
    assert "Unable to marshal response" in caught.value.error_message


async def test_handler_past_its_timeout_times_out(invoker: FunctionInvoker) -> None:
    with pytest.raises(FunctionTimeout) as caught:
        await invoker.invoke(SLEEP, {"queryStringParameters": {"seconds": "1.5"}})

    assert caught.value.error_message == "Task timed out after 1.00 seconds"


async def test_one_function_runs_one_invocation_at_a_time(invoker: FunctionInvoker) -> None:
    await invoker.invoke(PROBE, {"reset": True})
    results = await asyncio.gather(*(invoker.invoke(PROBE, {}) for _ in range(5)))

    assert {result["body"] for result in results} == {"1"}


async def test_more_workers_let_a_thread_safe_function_run_concurrently() -> None:
    wide = FunctionInvoker("shop", [PROBE], {}, region="us-east-1", account_id="1", max_workers=3)
    try:
        await wide.invoke(PROBE, {"reset": True})
        results = await asyncio.gather(*(wide.invoke(PROBE, {}) for _ in range(6)))
    finally:
        wide.close()

    assert max(int(result["body"]) for result in results) > 1


async def test_timed_out_call_does_not_hold_up_the_next_ones(invoker: FunctionInvoker) -> None:
    with pytest.raises(FunctionTimeout):
        await invoker.invoke(SLEEP, {"queryStringParameters": {"seconds": "2.5"}})
    started = time.monotonic()

    result = await invoker.invoke(SLEEP, {"queryStringParameters": {"seconds": "0"}})

    assert result["body"] == "slept"
    assert time.monotonic() - started < 0.5


async def test_caller_giving_up_first_stops_waiting_while_the_invocation_runs_on(
    invoker: FunctionInvoker,
) -> None:
    started = time.monotonic()

    with pytest.raises(TimeoutError):
        await invoker.invoke(
            SLEEP, {"queryStringParameters": {"seconds": "0.3"}}, give_up_after=0.05
        )

    assert time.monotonic() - started < 0.25
    result = await invoker.invoke(SLEEP, {"queryStringParameters": {"seconds": "0"}})
    assert result["body"] == "slept"
    assert time.monotonic() - started >= 0.3  # the first call kept its thread until done


async def test_function_timeout_before_the_callers_deadline_is_a_function_timeout(
    invoker: FunctionInvoker,
) -> None:
    with pytest.raises(FunctionTimeout):
        await invoker.invoke(SLEEP, {"queryStringParameters": {"seconds": "1.5"}}, give_up_after=5)


async def test_unknown_function_is_refused(invoker: FunctionInvoker) -> None:
    with pytest.raises(spec.DeclarationError, match="not deployed"):
        await invoker.invoke(function("ghost", "echo"), {})


@pytest.mark.parametrize(
    ("handler", "problem"),
    [
        ("tests.fixtures.nowhere:handler", "ModuleNotFoundError"),
        ("tests.fixtures.handlers:missing", "AttributeError"),
        ("tests.fixtures.handlers:not_callable", "not callable"),
    ],
)
def test_unimportable_handler_stops_construction_with_a_clear_message(
    handler: str, problem: str
) -> None:
    broken = spec.Function(name="broken", handler=handler)

    with pytest.raises(spec.DeclarationError, match=problem) as caught:
        FunctionInvoker("shop", [broken], {}, region="us-east-1", account_id="1")

    assert "'broken'" in str(caught.value)
    assert handler in str(caught.value)
