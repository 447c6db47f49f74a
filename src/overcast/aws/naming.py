"""Names on AWS: stacks per service and environment, construct ids per declaration.

Physical names (tables, buckets, functions, pools) are left to CloudFormation, which
makes them unique per stack; so two environments of one service never collide, and
S3's global bucket namespace is never a problem. Functions learn the physical names
from their environment (``OVERCAST_RESOURCE_<KIND>_<NAME>``), as locally.
"""

from __future__ import annotations

import re

from overcast.spec import DeclarationError

DEFAULT_ENVIRONMENT = "dev"
_ENVIRONMENT = re.compile(r"^[a-z][a-z0-9-]{0,23}$")


def check_environment(name: str) -> str:
    """``name`` if it can name an environment (it becomes part of stack names)."""
    if not _ENVIRONMENT.match(name):
        raise DeclarationError(
            f"Environment name {name!r} is invalid: use 1-24 lowercase letters, digits and "
            "hyphens, starting with a letter (e.g. dev, staging, prod)."
        )
    return name


def stack_name(service: str, environment: str) -> str:
    """The CloudFormation stack of a service in an environment: ``<service>-<env>``."""
    return f"{service}-{check_environment(environment)}"


def construct_id(kind: str, name: str) -> str:
    """``("Table", "todo-items")`` → ``TableTodoItems``: stable logical ids per declaration."""
    return kind + "".join(part.capitalize() for part in name.split("-"))
