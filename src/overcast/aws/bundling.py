"""Lambda bundles without Docker: a service's code and its packages, in one directory.

What goes in (DESIGN.md: "a Lambda bundle contains ``overcast.runtime``,
``overcast.ports``, the app and its libraries — never the local cloud or CDK"):

- ``overcast.runtime`` and ``overcast.ports``, always;
- the app: the package of each function's handler (``overcast.apps.<app>`` for
  Overcast's own apps, else the handler's top-level package or module);
- every other Overcast module those import, transitively (``overcast.spec``,
  ``overcast.policies``...). Code that imports ``overcast.local``, ``overcast.aws`` or
  the CLI is refused: it would drag the local cloud or CDK onto Lambda;
- the third-party distributions they import, pinned to the versions installed here
  (the lock's), as wheels for the Lambda platform (see :mod:`overcast.aws.wheels`);
  never boto3, botocore or s3transfer: the Lambda Python runtime provides them;
- for a function that declares a table with a read cache, the DAX client
  (``amazon-dax-client``, which ``overcast.runtime.adapters`` imports by name once the
  function is given a cluster, so no import names it): built from its pinned source
  archive (:data:`overcast.aws.wheels.AMAZON_DAX_CLIENT`), with its dependencies pinned
  to the versions installed here, botocore still left to the Lambda runtime.

Files are the packages' sources and data, never ``__pycache__``. A bundle directory is
named by the hash of everything in it, built once and reused; so are the installed
packages, by the hash of their requirements and platform.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import overcast
from overcast import spec
from overcast.aws.imports import Imported, imports_of
from overcast.aws.wheels import (
    AMAZON_DAX_CLIENT,
    BundleError,
    LambdaPlatform,
    Progress,
    Wheelhouse,
)

NEVER_BUNDLED = (
    "overcast.local",
    "overcast.aws",
    "overcast.cli",
    "overcast.cli_aws",
    "overcast.__main__",
)
ALWAYS_BUNDLED = ("overcast.runtime", "overcast.ports")
# Part of every Lambda Python runtime (the AWS SDK for Python).
LAMBDA_PROVIDED = frozenset({"boto3", "botocore", "s3transfer"})
_OVERCAST = Path(overcast.__file__).parent
_KEEP_OTHER_BUNDLES_SECONDS = 24 * 3600

__all__ = ["Bundle", "BundleError", "LambdaPlatform", "build_bundle", "lambda_handler"]


@dataclass(frozen=True)
class Bundle:
    """A built bundle: its directory and what it holds."""

    directory: Path
    platform: LambdaPlatform
    requirements: tuple[str, ...]
    files: tuple[str, ...]  # first-party files, relative to the bundle's root


def lambda_handler(function: spec.Function) -> str:
    """Lambda's handler setting for a declaration: ``"pkg.module:fn"`` → ``"pkg.module.fn"``."""
    module, _, name = function.handler.partition(":")
    return f"{module}.{name}"


def build_bundle(
    service: spec.Service,
    platform: LambdaPlatform,
    cache: Path,
    *,
    index_url: str | None = None,
    progress: Progress = lambda message: None,
) -> Bundle:
    """The bundle of ``service``'s functions, built under ``cache`` unless already there."""
    sources = BundleSources(service)
    requirements = sources.requirements()
    files = sources.files()
    digest = _digest(platform, requirements, files)
    directory = cache / "bundles" / f"{service.name}-{platform.architecture}-{digest}"
    bundle = Bundle(directory, platform, requirements, tuple(sorted(files)))
    if directory.exists():
        progress(f"Bundle of {service.name} is up to date ({directory.name})")
        return bundle
    progress(
        f"Bundling {service.name} for {platform.tag}: {len(files)} files, "
        f"packages {', '.join(requirements) or '(none)'}"
    )
    wheelhouse = Wheelhouse(
        cache / "wheels" / platform.tag, platform, index_url=index_url, progress=progress
    )
    packages = _installed_packages(wheelhouse, requirements, cache / "packages")
    _assemble(directory, packages, files)
    _prune_older(directory)
    return bundle


