"""Where a new service's files go: Overcast's own repository, or a user's project.

- **Overcast's repository** (a ``pyproject.toml`` whose project is ``overcast``, with
  ``src/overcast/apps/`` beside it): the service is one more built-in app,
  ``src/overcast/apps/<package>/``, found by the local cloud and the deployer without
  any configuration; its tests go to ``tests/unit/`` and ``tests/e2e/``, where the
  end-to-end test uses the suite's shared local cloud.
- **A user's project** (anything else): the package goes in the first folder of the
  configuration's ``python_path`` (``src`` when it names none, which is then added),
  and its module is appended to ``services``. Its tests go to ``tests/<package>/``
  with a ``conftest.py`` that puts ``python_path`` on pytest's import path, as
  ``overcast up`` does.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from overcast.scaffold.config_edit import ConfigFile, find_config_file
from overcast.scaffold.errors import ScaffoldError
from overcast.scaffold.names import ServiceName

DEFAULT_SOURCE_FOLDER = "src"
APPS_FOLDER = Path("src") / "overcast" / "apps"


@dataclass(frozen=True)
class Layout:
    """A project's folders, as a new service sees them."""

    root: Path
    in_overcast: bool
    packages: Path  # the folder the service's package goes in
    module_prefix: str  # "overcast.apps." in Overcast's repository, else ""
    config: ConfigFile | None = None  # a user project's configuration file
    python_path_to_add: str | None = None  # set when the configuration names none

    def package_dir(self, name: ServiceName) -> Path:
        return self.packages / name.package

    def module(self, name: ServiceName) -> str:
        """The package's import name: ``overcast.apps.inventory`` or ``inventory``."""
        return f"{self.module_prefix}{name.package}"

    def tests_dir(self, name: ServiceName) -> Path:
        """The folder of the service's own tests in a user's project."""
        return self.root / "tests" / name.package

    def unit_test(self, name: ServiceName) -> Path:
        folder = self.root / "tests" / "unit" if self.in_overcast else self.tests_dir(name)
        return folder / f"test_{name.package}_api.py"

    def e2e_test(self, name: ServiceName) -> Path:
        folder = self.root / "tests" / "e2e" if self.in_overcast else self.tests_dir(name)
        return folder / f"test_{name.package}_e2e.py"

    def test_paths(self, name: ServiceName) -> tuple[Path, ...]:
        """What to run the service's tests with: its two files, or its folder (a project)."""
        if self.in_overcast:
            return (self.unit_test(name), self.e2e_test(name))
        return (self.tests_dir(name),)

    @property
    def readme(self) -> Path:
        return self.root / "README.md"


def detect_layout(project_dir: Path) -> Layout:
    """The layout of ``project_dir``: Overcast's own repository, else a user's project."""
    root = project_dir.resolve()
    if is_overcast_repository(root):
        return Layout(
            root, in_overcast=True, packages=root / APPS_FOLDER, module_prefix="overcast.apps."
        )
    config = find_config_file(root)
    python_path = config.settings.get("python_path")
    if python_path is None:
        folder, to_add = DEFAULT_SOURCE_FOLDER, DEFAULT_SOURCE_FOLDER
    elif isinstance(python_path, list) and python_path and isinstance(python_path[0], str):
        folder, to_add = python_path[0], None
    else:
        raise ScaffoldError(
            f"{config.path}: python_path names no folder for the new service's package; "
            f'add one, e.g. python_path = ["{DEFAULT_SOURCE_FOLDER}"].'
        )
    return Layout(
        root,
        in_overcast=False,
        packages=(root / folder).resolve(),
        module_prefix="",
        config=config,
        python_path_to_add=to_add,
    )


def is_overcast_repository(root: Path) -> bool:
    """Whether ``root`` is Overcast's own repository (its apps live in ``src/overcast/apps``)."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file() or not (root / APPS_FOLDER).is_dir():
        return False
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except tomllib.TOMLDecodeError:
        return False
    return isinstance(project, dict) and project.get("name") == "overcast"
