"""What each Lambda call does, apart from HTTP: authorize, find the function, run it.

Mirrored from Lambda ("Invoke", "Asynchronous invocation", "Lambda quotas", "Actions,
resources, and condition keys for AWS Lambda"):

- Every call is authorized with IAM first: ``lambda:InvokeFunction`` and
  ``lambda:GetFunction`` on the ARN the caller used: the function's for no qualifier or
  ``$LATEST``, the alias's (``function:name:alias``) for an alias — as on Lambda, a
  permission on ``function:name`` does not cover ``function:name:live``, and one on the
  alias covers only the alias ("Versioning, aliases and resource policies");
  ``lambda:ListFunctions`` on ``*``. An unknown function is checked against its would-be
  ARN, so a caller without the permission is denied before learning it does not exist.
- ``RequestResponse`` (the default): 200 and the handler's result as JSON. A function
  error is still 200, with ``X-Amz-Function-Error: Unhandled`` and the error as the
  payload (:mod:`~overcast.local.lambda_api.invocation`).
- ``Event``: 202 once the event is kept in the durable asynchronous queue
  (:mod:`~overcast.local.lambda_api.event_queue`: Lambda's retries, maximum event age,
  at-least-once delivery across restarts); the event's id is the call's request id.
- ``DryRun``: 204 once the function is found and the call authorized; nothing runs.
- Payload quotas: 6 MB for synchronous invocations, 1 MB for asynchronous ones (raised
  from 256 KB in October 2025); past them ``RequestTooLargeException`` (413). The payload
  must be JSON (``InvalidRequestContentException``); an empty one is the event ``{}``.
- ``X-Amz-Log-Type: Tail`` would return the invocation's last 4 KB of log: the local
  execution environments write their log to the console, unseparated per invocation,
  so ``X-Amz-Log-Result`` is omitted.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from overcast.local.iam.evaluation import AuthorizationRequest, PolicyEvaluator
from overcast.local.iam.principals import Principal
from overcast.local.lambda_api import errors
from overcast.local.lambda_api.configuration import configuration, function_code
from overcast.local.lambda_api.directory import FunctionDirectory, Target
from overcast.local.lambda_api.event_queue import AsyncEventQueue
from overcast.local.lambda_api.invocation import Invocation, Run, run_target

SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
ASYNC_PAYLOAD_LIMIT = 1024 * 1024
INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")


class LambdaOperations:
    """The Lambda calls, for an authenticated ``principal``."""

    def __init__(
        self,
        directory: FunctionDirectory,
        evaluator: PolicyEvaluator,
        events: AsyncEventQueue,
        *,
        run: Run = run_target,
    ) -> None:
        self._directory = directory
        self._evaluator = evaluator
        self._events = events
        self._run = run

    async def invoke(
        self,
        principal: Principal,
        function_name: str,
        payload: bytes,
        *,
        invocation_type: str = "RequestResponse",
        qualifier: str | None = None,
        request_id: str | None = None,
    ) -> Invocation:
        """``Invoke``: authorize, check the payload, then run it (or queue it, or not).
        A queued event's id is ``request_id`` (a new one if None)."""
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
            await self._events.accept(target, event, request_id or str(uuid.uuid4()))
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

    def start(self) -> None:
        """Start running queued ``Event`` invocations (those a previous run left first)."""
        self._events.start()

    async def close(self) -> None:
        """Stop running queued invocations; they stay queued for the next start."""
        await self._events.close()

    def _target(
        self, principal: Principal, action: str, function_name: str, qualifier: str | None
    ) -> Target:
        try:
            target = self._directory.resolve(function_name, qualifier)
        except errors.ResourceNotFoundException:
            self._authorize(principal, action, self._directory.arn(_bare(function_name)))
            raise
        resource = target.arn if target.alias is None else f"{target.arn}:{target.alias}"
        self._authorize(principal, action, resource)
        return target

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


def _bare(function_name: str) -> str:
    """The function's name in a ``FunctionName`` that named no known function."""
    tail = function_name.split(":function:")[-1]
    return tail.partition(":")[0] or function_name
