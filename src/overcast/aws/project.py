"""What to synthesize: a project's services, found as ``overcast up`` finds them.

No AWS CDK here: the CLI checks its arguments (service, environment) with this module
before it pays for starting CDK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from overcast import spec
from overcast.aws.naming import DEFAULT_ENVIRONMENT, check_environment, stack_name
from overcast.aws.wheels import LambdaPlatform
from overcast.local.discovery import discover
from overcast.local.settings import load_settings


@dataclass(frozen=True)
class SynthRequest:
    """What ``overcast synth`` was asked: which services, which environment, where to."""

    project_dir: Path
    outdir: Path
    environment: str = DEFAULT_ENVIRONMENT
    service: str | None = None  # None: every service
    platform: LambdaPlatform = field(default_factory=LambdaPlatform)
    cache_dir: Path | None = None  # None: <data dir>/lambda
    index_url: str | None = None  # None: pip's configured index

    def __post_init__(self) -> None:
        check_environment(self.environment)


@dataclass(frozen=True)
class Project:
    """The services to synthesize and where bundles are cached."""

    services: tuple[spec.Service, ...]
    cache_dir: Path

    def stack_names(self, environment: str) -> list[str]:
        return [stack_name(service.name, environment) for service in self.services]


def load_project(request: SynthRequest) -> Project:
    """The project's services (only ``request.service`` if named); refuses unknown names."""
    settings = load_settings(request.project_dir)
    services = discover(
        settings.services, python_path=settings.python_path, builtin_apps=settings.builtin_apps
    )
    if request.service is not None:
        chosen = [service for service in services if service.name == request.service]
        if not chosen:
            known = ", ".join(service.name for service in services) or "none"
            raise spec.DeclarationError(
                f"No service is named {request.service!r}; this project's services: {known}."
            )
        services = chosen
    cache = request.cache_dir or settings.data_dir / "lambda"
    return Project(tuple(services), cache)
