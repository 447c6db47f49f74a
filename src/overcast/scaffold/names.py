"""A new service's name: the declaration's name and the Python package that holds it.

The service name follows the declarations' rule (:func:`overcast.spec.Service` checks
it: 1-63 lowercase letters, digits and hyphens, starting with a letter, since it
becomes part of AWS resource and stack names). The package is the same name with
hyphens mapped to underscores, so it must also be a usable Python identifier: not a
keyword, and — for a package at the top of a user's ``python_path`` — not the name of
a standard library or installed module it would shadow.
"""

from __future__ import annotations

import importlib.util
import keyword
import sys
from dataclasses import dataclass

from overcast import spec
from overcast.scaffold.errors import ScaffoldError

# Names a top-level package of a project must not take: Overcast itself and the usual
# test folders (a package named ``tests`` would hide the project's own).
_RESERVED = frozenset({"overcast", "tests", "test", "conftest"})


@dataclass(frozen=True)
class ServiceName:
    """``stock-levels``: the service ``stock-levels`` in the package ``stock_levels``."""

    service: str
    package: str

    @property
    def title(self) -> str:
        """A heading for people: ``Stock levels``."""
        return self.service.replace("-", " ").capitalize()


def parse_service_name(raw: str, *, top_level: bool) -> ServiceName:
    """The service and package names for ``raw``; :class:`ScaffoldError` if either is unusable.

    ``top_level``: the package goes at the top of the import path (a user's project),
    where it must not shadow another module.
    """
    try:
        spec.Service(name=raw)
    except spec.DeclarationError as exc:
        raise ScaffoldError(str(exc)) from None
    package = raw.replace("-", "_")
    if keyword.iskeyword(package):
        raise ScaffoldError(
            f"Service name {raw!r} is a Python keyword, so it cannot name the service's "
            "package; choose another name."
        )
    if top_level:
        _check_not_shadowing(raw, package)
    return ServiceName(service=raw, package=package)


def _check_not_shadowing(raw: str, package: str) -> None:
    if package in _RESERVED or package in sys.stdlib_module_names:
        raise ScaffoldError(
            f"Service name {raw!r} would make a package {package!r} that hides Python's or "
            "Overcast's own module of that name; choose another name."
        )
    if importlib.util.find_spec(package) is not None:
        raise ScaffoldError(
            f"Service name {raw!r}: a module {package!r} is already importable (an installed "
            "package?); a package of that name would shadow it. Choose another name."
        )
