"""A function's configuration, read from its environment — the one place that does.

A function's environment is its process's: on Lambda (set by the deployer) and in the
local cloud alike, where each function runs in worker processes of its own.
:func:`using_environment` lets tests run a handler as a given function in-process;
:func:`function_environment` returns that mapping, or the process environment.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

_environment: ContextVar[Mapping[str, str] | None] = ContextVar(
    "overcast_function_environment", default=None
)

BACKEND = "OVERCAST_BACKEND"
SERVICE = "OVERCAST_SERVICE"
DATA_DIR = "OVERCAST_DATA_DIR"
SMTP = "OVERCAST_SMTP"
REGION = "AWS_REGION"
AWS_ENDPOINT = "OVERCAST_AWS_ENDPOINT"
CA_BUNDLE = "AWS_CA_BUNDLE"
DYNAMODB_ENDPOINT = "OVERCAST_DYNAMODB_ENDPOINT"
SES_ENDPOINT = "OVERCAST_SES_ENDPOINT"
# The physical names of a function's resources, one variable each, e.g.
# OVERCAST_BUCKET_FILES=todo-files (see resource_variable).
RESOURCE_PREFIX = "OVERCAST_RESOURCE_"


def resource_variable(kind: str, name: str) -> str:
    """The variable holding a resource's physical name: ``OVERCAST_RESOURCE_BUCKET_FILES``."""
    return f"{RESOURCE_PREFIX}{kind}_{name}".upper().replace("-", "_")


def function_environment() -> Mapping[str, str]:
    """The current function's environment variables."""
    environ = _environment.get()
    return os.environ if environ is None else environ


@contextmanager
def using_environment(environ: Mapping[str, str]) -> Iterator[None]:
    """Run the enclosed code as a function whose environment is ``environ``."""
    token = _environment.set(environ)
    try:
        yield
    finally:
        _environment.reset(token)


@dataclass(frozen=True)
class RuntimeConfig:
    """What a function's composition root needs to pick and build its adapters."""

    service: str
    backend: Literal["local", "aws"] = "local"
    region: str = "us-east-1"
    data_dir: Path | None = None
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    aws_endpoint: str | None = None  # None: AWS's own endpoints
    ca_bundle: str | None = None
    # An AWS-compatible DynamoDB endpoint (e.g. moto's server) holding the tables: the
    # local cloud's functions then use the DynamoDB adapter there, everything else local.
    dynamodb_endpoint: str | None = None
    # An AWS-compatible SES endpoint (e.g. moto's server): the local cloud's functions
    # then send mail through the SES v2 adapter there instead of SMTP.
    ses_endpoint: str | None = None
    resources: Mapping[str, str] = field(default_factory=dict)  # resource_variable -> name

    def resource(self, kind: str, name: str) -> str:
        """The physical name (bucket name, pool id, ...) of the declared resource ``name``."""
        variable = resource_variable(kind, name)
        try:
            return self.resources[variable]
        except KeyError:
            raise ValueError(
                f"This function has no {kind.lower().replace('_', ' ')} {name!r}: "
                f"{variable} is not set. Declare the resource on the function."
            ) from None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> RuntimeConfig:
        env = function_environment() if environ is None else environ
        backend = env.get(BACKEND, "aws")
        if backend not in ("local", "aws"):
            raise ValueError(f"{BACKEND} must be 'local' or 'aws', not {backend!r}.")
        smtp_host, _, smtp_port = env.get(SMTP, "127.0.0.1:1025").rpartition(":")
        return cls(
            service=env.get(SERVICE, ""),
            backend="local" if backend == "local" else "aws",
            region=env.get(REGION, "us-east-1"),
            data_dir=Path(env[DATA_DIR]) if DATA_DIR in env else None,
            smtp_host=smtp_host,
            smtp_port=int(smtp_port),
            aws_endpoint=env.get(AWS_ENDPOINT),
            ca_bundle=env.get(CA_BUNDLE),
            dynamodb_endpoint=env.get(DYNAMODB_ENDPOINT),
            ses_endpoint=env.get(SES_ENDPOINT),
            resources={
                name: value for name, value in env.items() if name.startswith(RESOURCE_PREFIX)
            },
        )

    def to_environ(self) -> dict[str, str]:
        """The environment variables that :meth:`from_environ` reads back as ``self``."""
        environ = {
            BACKEND: self.backend,
            SERVICE: self.service,
            REGION: self.region,
            SMTP: f"{self.smtp_host}:{self.smtp_port}",
        }
        if self.data_dir is not None:
            environ[DATA_DIR] = str(self.data_dir)
        if self.aws_endpoint is not None:
            environ[AWS_ENDPOINT] = self.aws_endpoint
        if self.ca_bundle is not None:
            environ[CA_BUNDLE] = self.ca_bundle
        if self.dynamodb_endpoint is not None:
            environ[DYNAMODB_ENDPOINT] = self.dynamodb_endpoint
        if self.ses_endpoint is not None:
            environ[SES_ENDPOINT] = self.ses_endpoint
        return environ | dict(self.resources)
