"""Run Lambda handlers locally: execution environments (worker processes) and their invoker."""

from overcast.local.functions.context import LambdaContext
from overcast.local.functions.invoker import FunctionError, FunctionInvoker, FunctionTimeout

__all__ = ["FunctionError", "FunctionInvoker", "FunctionTimeout", "LambdaContext"]