class BundleSources:
    """The first-party files and third-party requirements of a service's bundle."""

    def __init__(self, service: spec.Service) -> None:
        self._files: dict[str, Path] = {}
        self._third_party: dict[str, Imported] = {}
        self._app_roots = {_app_root(function) for function in service.all_functions}
        self._reads_through_dax = any(
            table.read_cache is not None
            for function in service.all_functions
            for table in function.tables
        )
        self._collect()

    def files(self) -> dict[str, Path]:
        """Bundle-relative path → source file."""
        return dict(self._files)

    def requirements(self) -> tuple[str, ...]:
        """``distribution==version`` for each third-party import, as installed here."""
        installed = importlib.metadata.packages_distributions()
        pins: set[str] = set()
        for name, imported in sorted(self._third_party.items()):
            distributions = installed.get(name)
            if not distributions:
                if imported.optional:
                    continue
                raise BundleError(
                    f"{imported.source} imports {imported.module!r}, which is not installed "
                    "here, so its version for Lambda is unknown. Install it (add it to the "
                    "project's dependencies) and synthesize again."
                )
            pins.update(f"{d}=={importlib.metadata.version(d)}" for d in distributions)
        if self._reads_through_dax:
            pins.update(_dax_client_pins())
        return tuple(sorted(pins, key=str.lower))

    def _collect(self) -> None:
        pending = [*self._add_package_files(ALWAYS_BUNDLED), *self._add_app_files()]
        while pending:
            source = pending.pop()
            for imported in imports_of(source):
                pending.extend(self._follow(imported))

    def _add_package_files(self, modules: Iterable[str]) -> list[Path]:
        added: list[Path] = []
        for module in modules:
            directory = _OVERCAST.joinpath(*module.split(".")[1:])
            added += self._add_tree(directory, Path("overcast", *module.split(".")[1:]))
            added += self._add_overcast_module(module.rpartition(".")[0])
        return added

    def _add_app_files(self) -> list[Path]:
        added: list[Path] = []
        for root in sorted(self._app_roots):
            if root.startswith("overcast."):
                added += self._add_package_files([root])
                continue
            found = importlib.util.find_spec(root)
            if found is None or found.origin is None:
                raise BundleError(f"Cannot find the function code {root!r} to bundle it.")
            if found.submodule_search_locations:
                added += self._add_tree(Path(found.origin).parent, Path(root))
            else:
                added += self._add_file(f"{root}.py", Path(found.origin))
        return added

    def _follow(self, imported: Imported) -> list[Path]:
        top = imported.top_level
        if top == "overcast":
            return self._add_overcast_module(imported.module, imported)
        if top in self._app_tops or top in sys.stdlib_module_names or top in LAMBDA_PROVIDED:
            return []
        known = self._third_party.get(top)
        if known is None or (known.optional and not imported.optional):
            self._third_party[top] = imported
        return []

    @property
    def _app_tops(self) -> set[str]:
        return {root.partition(".")[0] for root in self._app_roots} - {"overcast"}

    def _add_overcast_module(self, module: str, imported: Imported | None = None) -> list[Path]:
        if any(module == banned or module.startswith(f"{banned}.") for banned in NEVER_BUNDLED):
            where = f"{imported.source} imports {module}" if imported else module
            raise BundleError(
                f"{where}, which is never bundled for Lambda (it is the local cloud, the "
                "deployer or the CLI). Function code may use overcast.runtime, "
                "overcast.ports, overcast.spec and overcast.policies only."
            )
        added: list[Path] = []
        parts = module.split(".")
        for depth in range(1, len(parts) + 1):
            relative = Path(*parts[1:depth])
            package = _OVERCAST / relative / "__init__.py"
            plain = (_OVERCAST / relative).with_suffix(".py") if depth > 1 else None
            if package.exists():
                added += self._add_file(
                    f"overcast/{(relative / '__init__.py').as_posix()}", package
                )
            elif plain is not None and plain.exists():
                added += self._add_file(f"overcast/{relative.with_suffix('.py').as_posix()}", plain)
            else:
                break
        return added

    def _add_tree(self, directory: Path, relative: Path) -> list[Path]:
        added: list[Path] = []
        for path in sorted(_source_files(directory)):
            name = (relative / path.relative_to(directory)).as_posix()
            added += self._add_file(name, path)
        return added

    def _add_file(self, name: str, path: Path) -> list[Path]:
        if name in self._files:
            return []
        self._files[name] = path
        return [path] if path.suffix == ".py" else []


