"""The process inside one execution environment: Lambda's runtime loop, locally.

Started by :class:`overcast.local.functions.environment.ExecutionEnvironment` as
``python -m overcast.local.functions.worker FD`` with the function's environment
variables (``_HANDLER`` names the handler, as on Lambda). FD is this end of a socket
pair that carries length-prefixed JSON frames (see ``frames``); stdout and stderr are
the function's log, inherited from the local cloud.

As Lambda's runtime does, the worker imports the handler once (the init phase) and
reports whether it could, then runs one invocation at a time until the socket closes:

- ``{"event", "requestId", "deadlineMs"}`` in;
- ``{"result": ...}`` or ``{"errorType", "errorMessage"}`` out — a handler exception
  by its class name (its traceback goes to the log), a result that is not JSON
  ``Runtime.MarshalError``, ``sys.exit`` ``Runtime.ExitError`` (and the worker exits,
  as Lambda discards that environment).
"""

from __future__ import annotations

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
from overcast.local.functions.frames import read_frame, write_frame


def load_handler(reference: str) -> Any:
    module_name, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def run(channel: socket.socket) -> None:
    reader = channel.makefile("rb")
    try:
        handler = load_handler(os.environ["_HANDLER"])
    except Exception as exc:
        traceback.print_exc()
        error = {"errorType": "Runtime.ImportModuleError", "errorMessage": f"{exc!r}"}
        write_frame(channel, json.dumps(error).encode())
        return
    write_frame(channel, b'{"ready":true}')
    while (frame := read_frame(reader)) is not None:
        reply, exiting = invoke(handler, orjson.loads(frame))
        write_frame(channel, reply)
        if exiting:
            return


def invoke(handler: Any, request: dict[str, Any]) -> tuple[bytes, bool]:
    """One invocation's reply frame, and whether this environment must end after it."""
    context = LambdaContext(
        function_name=os.environ["AWS_LAMBDA_FUNCTION_NAME"],
        invoked_function_arn=os.environ["OVERCAST_FUNCTION_ARN"],
        memory_limit_in_mb=int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]),
        aws_request_id=request["requestId"],
        log_stream_name=os.environ["AWS_LAMBDA_LOG_STREAM_NAME"],
        deadline=request["deadlineMs"] / 1000,
        clock=time.time,
    )
    try:
        result = handler(request["event"], context)
    except SystemExit as exc:
        message = f"Runtime exited with error: exit status {exc.code}"
        return _error("Runtime.ExitError", message), True
    except Exception as exc:
        traceback.print_exc()
        return _error(type(exc).__name__, str(exc)), False
    try:
        return json.dumps({"result": result}, separators=(",", ":")).encode(), False
    except (TypeError, ValueError) as exc:
        # Lambda's Python runtime: "Unable to marshal response: Object of type ... is not
        # JSON serializable".
        return _error("Runtime.MarshalError", f"Unable to marshal response: {exc}"), False


def _error(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


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
