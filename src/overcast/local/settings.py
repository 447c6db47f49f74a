"""The local cloud's settings: the one config object ``overcast up`` is built from.

Read from, in increasing precedence: built-in defaults, the project's configuration
(``overcast.toml``, or ``[tool.overcast]`` in ``pyproject.toml``), the process
environment (``OVERCAST_DATA_DIR``) and the command line. This module is the local
cloud's only reader of ``os.environ``.

A project's configuration::

    [tool.overcast]              # or, in overcast.toml, the same keys at top level
    services = ["inventory.service"]   # modules that define `service = Service(...)`
    python_path = ["src"]              # where those modules live, relative to the project
    builtin_apps = true                # also serve Overcast's own apps (todo, ...)
    data_dir = ".overcast"
    credential_seconds = 3600          # lifetime of identity pool credentials (AWS: 1 hour)
    # Off by default: keep the tables in a DynamoDB-compatible endpoint (e.g. moto's
    # server) rather than SQLite; `overcast up --dynamodb-endpoint URL` does the same.
    dynamodb_endpoint = "http://127.0.0.1:5000"
    # Off by default: send the functions' mail through SES v2 to this endpoint rather
    # than to the SMTP sink; `overcast up --ses-endpoint URL` does the same.
    ses_endpoint = "http://127.0.0.1:5000"

    [tool.overcast.ports]              # fixed ports; `overcast up --ports auto` picks free ones
    aws = 4566                         # the AWS-compatible endpoint (cognito-idp, ...)
    smtp = 1025                        # the embedded mail sink
    mailbox = 8025                     # the web mailbox (every mail the cloud sent)
    todo = 4567                        # one per service with an API, by service name
    "blog/site" = 4580                 # one per distribution, by service/distribution
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from overcast.spec import DeclarationError

DEFAULT_AWS_PORT = 4566
DEFAULT_SMTP_PORT = 1025
DEFAULT_MAILBOX_PORT = 8025
FIRST_API_PORT = 4567
FIRST_CDN_PORT = 4580


@dataclass(frozen=True)
class Ports:
    """Fixed ports, or ``auto`` (every listener on a free port chosen by the OS)."""

    auto: bool = False
    aws: int = DEFAULT_AWS_PORT
    smtp: int = DEFAULT_SMTP_PORT
    mailbox: int = DEFAULT_MAILBOX_PORT
    apis: Mapping[str, int] = field(default_factory=dict)

    def for_api(self, service: str, position: int) -> int:
        """The port of a service's API; unpinned APIs count up from 4567 in name order."""
        if self.auto:
            return 0
        return self.apis.get(service, FIRST_API_PORT + position)

    def for_distribution(self, label: str, position: int) -> int:
        """The port of a distribution (``label``: ``service/distribution``); unpinned ones
        count up from 4580 in label order."""
        if self.auto:
            return 0
        return self.apis.get(label, FIRST_CDN_PORT + position)


@dataclass(frozen=True)
class CloudSettings:
    """Everything ``overcast up`` needs to know."""

    project_dir: Path
    data_dir: Path
    host: str = "127.0.0.1"
    region: str = "us-east-1"
    account_id: str = "000000000000"
    ports: Ports = field(default_factory=Ports)
    services: tuple[str, ...] = ()
    python_path: tuple[Path, ...] = ()
    builtin_apps: bool = True
    access_log: bool = True
    # The CDN edge's disk cache, per distribution (least recently used entries go first).
    cdn_cache_bytes: int = 2 * 1024**3
    # Cognito Identity's GetCredentialsForIdentity hands out credentials for one hour;
    # locally the lifetime can be shortened (e.g. to watch expiry in a test).
    credential_seconds: int = 3600
    # An AWS-compatible DynamoDB endpoint (moto's server, DynamoDB Local) that holds the
    # declared tables instead of SQLite; the cloud creates them there at start.
    dynamodb_endpoint: str | None = None
    # An AWS-compatible SES endpoint (e.g. moto's server): the functions' mail goes there
    # through SES v2 instead of to the SMTP sink; the cloud creates their identities.
    ses_endpoint: str | None = None

    @property
    def endpoints_file(self) -> Path:
        return self.data_dir / "endpoints.json"


