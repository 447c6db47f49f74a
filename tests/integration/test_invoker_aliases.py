"""Lambda aliases in the real invoker: each API stage invokes the alias named after it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from overcast import spec
from overcast.local.functions.invoker import FunctionInvoker
from tests.fixtures import handlers

pytestmark = pytest.mark.anyio

CONTEXT = spec.Function("api", "tests.fixtures.handlers:context_and_environment")
V2 = "tests.integration.test_invoker_aliases:context_v2"
ARN = "arn:aws:lambda:us-east-1:123456789012:function"


def context_v2(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Stage v2's own code: what it sees, and that it is v2."""
    answer = handlers.context_and_environment(event, context)
    return {**answer, "headers": {"version": "2"}}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def invoker() -> AsyncIterator[FunctionInvoker]:
    running = FunctionInvoker(
        "shop",
        (CONTEXT,),
        {},
        region="us-east-1",
        account_id="123456789012",
        concurrency=1,
        aliases={"api": {"v1": CONTEXT.handler, "v2": V2}},
    )
    await running.start()
    yield running
    await running.close()


def body(result: Any) -> Any:
    return json.loads(result["body"])


async def test_an_alias_with_code_of_its_own_runs_it_in_its_own_environment(
    invoker: FunctionInvoker,
) -> None:
    v2 = await invoker.invoke(CONTEXT, {}, qualifier="v2")
    unqualified = await invoker.invoke(CONTEXT, {})

    assert (v2["headers"], "headers" in unqualified) == ({"version": "2"}, False)
    seen, own = body(v2), body(unqualified)
    assert (seen["lambda_name"], own["lambda_name"]) == ("shop-api-v2", "shop-api")
    assert seen["invoked_function_arn"] == f"{ARN}:shop-api-v2:v2"
    assert own["invoked_function_arn"] == f"{ARN}:shop-api"
    # Both were started by start(): the function's environment and the alias's own
    assert len(invoker.environments()) == 2


async def test_an_alias_on_the_functions_own_code_shares_its_environments(
    invoker: FunctionInvoker,
) -> None:
    through_alias = body(await invoker.invoke(CONTEXT, {}, qualifier="v1"))
    unqualified = body(await invoker.invoke(CONTEXT, {}))

    assert through_alias["environment_id"] == unqualified["environment_id"]
    assert through_alias["lambda_name"] == "shop-api"


async def test_invoking_an_alias_the_function_lacks_is_refused(invoker: FunctionInvoker) -> None:
    with pytest.raises(spec.DeclarationError, match="alias 'v3'"):
        await invoker.invoke(CONTEXT, {}, qualifier="v3")


async def test_an_alias_whose_handler_does_not_load_stops_start_up() -> None:
    running = FunctionInvoker(
        "shop",
        (CONTEXT,),
        {},
        region="us-east-1",
        account_id="123456789012",
        concurrency=1,
        aliases={"api": {"v2": "tests.fixtures.handlers:no_such_handler"}},
    )
    try:
        with pytest.raises(spec.DeclarationError, match="cannot load handler"):
            await running.start()
    finally:
        await running.close()
