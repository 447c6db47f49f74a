"""Invoke a service's Lambda handlers, each function in its own execution environments.

What is mirrored from Lambda:

- Each function runs in execution environments of its own — worker processes (see
  ``environment``) — one invocation at a time each, with the function's environment
  variables: the service's plus the ones Lambda defines (``AWS_LAMBDA_FUNCTION_NAME``,
  ``AWS_REGION``, ``_HANDLER``, ...). Module state is per environment; functions never
  share it.
- :meth:`FunctionInvoker.start` runs every function's init phase (importing its
  handler) before the local cloud says it is ready, so a broken import stops start-up
  with a message naming the function instead of failing the first request.
- Events and results cross as JSON, as over Lambda's Invoke API; a result that is not
  JSON-serialisable fails with ``Runtime.MarshalError`` (the worker encodes results
  with the standard library's ``json``, as Lambda's Python runtime does; the cloud's
  side of the channel uses ``orjson``, which is several times faster).
- A handler exception becomes :class:`FunctionError` with Lambda's ``errorType`` (the
  exception's class name) and ``errorMessage``; the traceback goes to the function's
  log (the local cloud's console).
- The function's own ``timeout_seconds`` is enforced: :class:`FunctionTimeout`
  ("Task timed out after 3.00 seconds"), and the environment is killed, as Lambda
  discards it. A handler can never go on writing after its caller gave up.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sys
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import orjson

from overcast import spec
from overcast.local.functions.deadlines import Deadlines
from overcast.local.functions.environment import (
    EnvironmentDied,
    EnvironmentPool,
    ExecutionEnvironment,
    InitError,
    NotStarted,
)

logger = logging.getLogger(__name__)

# Environments per function: Lambda scales out with concurrent requests; locally a few
# processes are enough to keep a slow handler from holding up the next request.
DEFAULT_CONCURRENCY = 2


class Invoker(Protocol):
    """What the gateway needs of an invoker (the real one runs worker processes)."""

    def __contains__(self, function: object) -> bool: ...

    async def invoke(
        self, function: spec.Function, event: Any, *, give_up_after: float | None = None
    ) -> Any: ...


class FunctionError(Exception):
    """The function failed: Lambda's ``errorType`` and ``errorMessage``."""

    def __init__(self, error_type: str, error_message: str) -> None:
        super().__init__(f"{error_type}: {error_message}")
        self.error_type = error_type
        self.error_message = error_message


class FunctionTimeout(FunctionError):
    """The function ran past its timeout."""

    def __init__(self, function_name: str, timeout_seconds: float) -> None:
        super().__init__("Sandbox.Timedout", f"Task timed out after {timeout_seconds:.2f} seconds")
        self.function_name = function_name


class _Deployed:
    """One function as deployed locally: its names, variables and environments."""

    def __init__(
        self,
        service: str,
        function: spec.Function,
        base: Mapping[str, str],
        *,
        region: str,
        account_id: str,
        concurrency: int,
    ) -> None:
        self.function = function
        self.name = f"{service}-{function.name}"
        arn = f"arn:aws:lambda:{region}:{account_id}:function:{self.name}"
        log_stream = f"{time.strftime('%Y/%m/%d', time.gmtime())}/[$LATEST]{uuid.uuid4().hex}"
        self.environments = EnvironmentPool(
            {
                **base,
                "AWS_LAMBDA_FUNCTION_NAME": self.name,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
                "AWS_REGION": region,
                "AWS_DEFAULT_REGION": region,
                "_HANDLER": function.handler,
                "OVERCAST_FUNCTION_ARN": arn,
            },
            concurrency,
        )


