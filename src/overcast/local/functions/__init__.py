"""Run Lambda handlers in-process: a Lambda-like context and a thread-pool invoker."""

from overcast.local.functions.context import LambdaContext
from overcast.local.functions.invoker import FunctionError, FunctionInvoker, FunctionTimeout

__all__ = ["FunctionError", "FunctionInvoker", "FunctionTimeout", "LambdaContext"]
