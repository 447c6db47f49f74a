"""The invoker with real execution environments (worker processes), as `overcast up` runs them."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from overcast import spec
from overcast.local.functions.invoker import FunctionError, FunctionInvoker, FunctionTimeout
from tests.todo_events import id_token_claims, load_sample_event, rest_event

pytestmark = pytest.mark.anyio


def function(name: str, handler: str, timeout: int = 3) -> spec.Function:
    return spec.Function(name, f"tests.fixtures.handlers:{handler}", timeout_seconds=timeout)


ECHO = function("echo", "echo")
CONTEXT = function("context", "context_and_environment")
FAIL = function("fail", "fail")
EXIT = function("exit", "exit_when_asked")
UNSERIALISABLE = function("unserialisable", "unserialisable")
WRITER = function("writer", "write_after_sleep", timeout=1)
PATIENT_WRITER = function("patient-writer", "write_after_sleep", timeout=2)
WHOAMI_A = function("whoami-a", "powertools_slow")
WHOAMI_B = function("whoami-b", "powertools_slow")
ALL = (ECHO, CONTEXT, FAIL, EXIT, UNSERIALISABLE, WRITER, PATIENT_WRITER, WHOAMI_A, WHOAMI_B)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def single() -> AsyncIterator[FunctionInvoker]:
    """An invoker allowed one environment per function: requests queue on it."""
    running = FunctionInvoker(
        "test", ALL, {}, region="us-east-1", account_id="123456789012", concurrency=1
    )
    yield running
    await running.close()


@pytest.fixture
async def invoker() -> AsyncIterator[FunctionInvoker]:
    # Environments start on first use (a cold start), so a test pays only for its own.
    running = FunctionInvoker(
        "test", ALL, {"OVERCAST_SERVICE": "test"}, region="us-east-1", account_id="123456789012"
    )
    yield running
    await running.close()


def body(result: Any) -> Any:
    return json.loads(result["body"])


def whoami(sub: str) -> dict[str, Any]:
    return rest_event(load_sample_event(), "GET", "/whoami", claims=id_token_claims(sub))


async def test_the_handler_gets_the_event_and_its_result_comes_back(
    invoker: FunctionInvoker,
) -> None:
    result = await invoker.invoke(ECHO, {"hello": "world"})
    assert result["statusCode"] == 200
    assert body(result) == {"hello": "world"}


async def test_the_handler_sees_lambdas_context_and_its_own_environment_variables(
    invoker: FunctionInvoker,
) -> None:
    seen = body(await invoker.invoke(CONTEXT, {}))
    assert seen["function_name"] == "test-context"
    assert seen["lambda_name"] == "test-context"
    assert seen["service"] == "test"
    assert (
        seen["invoked_function_arn"]
        == "arn:aws:lambda:us-east-1:123456789012:function:test-context"
    )
    assert seen["memory_limit_in_mb"] == 256
    assert 2000 < seen["remaining_ms"] <= 3000
    assert seen["log_group_name"] == "/aws/lambda/test-context"


async def test_a_handler_exception_is_a_function_error(invoker: FunctionInvoker) -> None:
    with pytest.raises(FunctionError) as raised:
        await invoker.invoke(FAIL, {})
    assert raised.value.error_type == "ValueError"


async def test_an_unserialisable_result_is_a_marshal_error(invoker: FunctionInvoker) -> None:
    with pytest.raises(FunctionError) as raised:
        await invoker.invoke(UNSERIALISABLE, {})
    assert raised.value.error_type == "Runtime.MarshalError"


async def test_a_handler_that_exits_is_an_exit_error_and_the_next_call_works(
    invoker: FunctionInvoker,
) -> None:
    with pytest.raises(FunctionError) as raised:
        await invoker.invoke(EXIT, {"exit": True})
    assert raised.value.error_type == "Runtime.ExitError"
    assert (await invoker.invoke(EXIT, {}))["body"] == "alive"


async def test_a_request_queued_behind_an_exit_runs_on_another_environment(
    single: FunctionInvoker,
) -> None:
    # Given one environment, and a second request queued behind one that exits it
    exiting = single.invoke(EXIT, {"exit": True})
    queued = single.invoke(EXIT, {})

    results = await asyncio.gather(exiting, queued, return_exceptions=True)

    assert isinstance(results[0], FunctionError)
    assert results[0].error_type == "Runtime.ExitError"
    assert results[1] == {"statusCode": 200, "body": "alive"}


async def test_a_queued_request_gets_its_whole_timeout_from_when_it_starts(
    single: FunctionInvoker, tmp_path: Path
) -> None:
    # Given two 1.05 s invocations of a 2 s function on one environment, sent together
    # (each has nearly a second to spare on a loaded machine)
    first = single.invoke(PATIENT_WRITER, {"seconds": 1.05, "path": str(tmp_path / "a")})
    second = single.invoke(PATIENT_WRITER, {"seconds": 1.05, "path": str(tmp_path / "b")})

    # Then neither times out, though the second finishes over 2 s after it was sent
    assert [r["body"] for r in await asyncio.gather(first, second)] == ["written"] * 2


async def test_a_queued_callers_deadline_neither_kills_the_running_one_nor_runs_late(
    single: FunctionInvoker, tmp_path: Path
) -> None:
    running = single.invoke(WRITER, {"seconds": 0.5, "path": str(tmp_path / "running")})
    impatient = single.invoke(
        WRITER, {"seconds": 0, "path": str(tmp_path / "impatient")}, give_up_after=0.1
    )

    results = await asyncio.gather(running, impatient, return_exceptions=True)

    assert results[0]["body"] == "written"  # type: ignore[index]
    assert isinstance(results[1], TimeoutError)
    await asyncio.sleep(0.3)
    assert not (tmp_path / "impatient").exists()  # skipped: its caller had given up


async def test_two_powertools_functions_at_once_each_see_only_their_own_event(
    invoker: FunctionInvoker,
) -> None:
    # Given two functions whose Powertools resolvers read the current event after a pause
    subs = [f"user-{n}" for n in range(6)]

    # When users call both at once
    results = await asyncio.gather(
        *(invoker.invoke((WHOAMI_A, WHOAMI_B)[n % 2], whoami(sub)) for n, sub in enumerate(subs))
    )

    # Then every answer names its own caller
    assert [body(result)["owner"] for result in results] == subs


async def test_a_timed_out_invocation_never_writes_late(
    invoker: FunctionInvoker, tmp_path: Path
) -> None:
    # Given a handler that writes a file after sleeping past its 1 s timeout
    late = tmp_path / "late.txt"

    with pytest.raises(FunctionTimeout):
        await invoker.invoke(WRITER, {"seconds": 1.5, "path": str(late)})

    # Then its environment was killed: the file never appears
    time.sleep(1.0)
    assert not late.exists()
    # And the next invocation runs in a fresh environment
    done = tmp_path / "done.txt"
    result = await invoker.invoke(WRITER, {"seconds": 0, "path": str(done)})
    assert result["body"] == "written"
    assert done.read_text() == "written"


async def test_a_caller_giving_up_first_gets_a_timeout_while_the_invocation_runs_on(
    invoker: FunctionInvoker, tmp_path: Path
) -> None:
    # As on Lambda, API Gateway giving up does not stop the invocation (its timeout does).
    # (A warm environment first: a caller who gives up before the run starts is skipped.)
    await invoker.invoke(WRITER, {"seconds": 0, "path": str(tmp_path / "warm")})
    written = tmp_path / "written.txt"
    began = time.monotonic()
    with pytest.raises(TimeoutError):
        await invoker.invoke(WRITER, {"seconds": 0.8, "path": str(written)}, give_up_after=0.3)
    assert time.monotonic() - began < 0.7
    deadline = time.monotonic() + 10  # a loaded machine may take longer than the 0.4 s asked
    while not written.exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert written.read_text() == "written"


async def test_an_unimportable_handler_stops_start_up_with_a_clear_message() -> None:
    broken = spec.Function("broken", "tests.fixtures.nowhere:handler")
    invoker = FunctionInvoker("test", [broken], {}, region="us-east-1", account_id="1")
    with pytest.raises(spec.DeclarationError, match="'broken': cannot load handler"):
        await invoker.start()
    await invoker.close()


async def test_an_undeclared_function_is_refused(invoker: FunctionInvoker) -> None:
    with pytest.raises(spec.DeclarationError):
        await invoker.invoke(function("other", "echo"), {})
    assert ECHO in invoker
    assert function("echo", "fail") not in invoker
