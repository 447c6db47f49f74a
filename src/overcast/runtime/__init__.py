"""Code that runs inside a function, locally or on Lambda. Light: no servers, no CDK."""

from overcast.runtime.coldstart import ColdStart
from overcast.runtime.config import RuntimeConfig, function_environment, using_environment

__all__ = ["ColdStart", "RuntimeConfig", "function_environment", "using_environment"]
