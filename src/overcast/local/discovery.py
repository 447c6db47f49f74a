"""Find every declared service: Overcast's own apps and those a project names.

A service module defines a module-level ``service = Service(...)``. Overcast's own
apps are the ``overcast.apps.<name>.service`` modules; a project lists its modules
in its configuration (``services = [...]``), importable from its ``python_path``.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Iterable
from pathlib import Path

from overcast.spec import DeclarationError, Service

BUILTIN_APPS_PACKAGE = "overcast.apps"


def discover(
    modules: Iterable[str], *, python_path: Iterable[Path] = (), builtin_apps: bool = True
) -> list[Service]:
    """The services to run, in a stable order; duplicates and bad modules are refused."""
    for entry in python_path:
        if str(entry) not in sys.path:
            sys.path.insert(0, str(entry))
    names = [*builtin_service_modules()] if builtin_apps else []
    names += [name for name in modules if name not in names]
    services = [load_service(name) for name in names]
    seen: dict[str, str] = {}
    for module, service in zip(names, services, strict=True):
        if service.name in seen:
            raise DeclarationError(
                f"Two services are named {service.name!r}: in {seen[service.name]} and {module}. "
                "Service names must be unique; rename one."
            )
        seen[service.name] = module
    return services


def builtin_service_modules() -> list[str]:
    package = importlib.import_module(BUILTIN_APPS_PACKAGE)
    return sorted(
        f"{BUILTIN_APPS_PACKAGE}.{info.name}.service"
        for info in pkgutil.iter_modules(package.__path__)
        if info.ispkg
    )


def load_service(module_name: str) -> Service:
    """Import ``module_name`` and return its ``service``, or explain what is wrong."""
    try:
        module = importlib.import_module(module_name)
    except DeclarationError as exc:
        raise DeclarationError(f"{module_name}: {exc}") from exc
    except ImportError as exc:
        raise DeclarationError(
            f"Cannot import service module {module_name!r}: {exc}. Check `services` and "
            "`python_path` in the project configuration."
        ) from exc
    service = getattr(module, "service", None)
    if not isinstance(service, Service):
        raise DeclarationError(
            f"Service module {module_name!r} must define `service = overcast.spec.Service(...)`."
        )
    return service
