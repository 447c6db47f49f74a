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
- Aliases (Lambda's ``Invoke`` with a ``Qualifier``): ``aliases`` names, per function,
  the aliases it has and the handler each runs. An alias running the function's own
  handler shares its environments; one running other code (an API stage with handler
  code of its own: on AWS a function of its own, ``<function>-<alias>``) gets
  environments of its own, whose ``invoked_function_arn`` ends with ``:<alias>``.
  Invoking an alias a function does not have fails, as Lambda's
  ``ResourceNotFoundException`` does.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sys
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, Protocol

import orjson

from overcast import spec
from overcast.local.formats import uuid4_from
from overcast.local.functions.deadlines import Deadlines
from overcast.local.functions.environment import (
    EnvironmentDied,
    EnvironmentPool,
    ExecutionEnvironment,
    HandlerTimedOut,
    InitError,
    NotStarted,
)
from overcast.local.functions.frames import EXIT_ERROR

logger = logging.getLogger(__name__)

# Environments per function: Lambda scales out with concurrent requests; locally a few
# processes are enough to keep a slow handler from holding up the next request.
DEFAULT_CONCURRENCY = 2


class Invoker(Protocol):
    """What the gateway needs of an invoker (the real one runs worker processes)."""

    def __contains__(self, function: object) -> bool: ...

    async def invoke(
        self,
        function: spec.Function,
        event: Any,
        *,
        give_up_after: float | None = None,
        start_within: float | None = None,
        qualifier: str | None = None,
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
        deadlines: Deadlines,
        alias: str | None = None,
    ) -> None:
        self.function = function
        self.name = f"{service}-{function.name}" + (f"-{alias}" if alias else "")
        arn = f"arn:aws:lambda:{region}:{account_id}:function:{self.name}"
        if alias:
            arn += f":{alias}"  # invoked through its alias, as the stage invokes it on AWS
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
            deadlines,
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
        variables: Mapping[str, Mapping[str, str]] | None = None,
        aliases: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        """``environment`` is every function's; ``variables`` adds some per function name;
        ``aliases`` gives function names their aliases: alias name -> the handler it runs."""
        # Workers import the handler from where this process would: the project's
        # python_path first, then this interpreter's own path.
        import_path = [*python_path, *(entry for entry in sys.path if entry)]
        base = {**environment, "PYTHONPATH": ":".join(dict.fromkeys(import_path))}
        self._deadlines = Deadlines()

        def deploy(function: spec.Function, alias: str | None = None) -> _Deployed:
            return _Deployed(
                service,
                function,
                {**base, **(variables or {}).get(function.name, {})},
                region=region,
                account_id=account_id,
                concurrency=concurrency,
                deadlines=self._deadlines,
                alias=alias,
            )

        self._concurrency = concurrency
        self._deployed = {function.name: deploy(function) for function in functions}
        self._aliases: dict[tuple[str, str], _Deployed] = {}
        for name, handlers in (aliases or {}).items():
            own = self._deployed[name]
            for alias, handler in handlers.items():
                self._aliases[name, alias] = (
                    own
                    if handler == own.function.handler
                    else deploy(replace(own.function, handler=handler), alias)
                )
        # Not uuid4()/os.urandom on the hot path: they release the GIL. Ids need no secrecy.
        self._random = random.Random(uuid.uuid4().int)

    def __contains__(self, function: object) -> bool:
        deployed = self._deployed.get(getattr(function, "name", ""))
        return deployed is not None and deployed.function == function

    async def start(self) -> None:
        """Every function's init phase: one environment each, started side by side."""
        deployed = self._every_deployment()
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

    def concurrency(self, function: spec.Function) -> int:
        """How many invocations of ``function`` can run at once (its environments)."""
        return self._concurrency

    async def invoke(
        self,
        function: spec.Function,
        event: Any,
        *,
        give_up_after: float | None = None,
        start_within: float | None = None,
        qualifier: str | None = None,
    ) -> Any:
        """Run ``function`` (its alias ``qualifier``) with ``event``; its JSON result, or
        FunctionError/FunctionTimeout.

        ``give_up_after``: the caller's own deadline in seconds (API Gateway's integration
        timeout), counted from now, waiting for an environment included. When it passes
        the caller gets ``TimeoutError``; as on Lambda, an invocation already running
        runs on (until the function's own timeout), and one still waiting is skipped.

        ``start_within``: seconds from now for the invocation to start (an environment to
        take it up); past them it is skipped, never run, and the caller gets
        ``TimeoutError``. Once started it runs to its end and the caller gets its result
        (a queue trigger's batch that can no longer finish within its visibility timeout).
        """
        deployed = (
            self._deployed.get(function.name)
            if qualifier is None
            else self._aliases.get((function.name, qualifier))
        )
        if deployed is None:
            alias = "" if qualifier is None else f" (alias {qualifier!r})"
            raise spec.DeclarationError(f"Function {function.name!r}{alias} is not deployed here.")
        loop = asyncio.get_running_loop()
        now = loop.time()
        give_up_at = None if give_up_after is None else now + give_up_after
        start_by = _earliest(give_up_at, None if start_within is None else now + start_within)
        request = self._request(
            event, function.timeout_seconds, None if start_by is None else start_by - now
        )
        while True:
            environment = deployed.environments.ready() or await self._acquire(deployed, start_by)
            reply = environment.invoke(request, function.timeout_seconds)
            try:
                return self._outcome(deployed, environment, await self._wait(reply, give_up_at))
            except NotStarted:
                continue  # it waited on an environment that ended: run it on another
            except HandlerTimedOut:
                timeout = function.timeout_seconds
                logger.error(
                    "Function %s: task timed out after %.2f seconds", deployed.name, timeout
                )
                raise FunctionTimeout(deployed.name, timeout) from None
            except EnvironmentDied:
                # Lambda's words when a runtime process ends in the middle of an invocation.
                raise FunctionError(
                    "Runtime.ExitError", "Runtime exited without providing a reason"
                ) from None

    def environments(self) -> list[ExecutionEnvironment]:
        """Every running execution environment, of every function."""
        return [
            each for deployed in self._every_deployment() for each in deployed.environments.live()
        ]

    async def close(self) -> None:
        """Take no more work; let running invocations finish (2 s at most), then end."""
        ending = [
            environment
            for deployed in self._every_deployment()
            for environment in deployed.environments.end()
        ]
        await asyncio.sleep(0)  # the channels close on the loop's next pass
        until = time.monotonic() + 2

        def wait_for_all() -> None:
            for environment in ending:
                environment.wait(until)

        await asyncio.to_thread(wait_for_all)

    def _every_deployment(self) -> list[_Deployed]:
        """Each function's deployment and each alias's own, once each."""
        every = {id(each): each for each in self._deployed.values()}
        every.update((id(each), each) for each in self._aliases.values())
        return list(every.values())

    async def _acquire(self, deployed: _Deployed, give_up_at: float | None) -> ExecutionEnvironment:
        try:
            if give_up_at is None:
                return await deployed.environments.acquire()
            remaining = give_up_at - asyncio.get_running_loop().time()
            return await asyncio.wait_for(deployed.environments.acquire(), max(0.0, remaining))
        except InitError as exc:  # the handler no longer loads (edited since start-up)
            raise FunctionError("Runtime.ImportModuleError", str(exc)) from exc

    async def _wait(self, reply: asyncio.Future[bytes], give_up_at: float | None) -> Any:
        if give_up_at is not None:
            self._deadlines.watch(reply, give_up_at - asyncio.get_running_loop().time())
        try:
            return orjson.loads(await reply)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if reply.done() and not (task is not None and task.cancelling()):
                raise TimeoutError("no result before the caller's deadline") from None
            raise
        except orjson.JSONDecodeError as exc:
            raise FunctionError("Runtime.MarshalError", str(exc)) from None
        finally:
            self._deadlines.forget(reply)

    def _request(self, event: Any, timeout: float, give_up_after: float | None) -> bytes:
        message = {
            "event": event,
            "requestId": uuid4_from(self._random.randbytes(16)),
            "timeoutMs": int(timeout * 1000),
            "giveUpAtMs": None
            if give_up_after is None
            else int((time.time() + give_up_after) * 1000),
        }
        try:
            return orjson.dumps(message)
        except TypeError as exc:
            raise FunctionError("InvalidRequestContentException", str(exc)) from exc

    @staticmethod
    def _outcome(deployed: _Deployed, environment: ExecutionEnvironment, answer: Any) -> Any:
        if "result" in answer:
            return answer["result"]
        if answer.get("skipped"):
            raise TimeoutError("skipped: the caller had given up")
        if answer["errorType"] == EXIT_ERROR:
            deployed.environments.discard(environment)  # the worker is exiting: reap it
        raise FunctionError(answer["errorType"], answer["errorMessage"])


def _earliest(first: float | None, second: float | None) -> float | None:
    """The earlier of two optional deadlines."""
    if first is None or second is None:
        return first if second is None else second
    return min(first, second)
