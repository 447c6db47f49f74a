"""One run of a function, as ``Invoke`` reports it: the result, or the function error.

A function error is reported as Lambda reports it: ``X-Amz-Function-Error: Unhandled``
and the error as the payload (``errorMessage``, ``errorType``, ``requestId``,
``stackTrace``; locally the stack trace is in the function's log, the console, and the
list is empty).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from overcast.local.functions.invoker import FunctionError
from overcast.local.lambda_api.directory import Target


@dataclass(frozen=True)
class Invocation:
    """What an ``Invoke`` answers: its status, payload and function error (if any)."""

    status: int
    payload: bytes = b""
    function_error: str | None = None


Run = Callable[[Target, Any], Awaitable[Invocation]]


async def run_target(target: Target, event: Any) -> Invocation:
    """Run ``target`` (as its alias, if any) on ``event``, on the function's invoker."""
    local = target.local
    try:
        result = await local.invoker.invoke(local.function, event, qualifier=target.alias)
    except FunctionError as error:
        return Invocation(200, _error_payload(error), "Unhandled")
    return Invocation(200, json.dumps(result).encode())


def _error_payload(error: FunctionError) -> bytes:
    body = {
        "errorMessage": error.error_message,
        "errorType": error.error_type,
        "requestId": str(uuid.uuid4()),
        "stackTrace": [],
    }
    return json.dumps(body).encode()