def load_settings(
    project_dir: Path,
    *,
    data_dir: Path | None = None,
    auto_ports: bool = False,
    access_log: bool = True,
    dynamodb_endpoint: str | None = None,
    ses_endpoint: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> CloudSettings:
    """Settings for a project directory, with command-line values taking precedence."""
    env = os.environ if environ is None else environ
    project_dir = project_dir.resolve()
    config = read_project_config(project_dir)
    chosen_data_dir = data_dir or _env_path(env, "OVERCAST_DATA_DIR")
    if chosen_data_dir is None:
        chosen_data_dir = project_dir / str(config.get("data_dir", ".overcast"))
    ports = _ports(config.get("ports", {}), auto=auto_ports)
    return CloudSettings(
        project_dir=project_dir,
        data_dir=chosen_data_dir.resolve(),
        ports=ports,
        services=tuple(_strings(config, "services")),
        python_path=tuple(
            (project_dir / entry).resolve() for entry in _strings(config, "python_path")
        ),
        builtin_apps=bool(config.get("builtin_apps", True)),
        access_log=access_log,
        credential_seconds=_credential_seconds(config.get("credential_seconds", 3600)),
        dynamodb_endpoint=_endpoint(
            "dynamodb_endpoint", dynamodb_endpoint or config.get("dynamodb_endpoint")
        ),
        ses_endpoint=_endpoint("ses_endpoint", ses_endpoint or config.get("ses_endpoint")),
    )


def _endpoint(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise DeclarationError(f"{name} must be an http:// or https:// URL, not {value!r}.")
    return value


def _credential_seconds(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 43_200:
        raise DeclarationError(
            f"credential_seconds must be a whole number of seconds, 1 to 43200 (12 hours, "
            f"IAM's longest role session), not {value!r}."
        )
    return value


def data_dir_for(project_dir: Path, *, environ: Mapping[str, str] | None = None) -> Path:
    """The data directory commands like ``overcast env`` read, without other settings."""
    return load_settings(project_dir, environ=environ).data_dir


def read_project_config(project_dir: Path) -> dict[str, Any]:
    """The ``overcast.toml`` table, else ``[tool.overcast]`` of ``pyproject.toml``, else {}."""
    own = project_dir / "overcast.toml"
    if own.exists():
        return _read_toml(own)
    pyproject = project_dir / "pyproject.toml"
    if pyproject.exists():
        tool = _read_toml(pyproject).get("tool", {})
        found = tool.get("overcast", {}) if isinstance(tool, dict) else {}
        return found if isinstance(found, dict) else {}
    return {}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DeclarationError(f"Cannot read the project configuration {path}: {exc}") from exc


def _strings(config: Mapping[str, Any], key: str) -> list[str]:
    value = config.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise DeclarationError(f"Project configuration: {key!r} must be a list of strings.")
    return value


def _ports(config: Any, *, auto: bool) -> Ports:
    if not isinstance(config, dict) or not all(
        isinstance(port, int) and 1 <= port <= 65535 for port in config.values()
    ):
        raise DeclarationError("Project configuration: [ports] must map names to ports 1-65535.")
    own = ("aws", "smtp", "mailbox")
    apis = {name: port for name, port in config.items() if name not in own}
    if auto:
        return Ports(auto=True, aws=0, smtp=0, mailbox=0)
    return Ports(
        aws=config.get("aws", DEFAULT_AWS_PORT),
        smtp=config.get("smtp", DEFAULT_SMTP_PORT),
        mailbox=config.get("mailbox", DEFAULT_MAILBOX_PORT),
        apis=apis,
    )


def _env_path(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name)
    return Path(value) if value else None
