"""The functions Lambda's API knows: physical name → declaration, invoker, aliases.

A function's physical name is ``<service>-<function>`` (``blog-welcome``), its ARN
``arn:aws:lambda:<region>:<account>:function:<name>``. Lambda's ``FunctionName``
parameter takes any of (``Invoke``, "Name formats"):

- the name, ``my-function``, or with a qualifier, ``my-function:v1``;
- the ARN, with or without a qualifier;
- the partial ARN ``<account>:function:my-function``, with or without one.

A qualifier (there, or in the ``Qualifier`` query parameter) is ``$LATEST`` (the
function itself) or an alias. Locally a function's aliases are its API's stages (the
stage aliases the gateway invokes); there are no published versions, so a version
number is not found, as Lambda answers for a version that does not exist. An ARN of
another region or account names no function here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from overcast import spec
from overcast.local.functions.invoker import Invoker
from overcast.local.lambda_api import errors

LATEST = "$LATEST"
_NAME = re.compile(
    r"^(?:arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):)?"
    r"(?:(?P<account>\d{12}):function:)?"
    r"(?P<name>[a-zA-Z0-9_-]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9_-]+))?$"
)


@dataclass(frozen=True)
class LocalFunction:
    """One function as Lambda's API shows it, and the invoker that runs it."""

    service: str
    function: spec.Function
    invoker: Invoker
    aliases: frozenset[str] = frozenset()
    variables: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.service}-{self.function.name}"


@dataclass(frozen=True)
class Target:
    """A resolved ``FunctionName``: the function and the alias asked for (None: $LATEST)."""

    local: LocalFunction
    arn: str  # the unqualified function ARN, IAM's resource
    alias: str | None


class FunctionDirectory:
    """Every function of the local cloud, by physical name."""

    def __init__(self, functions: Iterable[LocalFunction], *, region: str, account_id: str) -> None:
        self.region = region
        self.account_id = account_id
        self._functions = {local.name: local for local in functions}

    def __iter__(self) -> Iterator[LocalFunction]:
        return iter(sorted(self._functions.values(), key=lambda local: local.name))

    def arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"

    def resolve(self, function_name: str, qualifier: str | None = None) -> Target:
        """The function ``function_name`` (and ``qualifier``) names; else
        ResourceNotFoundException, as Lambda's, naming the ARN asked for."""
        match = _NAME.match(function_name)
        if match is None:
            raise errors.InvalidParameterValueException(
                f"1 validation error detected: Value '{function_name}' at 'functionName' "
                "failed to satisfy constraint: Member must satisfy regular expression pattern"
            )
        name, inline = match["name"], match["qualifier"]
        if inline is not None and qualifier is not None and inline != qualifier:
            raise errors.InvalidParameterValueException(
                "The derived qualifier from the function name does not match the specified "
                "qualifier."
            )
        alias = inline or qualifier
        arn = self.arn(name)
        local = self._functions.get(name)
        foreign = match["region"] not in (None, self.region) or match["account"] not in (
            None,
            self.account_id,
        )
        if local is None or foreign:
            raise errors.ResourceNotFoundException(f"Function not found: {arn}")
        if alias is None or alias == LATEST:
            return Target(local, arn, None)
        if alias not in local.aliases:
            raise errors.ResourceNotFoundException(f"Function not found: {arn}:{alias}")
        return Target(local, arn, alias)