class FunctionInvoker:
    """Runs a service's functions, each in up to ``concurrency`` execution environments."""

    def __init__(
        self,
        service: str,
        functions: Iterable[spec.Function],
        environment: Mapping[str, str],
        *,
        region: str,
        account_id: str,
        python_path: Iterable[str] = (),
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        # Workers import the handler from where this process would: the project's
        # python_path first, then this interpreter's own path.
        import_path = [*python_path, *(entry for entry in sys.path if entry)]
        base = {**environment, "PYTHONPATH": ":".join(dict.fromkeys(import_path))}
        self._deployed = {
            function.name: _Deployed(
                service,
                function,
                base,
                region=region,
                account_id=account_id,
                concurrency=concurrency,
            )
            for function in functions
        }
        self._deadlines = Deadlines()
        # Not uuid4()/os.urandom on the hot path: they release the GIL. Ids need no secrecy.
        self._random = random.Random(uuid.uuid4().int)

    def __contains__(self, function: object) -> bool:
        deployed = self._deployed.get(getattr(function, "name", ""))
        return deployed is not None and deployed.function == function

    async def start(self) -> None:
        """Every function's init phase: one environment each, started side by side."""
        deployed = list(self._deployed.values())
        results = await asyncio.gather(
            *(each.environments.warm_up() for each in deployed), return_exceptions=True
        )
        for each, result in zip(deployed, results, strict=True):
            if isinstance(result, InitError):
                raise spec.DeclarationError(
                    f"Function {each.function.name!r}: cannot load handler "
                    f"{each.function.handler!r}: {result}"
                ) from result
            if isinstance(result, BaseException):
                raise result

    async def invoke(
        self, function: spec.Function, event: Any, *, give_up_after: float | None = None
    ) -> Any:
        """Run ``function`` with ``event``; its JSON result, or FunctionError/FunctionTimeout.

        ``give_up_after``: the caller's own deadline in seconds (API Gateway's integration
        timeout). If it comes first, the caller gets ``TimeoutError``. Lambda would let
        that invocation run on; here its environment is killed instead, so that nothing
        it does lands after its caller was answered.
        """
        deployed = self._deployed.get(function.name)
        if deployed is None:
            raise spec.DeclarationError(f"Function {function.name!r} is not deployed here.")
        timeout = function.timeout_seconds
        wait = timeout if give_up_after is None else min(timeout, give_up_after)
        request = self._request(event, timeout)
        while True:
            environment = await deployed.environments.acquire()
            try:
                answer = await self._send(deployed, environment, request, timeout, wait)
            except NotStarted:
                continue  # queued on an environment that was killed: run it on another
            return self._outcome(deployed, environment, answer)

    async def _send(
        self,
        deployed: _Deployed,
        environment: ExecutionEnvironment,
        request: bytes,
        timeout: float,
        wait: float,
    ) -> Any:
        reply = environment.invoke(request)
        self._deadlines.watch(reply, wait)
        try:
            return orjson.loads(await reply)
        except asyncio.CancelledError:
            deployed.environments.discard(environment)
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            if wait < timeout:
                raise TimeoutError(f"{deployed.name}: no result in {wait} seconds") from None
            logger.error("Function %s: task timed out after %.2f seconds", deployed.name, timeout)
            raise FunctionTimeout(deployed.name, timeout) from None
        except EnvironmentDied:
            deployed.environments.discard(environment)
            # Lambda's words when a runtime process ends in the middle of an invocation.
            raise FunctionError(
                "Runtime.ExitError", "Runtime exited without providing a reason"
            ) from None
        finally:
            self._deadlines.forget(reply)

    def close(self) -> None:
        """End every environment (workers finish their current invocation, if any, first)."""
        for deployed in self._deployed.values():
            deployed.environments.close()

    def _request(self, event: Any, timeout: float) -> bytes:
        request_id = _request_id(self._random.randbytes(16))
        deadline_ms = int((time.time() + timeout) * 1000)
        message = {"event": event, "requestId": request_id, "deadlineMs": deadline_ms}
        try:
            return orjson.dumps(message)
        except TypeError as exc:
            raise FunctionError(
                "InvalidRequestContentException", f"Could not encode: {exc}"
            ) from exc

    @staticmethod
    def _outcome(deployed: _Deployed, environment: ExecutionEnvironment, answer: Any) -> Any:
        if "errorType" not in answer:
            return answer["result"]
        if answer["errorType"] == "Runtime.ExitError":
            deployed.environments.discard(environment)  # the worker is exiting
        raise FunctionError(answer["errorType"], answer["errorMessage"])


def _request_id(entropy: bytes) -> str:
    """A version-4 UUID string from 16 random bytes (cheaper than ``uuid.UUID``)."""
    h = entropy.hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[entropy[8] & 3]}{h[17:20]}-{h[20:32]}"
