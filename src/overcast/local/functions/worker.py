"""The process inside one execution environment: Lambda's runtime loop, locally.

Started by :class:`overcast.local.functions.environment.ExecutionEnvironment` as
``python -m overcast.local.functions.worker FD`` with the function's environment
variables (``_HANDLER`` names the handler, as on Lambda). FD is this end of a socket
pair that carries length-prefixed JSON frames (see ``frames``); stdout and stderr are
the function's log, inherited from the local cloud and unbuffered (as Lambda's
runtime makes them), so that nothing printed is lost if the environment is killed.

As Lambda's runtime does, the worker imports the handler once (the init phase) and
reports whether it could, then runs one invocation at a time until the socket closes:

- ``{"event", "requestId", "timeoutMs", "giveUpAtMs"}`` in. The invocation's deadline
  (``context.get_remaining_time_in_millis``) counts from when the worker starts it. A
  request whose caller has given up (``giveUpAtMs`` passed) while it waited behind
  another is skipped: ``{"skipped": true}``.
- ``{"result": ...}`` or ``{"errorType", "errorMessage"}`` out — a handler exception
  by its class name (its traceback goes to the log), a result that is not JSON
  ``Runtime.MarshalError``, ``sys.exit`` ``Runtime.ExitError`` (and the worker exits,
  as Lambda discards that environment).

Not Lambda's: ``{"stats": true}`` in asks for the counters of the read caches the
function opened (``overcast stats``); ``{"stats": {table: {cache: counters}}}`` out.
"""

from __future__ import annotations

import contextlib
import decimal
import importlib
import json
import os
import socket
import sys
import time
import traceback
from typing import Any

import orjson

from overcast.local.functions.context import LambdaContext
from overcast.local.functions.frames import EXIT_ERROR, error_reply, read_frame, write_frame

SKIPPED = b'{"skipped":true}'


def load_handler(reference: str) -> Any:
    module_name, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def run(channel: socket.socket) -> None:
    reader = channel.makefile("rb")
    try:
        handler = load_handler(os.environ["_HANDLER"])
    except Exception as exc:
        _log_traceback()
        write_frame(channel, error_reply("Runtime.ImportModuleError", f"{exc!r}"))
        return
    write_frame(channel, b'{"ready":true}')
    while (frame := read_frame(reader)) is not None:
        request = orjson.loads(frame)
        if "stats" in request:
            write_frame(channel, read_cache_stats())
            continue
        reply, exiting = invoke(handler, request)
        write_frame(channel, reply)
        if exiting:
            return


def read_cache_stats() -> bytes:
    """The counters of this environment's read caches (none if it opened no table)."""
    adapters = sys.modules.get("overcast.runtime.adapters")
    stats = {} if adapters is None else adapters.read_caches.stats()
    return orjson.dumps({"stats": stats})


def invoke(handler: Any, request: dict[str, Any]) -> tuple[bytes, bool]:
    """One invocation's reply frame, and whether this environment must end after it."""
    now = time.time()
    give_up_at = request.get("giveUpAtMs")
    if give_up_at is not None and now * 1000 >= give_up_at:
        return SKIPPED, False
    context = LambdaContext(
        function_name=os.environ["AWS_LAMBDA_FUNCTION_NAME"],
        invoked_function_arn=os.environ["OVERCAST_FUNCTION_ARN"],
        memory_limit_in_mb=int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]),
        aws_request_id=request["requestId"],
        log_stream_name=os.environ["AWS_LAMBDA_LOG_STREAM_NAME"],
        deadline=now + request["timeoutMs"] / 1000,
        clock=time.time,
    )
    try:
        result = handler(request["event"], context)
    except SystemExit as exc:
        return error_reply(EXIT_ERROR, f"Runtime exited with error: exit status {exc.code}"), True
    except Exception as exc:
        _log_traceback()
        return error_reply(type(exc).__name__, str(exc)), False
    try:
        encoded = json.dumps(
            {"result": result}, separators=(",", ":"), allow_nan=False, default=_number
        )
    except (TypeError, ValueError) as exc:
        # Lambda's Python runtime: "Unable to marshal response: Object of type ... is not
        # JSON serializable".
        return error_reply("Runtime.MarshalError", f"Unable to marshal response: {exc}"), False
    return encoded.encode(), False


def _number(value: Any) -> Any:
    # Lambda's runtime encodes Decimal (what boto3 gives for DynamoDB numbers) as a number.
    if isinstance(value, decimal.Decimal) and value.is_finite():
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _log_traceback() -> None:
    # If nobody reads the log any more, the invocation's answer still matters.
    with contextlib.suppress(OSError):
        traceback.print_exc()


def main() -> None:
    channel = socket.socket(fileno=int(sys.argv[1]))
    try:
        run(channel)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the local cloud went away: so does this environment
    finally:
        channel.close()


if __name__ == "__main__":
    main()
