"""Invoke Lambda handlers in-process, on a thread pool, as Lambda would run them.

What is mirrored from Lambda:

- Every handler (``"package.module:function"``) is imported when the invoker is built
  — Lambda's init phase — so a broken import stops the local cloud at start-up with a
  message naming the function, instead of failing the first request.
- Each function sees its own environment: a copy of the service's variables plus
  the ones Lambda defines (``AWS_LAMBDA_FUNCTION_NAME``, ``AWS_REGION``, ...), through
  :func:`overcast.runtime.using_environment`. The copy is built once per function, so
  a handler's ``ColdStart`` builds its dependencies once, like a warm Lambda. A
  function's worker threads run only that function, so each enters the environment
  once, when it starts.
- The result comes out as JSON, as over Lambda's Invoke API (see ``marshal``): the
  caller cannot share objects with the handler, and a result that is not
  JSON-serialisable fails with ``Runtime.MarshalError``. The event is handed over as
  is, without a JSON copy (which would cost more than the rest of a gateway request):
  callers pass an event built for this one invocation, made of JSON types, and do
  not reuse it.
- A handler exception becomes :class:`FunctionError` with Lambda's ``errorType`` (the
  exception's class name) and ``errorMessage``; the traceback is logged, as Lambda
  writes it to the function's log.
- The function's own ``timeout_seconds`` is enforced: :class:`FunctionTimeout`
  ("Task timed out after 3.00 seconds").

Unlike Lambda, a timed-out handler cannot be stopped: Python cannot kill a thread, so
it keeps running to completion on its thread and its result is discarded. As Lambda
replaces a timed-out execution environment, the invoker retires that thread and the
function's next invocations run on a fresh one — meanwhile the old call may still be
running beside them. A handler stuck forever holds its (retired) thread forever.

Each invocation costs one thread hop (see ``pool``) and one dict entry for its
deadline (see ``deadlines``): the handler and the result's JSON copy run on the pool
thread.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, cast

from overcast import spec
from overcast.local.functions.context import LambdaContext
from overcast.local.functions.deadlines import Deadlines
from overcast.local.functions.marshal import MarshalError, marshal
from overcast.local.functions.pool import HandlerPool
from overcast.runtime import using_environment

Handler = Callable[[Any, LambdaContext], Any]

logger = logging.getLogger(__name__)


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
    """One function as deployed locally: its handler, environment and names."""

    def __init__(
        self,
        service: str,
        function: spec.Function,
        base: Mapping[str, str],
        *,
        region: str,
        account_id: str,
        max_workers: int,
    ) -> None:
        self.function = function
        self.handler = _import_handler(function)
        self.name = f"{service}-{function.name}"
        self.arn = f"arn:aws:lambda:{region}:{account_id}:function:{self.name}"
        self.log_stream = f"{time.strftime('%Y/%m/%d', time.gmtime())}/[$LATEST]{uuid.uuid4().hex}"
        self.environment: Mapping[str, str] = MappingProxyType(
            {
                **base,
                "AWS_LAMBDA_FUNCTION_NAME": self.name,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": self.log_stream,
                "AWS_REGION": region,
                "AWS_DEFAULT_REGION": region,
                "_HANDLER": function.handler,
            }
        )
        # The function's threads run only this function: each enters its environment once.
        self.pool = HandlerPool(
            max_workers,
            f"lambda-{service}-{function.name}",
            worker_context=functools.partial(using_environment, self.environment),
        )


class FunctionInvoker:
    """Runs a service's functions' handlers, each on its own worker thread(s).

    ``max_workers`` is the number of invocations of *one* function that may run at
    once. Lambda runs one invocation per execution environment at a time, and handler
    code relies on it: a Powertools resolver keeps the current event on a module-level
    ``app``, so two concurrent invocations in one process would mix requests (and one
    user's claims with another's). The default, 1, mirrors one warm execution
    environment per function; raise it only for handlers known to be thread-safe.
    """

    def __init__(
        self,
        service: str,
        functions: Iterable[spec.Function],
        environment: Mapping[str, str],
        *,
        region: str,
        account_id: str,
        max_workers: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._deployed = {
            function.name: _Deployed(
                service,
                function,
                environment,
                region=region,
                account_id=account_id,
                max_workers=max_workers,
            )
            for function in functions
        }
        self._clock = clock
        self._deadlines = Deadlines()
        # Not uuid4()/os.urandom on the hot path: they release the GIL. Ids need no secrecy.
        self._random = random.Random(uuid.uuid4().int)

    def __contains__(self, function: object) -> bool:
        return isinstance(function, spec.Function) and function.name in self._deployed

    async def invoke(
        self, function: spec.Function, event: Any, *, give_up_after: float | None = None
    ) -> Any:
        """Run ``function`` with ``event``; its JSON result, or FunctionError/FunctionTimeout.

        ``give_up_after``: the caller's own deadline in seconds (API Gateway's integration
        timeout). If it comes before the function's timeout, the caller stops waiting
        with ``TimeoutError`` while the invocation runs on, as a Lambda invocation does
        when its API Gateway request times out.
        """
        deployed = self._deployed.get(function.name)
        if deployed is None:
            raise spec.DeclarationError(f"Function {function.name!r} is not deployed here.")
        timeout = function.timeout_seconds
        wait = timeout if give_up_after is None else min(timeout, give_up_after)
        running = deployed.pool.submit(self._run, deployed, event, timeout)
        # The deadline cancels only the future, so a CancelledError without a pending
        # cancel of this task is the deadline's.
        self._deadlines.watch(running, wait)
        try:
            return await running
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            if wait < timeout:
                raise TimeoutError(f"{deployed.name}: no result in {wait} seconds") from None
            logger.error("Function %s: task timed out after %.2f seconds", deployed.name, timeout)
            deployed.pool.abandon(running)
            raise FunctionTimeout(deployed.name, timeout) from None
        finally:
            self._deadlines.forget(running)

    def close(self) -> None:
        """Stop taking work. Running handlers finish on their threads; queued ones are dropped."""
        for deployed in self._deployed.values():
            deployed.pool.close()

    def _run(self, deployed: _Deployed, event: Any, timeout: float) -> Any:
        context = LambdaContext(
            function_name=deployed.name,
            invoked_function_arn=deployed.arn,
            memory_limit_in_mb=deployed.function.memory_mb,
            aws_request_id=_request_id(self._random.randbytes(16)),
            log_stream_name=deployed.log_stream,
            deadline=self._clock() + timeout,
            clock=self._clock,
        )
        result = _call(deployed, event, context)
        try:
            return marshal(result)
        except MarshalError as exc:
            raise FunctionError("Runtime.MarshalError", str(exc)) from None


def _request_id(entropy: bytes) -> str:
    """A version-4 UUID string from 16 random bytes (cheaper than ``uuid.UUID``)."""
    h = entropy.hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[entropy[8] & 3]}{h[17:20]}-{h[20:32]}"


def _call(deployed: _Deployed, payload: Any, context: LambdaContext) -> Any:
    try:
        return deployed.handler(payload, context)
    except Exception as exc:
        logger.exception("Function %s failed (request %s)", deployed.name, context.aws_request_id)
        raise FunctionError(type(exc).__name__, str(exc)) from None
    except SystemExit as exc:
        # Lambda reports a handler that exits the process as Runtime.ExitError.
        raise FunctionError(
            "Runtime.ExitError", f"Runtime exited with error: exit status {exc.code}"
        ) from None


def _import_handler(function: spec.Function) -> Handler:
    module_name, _, attribute = function.handler.partition(":")
    try:
        module = importlib.import_module(module_name)
        handler = getattr(module, attribute)
    except Exception as exc:
        raise spec.DeclarationError(
            f"Function {function.name!r}: cannot import handler {function.handler!r}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if not callable(handler):
        raise spec.DeclarationError(
            f"Function {function.name!r}: handler {function.handler!r} is not callable."
        )
    return cast(Handler, handler)
