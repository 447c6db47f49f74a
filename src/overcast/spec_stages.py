"""API stages: one REST API served as several versions side by side (``v1``, ``v2``).

A :class:`Stage` is an API Gateway stage of the API: the same routes, with

- its own handler code: ``handlers`` maps a function's name to the handler
  (``"package.module:function"``) this stage runs instead of the function's own. On
  AWS each stage's integration invokes a Lambda alias named after the stage; a stage
  with code of its own gets a function of its own (one function holds one handler),
  locally an execution environment of its own;
- its own stage variables (the event's ``stageVariables``);
- its own stage cache, or the API's when it declares none.

API Gateway's rules, checked here: a stage name is 1-128 letters, digits, hyphens and
underscores ("Stage names can only contain alphanumeric characters, hyphens, and
underscores. Maximum length is 128 characters."); a stage variable's name is letters,
digits and underscores, its value matches ``[A-Za-z0-9-._~:/?#&=,]+``.

Import :class:`Stage` from :mod:`overcast.spec` (``spec.Stage``); this module only
keeps ``spec.py`` small. Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING

from overcast.spec_base import HANDLER, DeclarationError

if TYPE_CHECKING:
    from overcast.spec import Function, StageCache

STAGE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
# Stage variables Overcast sets itself on AWS (which alias each stage invokes).
RESERVED_VARIABLE_PREFIX = "overcast_"
_VARIABLE_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_VARIABLE_VALUE = re.compile(r"^[A-Za-z0-9\-._~:/?#&=,]+$")


@dataclass(frozen=True)
class Stage:
    """One stage of an API: its name, handler code, stage variables and cache.

    ``handlers``: function name -> the handler this stage runs for it (functions it
    does not name run their own). ``variables``: API Gateway stage variables.
    ``cache``: this stage's cache; ``None`` takes the API's (``Api.cache``).
    """

    name: str
    handlers: Mapping[str, str] = field(default_factory=dict)
    variables: Mapping[str, str] = field(default_factory=dict)
    cache: StageCache | None = None

    def __post_init__(self) -> None:
        # Read-only copies: a declaration never changes after it is built.
        object.__setattr__(self, "handlers", MappingProxyType(dict(self.handlers)))
        object.__setattr__(self, "variables", MappingProxyType(dict(self.variables)))
        if not STAGE_NAME.match(self.name):
            raise DeclarationError(
                f"Stage name {self.name!r} is invalid: use 1-128 letters, digits, hyphens "
                "and underscores, as API Gateway requires."
            )

        for function, handler in self.handlers.items():
            if not HANDLER.match(handler):
                raise DeclarationError(
                    f"Stage {self.name!r}: handler {handler!r} of function {function!r} must "
                    "look like 'package.module:function'."
                )
        for name, value in self.variables.items():
            if name.startswith(RESERVED_VARIABLE_PREFIX):
                raise DeclarationError(
                    f"Stage {self.name!r}: stage variable names starting with "
                    f"{RESERVED_VARIABLE_PREFIX!r} are Overcast's own; rename {name!r}."
                )
            if not _VARIABLE_NAME.match(name) or not _VARIABLE_VALUE.match(value):
                raise DeclarationError(
                    f"Stage {self.name!r}: stage variable {name}={value!r} is invalid: API "
                    "Gateway allows names of letters, digits and underscores, and values "
                    "matching [A-Za-z0-9-._~:/?#&=,]+."
                )

    def __hash__(self) -> int:
        return hash(
            (self.name, tuple(self.handlers.items()), tuple(self.variables.items()), self.cache)
        )

    def handler_of(self, function: Function) -> str:
        """The handler this stage runs for ``function``."""
        return self.handlers.get(function.name, function.handler)

    def runs_own_code(self, function: Function) -> bool:
        """Whether this stage runs code of its own for ``function`` (not the function's)."""
        return self.handler_of(function) != function.handler

    def function(self, function: Function) -> Function:
        """``function`` as this stage runs it: the same, with this stage's handler."""
        if not self.runs_own_code(function):
            return function
        return replace(function, handler=self.handler_of(function))


def check_stages(
    api_name: str, default: str, stages: tuple[Stage, ...], functions: Iterable[Function]
) -> None:
    """Refuse stages API Gateway would refuse, or that name what the API does not use."""
    names = [stage.name for stage in stages]
    if len(names) != len(set(names)):
        raise DeclarationError(f"Api {api_name!r} declares a stage name twice: {names}.")
    if default not in names:
        raise DeclarationError(
            f"Api {api_name!r}: its stage {default!r} (the default one: its URL is the API's) "
            f"is not among its stages {names}; set Api(stage=...) to one of them."
        )
    for name in names:
        if name.isdigit():
            # Lambda: an alias name matches (?!^[0-9]+$)([a-zA-Z0-9-_]+); each stage is one.
            raise DeclarationError(
                f"Api {api_name!r}: stage {name!r} cannot name a Lambda alias (a number is a "
                f"version); give it a name with a letter, e.g. 'v{name}'."
            )
    used = {function.name for function in functions}
    for stage in stages:
        unknown = sorted(set(stage.handlers) - used)
        if unknown:
            raise DeclarationError(
                f"Api {api_name!r}: stage {stage.name!r} sets the handler of {unknown[0]!r}, "
                f"which no route of the API uses (its routes use {sorted(used)})."
            )