def _dax_client_pins() -> list[str]:
    pins = [AMAZON_DAX_CLIENT.requirement]
    for name in AMAZON_DAX_CLIENT.dependencies:
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError as error:
            raise BundleError(
                f"The DAX client needs {name}, which is not installed here, so its version "
                "for Lambda is unknown. Install it and synthesize again."
            ) from error
    return pins


def _app_root(function: spec.Function) -> str:
    """The package bundled for a handler: ``overcast.apps.<app>``, else the top-level one."""
    parts = function.handler.partition(":")[0].split(".")
    if parts[:2] == ["overcast", "apps"] and len(parts) > 2:
        return ".".join(parts[:3])
    return parts[0]


def _source_files(directory: Path) -> Iterator[Path]:
    for path in directory.rglob("*"):
        if "__pycache__" in path.parts or path.suffix in (".pyc", ".pyo") or not path.is_file():
            continue
        yield path


def _digest(platform: LambdaPlatform, requirements: tuple[str, ...], files: dict[str, Path]) -> str:
    digest = hashlib.sha256(f"{platform.tag}\n{' '.join(requirements)}\n".encode())
    for name in sorted(files):
        digest.update(f"{name}\n".encode())
        digest.update(hashlib.sha256(files[name].read_bytes()).digest())
    return digest.hexdigest()[:16]


def _installed_packages(wheelhouse: Wheelhouse, requirements: tuple[str, ...], root: Path) -> Path:
    """The requirements installed for the platform, once per set of requirements."""
    key = hashlib.sha256(f"{wheelhouse.platform.tag}\n{' '.join(requirements)}".encode())
    directory = root / key.hexdigest()[:16]
    if directory.exists():
        return directory
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".installing-", dir=root))
    try:
        wheelhouse.install(requirements, staging)
        for provided in _provided_by_lambda(staging):
            shutil.rmtree(provided)
        shutil.rmtree(staging / "bin", ignore_errors=True)  # console scripts: no use on Lambda
        _publish(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory


def _provided_by_lambda(directory: Path) -> Iterator[Path]:
    for path in directory.iterdir():
        name = path.name.split("-")[0].lower() if path.suffix == ".dist-info" else path.name
        if path.is_dir() and name in LAMBDA_PROVIDED:
            yield path


def _assemble(directory: Path, packages: Path, files: dict[str, Path]) -> None:
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".assembling-", dir=directory.parent))
    try:
        shutil.copytree(packages, staging, dirs_exist_ok=True)
        for name, source in files.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        _publish(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _publish(staging: Path, directory: Path) -> None:
    """Move a finished directory into place; another process may have been first."""
    staging.chmod(0o755)  # mkdtemp's 0700 would keep Lambda's runtime user out
    try:
        os.rename(staging, directory)
    except OSError:
        if not directory.exists():
            raise


def _prune_older(directory: Path) -> None:
    """Remove this service's bundles for the same architecture older than a day (a cache;
    a younger one may be in use by a synthesis running beside this one)."""
    prefix = directory.name.rsplit("-", 1)[0] + "-"
    stale = time.time() - _KEEP_OTHER_BUNDLES_SECONDS
    for other in directory.parent.glob(f"{prefix}*"):
        if other != directory and other.is_dir() and other.stat().st_mtime < stale:
            shutil.rmtree(other, ignore_errors=True)
