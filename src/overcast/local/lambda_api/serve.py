"""Lambda's API over the local cloud's running services: their functions and invokers.

Built once every service's runtime (and so its invoker) exists; the cloud then sets it
as the AWS endpoint's ``lambda_`` app. A function's aliases are its API's stages (the
aliases the gateway invokes, as :func:`overcast.local.cloud.stage_aliases` declares
them to the invoker); its shown variables are its resource variables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from overcast import spec
from overcast.local.function_resources import function_resources
from overcast.local.iam.evaluation import PolicyEvaluator
from overcast.local.lambda_api.app import SERVICE, LambdaApi
from overcast.local.lambda_api.directory import FunctionDirectory, LocalFunction
from overcast.local.lambda_api.operations import ASYNC_RETRY_DELAYS, LambdaOperations
from overcast.local.service_runtime import ServiceRuntime
from overcast.local.sqs.signer import RequestSigner, SessionLookup


def lambda_api(
    functions: Iterable[LocalFunction],
    sessions: SessionLookup,
    *,
    region: str,
    account_id: str,
    clock: Callable[[], datetime],
    retry_delays: Sequence[float] = ASYNC_RETRY_DELAYS,
) -> LambdaApi:
    """Lambda's API on ``functions``, for callers signed with ``sessions``' keys."""
    directory = FunctionDirectory(functions, region=region, account_id=account_id)
    operations = LambdaOperations(directory, PolicyEvaluator(clock), retry_delays=retry_delays)
    signer = RequestSigner(sessions, service=SERVICE, region=region, clock=clock)
    return LambdaApi(operations, signer)


def local_functions(runtimes: Iterable[ServiceRuntime]) -> list[LocalFunction]:
    """Every function of every running service, with its invoker and aliases."""
    return [
        LocalFunction(
            runtime.service.name,
            function,
            runtime.invoker,
            aliases=_aliases(runtime.service.api, function),
            variables=function_resources(runtime.service.name, function, runtime.resources),
        )
        for runtime in runtimes
        for function in runtime.service.all_functions
    ]


def _aliases(api: spec.Api | None, function: spec.Function) -> frozenset[str]:
    if api is None or function not in api.functions:
        return frozenset()
    return frozenset(stage.name for stage in api.stages)
