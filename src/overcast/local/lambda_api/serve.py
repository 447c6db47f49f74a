"""Lambda's API over the local cloud's running services: their functions and invokers.

Built once every service's runtime (and so its invoker) exists; the cloud then sets it
as the AWS endpoint's ``lambda_`` app, starts its asynchronous queue's dispatcher and
closes it at stop. A function's aliases are its API's stages (the
aliases the gateway invokes, as :func:`overcast.local.cloud.stage_aliases` declares
them to the invoker); its shown variables are its resource variables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path

from overcast import spec
from overcast.local.auth.request_signer import RequestSigner, SessionLookup
from overcast.local.function_resources import function_resources
from overcast.local.iam.evaluation import PolicyEvaluator
from overcast.local.lambda_api.app import SERVICE, LambdaApi
from overcast.local.lambda_api.directory import FunctionDirectory, LocalFunction
from overcast.local.lambda_api.event_queue import (
    ASYNC_RETRY_DELAYS,
    MAX_EVENT_AGE,
    AsyncEventQueue,
)
from overcast.local.lambda_api.event_store import AsyncEventStore, events_path
from overcast.local.lambda_api.operations import LambdaOperations
from overcast.local.service_runtime import ServiceRuntime


def lambda_api(
    functions: Iterable[LocalFunction],
    sessions: SessionLookup,
    *,
    data_dir: Path,
    region: str,
    account_id: str,
    clock: Callable[[], datetime],
    retry_delays: Sequence[float] = ASYNC_RETRY_DELAYS,
    max_event_age: float = MAX_EVENT_AGE,
) -> LambdaApi:
    """Lambda's API on ``functions``, for callers signed with ``sessions``' keys; its
    asynchronous events kept under ``data_dir``. Its operations must be started (and
    closed) on the event loop that serves it."""
    directory = FunctionDirectory(functions, region=region, account_id=account_id)
    events = AsyncEventQueue(
        AsyncEventStore(events_path(data_dir)),
        directory,
        retry_delays=retry_delays,
        max_event_age=max_event_age,
        clock=lambda: clock().timestamp(),
    )
    operations = LambdaOperations(directory, PolicyEvaluator(clock), events)
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
