"""What each Lambda call does, apart from HTTP: authorize, find the function, run it.

Mirrored from Lambda ("Invoke", "Asynchronous invocation", "Lambda quotas", "Actions,
resources, and condition keys for AWS Lambda"):

- Every call is authorized with IAM first: ``lambda:InvokeFunction`` and
  ``lambda:GetFunction`` on the function's ARN (unqualified: a policy naming the
  function names its aliases too, as ``function:name`` covers ``$LATEST`` there),
  ``lambda:ListFunctions`` on ``*``. An unknown function is checked against its would-be
  ARN, so a caller without the permission is denied before learning it does not exist.
- ``RequestResponse`` (the default): 200 and the handler's result as JSON. A function
  error is still 200, with ``X-Amz-Function-Error: Unhandled`` and the error as the
  payload (``errorMessage``, ``errorType``, ``requestId``, ``stackTrace``; locally the
  stack trace is in the function's log, the console, and the list is empty).
- ``Event``: 202 at once; the invocation runs in the background on the function's
  invoker. "If the function returns an error, Lambda attempts to run it two more times,
  with a one-minute wait between the first two attempts, and two minutes between the
  second and third": the same, the waits injectable (``retry_delays``). Lambda's
  event queue survives its own restarts; this one lives in the process: events still
  waiting when the local cloud stops are lost.
- ``DryRun``: 204 once the function is found and the call authorized; nothing runs.
- Payload quotas: 6 MB for synchronous invocations, 1 MB for asynchronous ones (raised
  from 256 KB in October 2025); past them ``RequestTooLargeException`` (413). The payload
  must be JSON (``InvalidRequestContentException``); an empty one is the event ``{}``.
- ``X-Amz-Log-Type: Tail`` would return the invocation's last 4 KB of log: the local
  execution environments write their log to the console, unseparated per invocation,
  so ``X-Amz-Log-Result`` is omitted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from overcast.local.functions.invoker import FunctionError
from overcast.local.iam.evaluation import AuthorizationRequest, PolicyEvaluator
from overcast.local.iam.principals import Principal
from overcast.local.lambda_api import errors
from overcast.local.lambda_api.configuration import configuration, function_code
from overcast.local.lambda_api.directory import FunctionDirectory, Target

SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
ASYNC_PAYLOAD_LIMIT = 1024 * 1024
# Lambda's waits before the second and the third attempt of a failed Event invocation.
ASYNC_RETRY_DELAYS = (60.0, 120.0)
INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")
_log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Invocation:
    """What an ``Invoke`` answers: its status, payload and function error (if any)."""

    status: int
    payload: bytes = b""
    function_error: str | None = None


class LambdaOperations:
    """The Lambda calls, for an authenticated ``principal``."""

    def __init__(
        self,
        directory: FunctionDirectory,
        evaluator: PolicyEvaluator,
        *,
        retry_delays: Sequence[float] = ASYNC_RETRY_DELAYS,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._directory = directory
        self._evaluator = evaluator
        self._retry_delays = tuple(retry_delays)
        self._sleep = sleep
        self._background: set[asyncio.Task[None]] = set()

    async def invoke(
        self,
        principal: Principal,
        function_name: str,
        payload: bytes,
        *,
        invocation_type: str = "RequestResponse",
        qualifier: str | None = None,
    ) -> Invocation:
        """``Invoke``: authorize, check the payload, then run it (or queue it, or not)."""
        if invocation_type not in INVOCATION_TYPES:
            raise errors.InvalidParameterValueException(
                f"Invalid invocation type: {invocation_type}; "
                f"expected one of {', '.join(INVOCATION_TYPES)}"
            )
        target = self._target(principal, "InvokeFunction", function_name, qualifier)
        limit = ASYNC_PAYLOAD_LIMIT if invocation_type == "Event" else SYNC_PAYLOAD_LIMIT
        if len(payload) > limit:
            raise errors.RequestTooLargeException(
                f"Request must be smaller than {limit} bytes for the InvokeFunction operation"
            )
        event = _event(payload)
        if invocation_type == "DryRun":
            return Invocation(204)
        if invocation_type == "Event":
            self._queue(target, event)
            return Invocation(202)
        return await self._run(target, event)

    def list_functions(self, principal: Principal) -> dict[str, Any]:
        """``ListFunctions``: every function, in one page."""
        self._authorize(principal, "ListFunctions", "*")
        return {"Functions": [configuration(self._directory, each) for each in self._directory]}

    def get_function(
        self, principal: Principal, function_name: str, qualifier: str | None = None
    ) -> dict[str, Any]:
        """``GetFunction``: the function's configuration and (no) code location."""
        target = self._target(principal, "GetFunction", function_name, qualifier)
        return {
            "Configuration": configuration(self._directory, target.local),
            "Code": function_code(),
        }

    async def close(self) -> None:
        """Cancel the queued asynchronous invocations (and their retries)."""
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    def _target(
        self, principal: Principal, action: str, function_name: str, qualifier: str | None
    ) -> Target:
        try:
            target = self._directory.resolve(function_name, qualifier)
        except errors.ResourceNotFoundException:
            self._authorize(principal, action, self._directory.arn(_bare(function_name)))
            raise
        self._authorize(principal, action, target.arn)
        return target

    async def _run(self, target: Target, event: Any) -> Invocation:
        local = target.local
        try:
            result = await local.invoker.invoke(local.function, event, qualifier=target.alias)
        except FunctionError as error:
            return Invocation(200, _error_payload(error), "Unhandled")
        return Invocation(200, json.dumps(result).encode())

    def _queue(self, target: Target, event: Any) -> None:
        task = asyncio.get_running_loop().create_task(self._run_async(target, event))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _run_async(self, target: Target, event: Any) -> None:
        """One Event invocation: the first attempt, then a retry after each delay."""
        for delay in (None, *self._retry_delays):
            if delay is not None:
                await self._sleep(delay)
            outcome = await self._run(target, event)
            if outcome.function_error is None:
                return
            _log.warning(
                "Function %s: asynchronous invocation failed: %s",
                target.local.name,
                outcome.payload.decode(errors="replace"),
            )
        _log.error("Function %s: asynchronous invocation dropped after retries", target.local.name)

    def _authorize(self, principal: Principal, operation: str, resource: str) -> None:
        action = f"lambda:{operation}"
        if not self._evaluator.allowed(AuthorizationRequest(principal, action, resource)):
            caller = principal.session_arn or principal.arn
            raise errors.AccessDeniedException(
                f"User: {caller} is not authorized to perform: {action} on resource: {resource}"
            )


def _event(payload: bytes) -> Any:
    if not payload.strip():
        return {}
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise errors.InvalidRequestContentException(
            "Could not parse request body into json: Could not parse payload into json"
        ) from None


def _error_payload(error: FunctionError) -> bytes:
    body = {
        "errorMessage": error.error_message,
        "errorType": error.error_type,
        "requestId": str(uuid.uuid4()),
        "stackTrace": [],
    }
    return json.dumps(body).encode()


def _bare(function_name: str) -> str:
    """The function's name in a ``FunctionName`` that named no known function."""
    tail = function_name.split(":function:")[-1]
    return tail.partition(":")[0] or function_name
