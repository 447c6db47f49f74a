"""Run one function's handler on one event, in a process of its own: ``python -m
overcast.toolkit.invoke``.

The request (``{"handler", "event", "function", "timeout_seconds"}``) arrives as JSON
on stdin; the handler's result is written to stdout as JSON. The function's
environment variables are this process's own, as on Lambda, so its ``bootstrap()``
reads them as it would there. Whatever the handler prints goes to stderr.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import sys
import time
import uuid
from typing import Any

from overcast.local.functions.context import LambdaContext


def invoke(request: dict[str, Any]) -> Any:
    """Import ``request["handler"]`` (``module:function``) and call it on the event."""
    module_name, _, attribute = str(request["handler"]).partition(":")
    handler = getattr(importlib.import_module(module_name), attribute)
    name = str(request["function"])
    context = LambdaContext(
        function_name=name,
        invoked_function_arn=f"arn:aws:lambda:us-east-1:000000000000:function:{name}",
        memory_limit_in_mb=256,
        aws_request_id=str(uuid.uuid4()),
        log_stream_name="offline",
        deadline=time.monotonic() + float(request.get("timeout_seconds", 29)),
        clock=time.monotonic,
    )
    return handler(request["event"], context)


def main() -> None:
    request = json.load(sys.stdin)
    with contextlib.redirect_stdout(sys.stderr):
        result = invoke(request)
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
