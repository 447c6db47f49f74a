"""One run of a function, as ``Invoke`` reports it: the result, or the function error.

A function error is reported as Lambda reports it: ``X-Amz-Function-Error: Unhandled``
and the error as the payload (``errorMessage``, ``errorType``, ``requestId``,
``stackTrace``; locally the stack trace is in the function's log, the console, and the
list is empty). A result over the synchronous response quota (6 MB, "Lambda quotas")
is such an error too, ``Function.ResponseSizeTooLarge``, as Lambda answers it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from overcast.local.functions.invoker import FunctionError
from overcast.local.lambda_api.directory import Target

# Lambda quotas: "Invocation payload (request and response): 6 MB each for synchronous".
MAX_RESPONSE_BYTES = 6 * 1024 * 1024
RESPONSE_TOO_LARGE = "Function.ResponseSizeTooLarge"


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
        return Invocation(200, _error_payload(error.error_message, error.error_type), "Unhandled")
    payload = json.dumps(result).encode()
    if len(payload) > MAX_RESPONSE_BYTES:
        message = (
            f"Response payload size ({len(payload)} bytes) exceeded maximum allowed payload "
            f"size ({MAX_RESPONSE_BYTES} bytes)."
        )
        return Invocation(200, _error_payload(message, RESPONSE_TOO_LARGE), "Unhandled")
    return Invocation(200, payload)


def _error_payload(message: str, error_type: str) -> bytes:
    body = {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": str(uuid.uuid4()),
        "stackTrace": [],
    }
    return json.dumps(body).encode()
