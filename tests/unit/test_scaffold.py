"""``overcast new service``: where a new service's files go, what they hold, what is refused.

Every scenario writes into a temporary copy of a layout, never into this repository.
The generated code is checked with the repository's own ruff configuration.
"""

from __future__ import annotations

import runpy
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from overcast import spec
from overcast.cli import main
from overcast.scaffold import ScaffoldError, detect_layout, plan_service, write_plan
from overcast.scaffold.config_edit import ConfigFile, add_service

REPOSITORY = Path(__file__).parents[2]
SAMPLE_PROJECT = REPOSITORY / "tests" / "e2e" / "sample_project"
BUILTIN = frozenset({"todo", "blog", "updates"})


def overcast_layout(root: Path) -> Path:
    """A copy of the shape of Overcast's repository: its pyproject, apps, tests, README."""
    (root / "src" / "overcast" / "apps" / "todo").mkdir(parents=True)
    for package in ("ports", "runtime", "local"):  # for ruff's first-party imports
        (root / "src" / "overcast" / package).symlink_to(REPOSITORY / "src/overcast" / package)
    (root / "tests" / "unit").mkdir(parents=True)
    (root / "tests" / "e2e").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "overcast"\n')
    (root / "README.md").write_text("# Overcast\n\nFour architectures.\n")
    return root


def user_project(root: Path) -> Path:
    shutil.copytree(SAMPLE_PROJECT, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(path): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def create(root: Path, name: str, taken: frozenset[str] = BUILTIN) -> None:
    write_plan(plan_service(name, detect_layout(root), taken=taken))


def ruff(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ruff", *arguments, "--no-cache"]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def test_in_overcasts_repository_a_new_service_becomes_one_more_app(tmp_path: Path) -> None:
    root = overcast_layout(tmp_path / "overcast")

    create(root, "stock-levels")

    package = root / "src" / "overcast" / "apps" / "stock_levels"
    assert sorted(path.name for path in package.iterdir()) == [
        "__init__.py",
        "handler.py",
        "models.py",
        "service.py",
    ]
    assert (root / "tests" / "unit" / "test_stock_levels_api.py").exists()
    e2e = (root / "tests" / "e2e" / "test_stock_levels_e2e.py").read_text()
    assert "def test_an_item_added_over_https_can_be_read_back(" in e2e
    assert "    endpoints: Endpoints,\n    https: httpx.Client," in e2e  # the shared cloud
    assert not (root / "overcast.toml").exists()  # built-in apps need no configuration
    readme = (root / "README.md").read_text()
    assert readme.startswith("# Overcast\n\nFour architectures.\n\n## The stock-levels service")
    assert "python -m pytest tests/unit/test_stock_levels_api.py" in readme


def test_the_declaration_has_the_routes_table_and_handler_of_its_package(tmp_path: Path) -> None:
    root = overcast_layout(tmp_path / "overcast")
    create(root, "stock-levels")

    declared = runpy.run_path(str(root / "src/overcast/apps/stock_levels/service.py"))["service"]

    assert isinstance(declared, spec.Service)
    assert declared.name == "stock-levels"
    assert declared.api is not None
    assert declared.api.stage == "v1"
    assert [route.key for route in declared.api.routes] == [
        "GET /items",
        "POST /items",
        "GET /items/{id}",
        "GET /openapi.json",
    ]
    (function,) = declared.all_functions
    assert function.handler == "overcast.apps.stock_levels.handler:handler"
    assert [table.name for table in declared.tables] == ["items"]


def test_the_generated_app_passes_the_repositorys_ruff(tmp_path: Path) -> None:
    root = overcast_layout(tmp_path / "overcast")
    create(root, "stock-levels")
    config = str(REPOSITORY / "pyproject.toml")

    generated = ["src/overcast/apps/stock_levels", "tests"]

    checked = ruff("check", "--config", config, *generated, cwd=root)
    formatted = ruff("format", "--check", "--config", config, *generated, cwd=root)

    assert checked.returncode == 0, checked.stdout
    assert formatted.returncode == 0, formatted.stdout


def test_in_a_users_project_the_service_is_named_in_its_configuration(tmp_path: Path) -> None:
    root = user_project(tmp_path / "project")

    create(root, "inventory", BUILTIN | {"pinboard"})

    config = tomllib.loads((root / "overcast.toml").read_text())
    assert config == {"services": ["pinboard.service", "inventory.service"], "python_path": ["src"]}
    assert (root / "overcast.toml").read_text().startswith("# A user's own project")
    assert (root / "src" / "inventory" / "handler.py").exists()
    tests = root / "tests" / "inventory"
    assert sorted(path.name for path in tests.iterdir()) == [
        "conftest.py",
        "test_inventory_api.py",
        "test_inventory_e2e.py",
    ]
    assert '"up", "--ports", "auto"' in (tests / "test_inventory_e2e.py").read_text()
    assert (root / "README.md").read_text().startswith("## The inventory service\n")


def test_the_generated_service_passes_ruff_in_a_users_project(tmp_path: Path) -> None:
    root = user_project(tmp_path / "project")
    create(root, "inventory", BUILTIN | {"pinboard"})
    rules = ["--select", "E,F,W,I,B,UP,SIM,RUF,PT,RET,C4,PIE", "--target-version", "py311"]

    checked = ruff("check", *rules, "src/inventory", "tests", cwd=root)
    formatted = ruff("format", "--check", "src/inventory", "tests", cwd=root)  # 88 columns

    assert checked.returncode == 0, checked.stdout
    assert formatted.returncode == 0, formatted.stdout


def test_a_pyproject_without_an_overcast_table_gets_one(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    root.mkdir()
    original = '[project]\nname = "shop"\n\n[tool.ruff]\nline-length = 88\n'
    (root / "pyproject.toml").write_text(original)

    create(root, "orders")

    text = (root / "pyproject.toml").read_text()
    assert text.startswith(original)
    document = tomllib.loads(text)
    assert document["tool"]["overcast"] == {
        "services": ["orders.service"],
        "python_path": ["src"],
    }
    assert document["tool"]["ruff"] == {"line-length": 88}
    assert (root / "src" / "orders" / "service.py").exists()


def test_an_existing_python_path_says_where_the_package_goes(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[tool.overcast]  # ours\nbuiltin_apps = false\npython_path = ["lib"]\n'
    )

    create(root, "orders")

    assert (root / "lib" / "orders" / "handler.py").exists()
    assert tomllib.loads((root / "pyproject.toml").read_text())["tool"]["overcast"] == {
        "services": ["orders.service"],
        "builtin_apps": False,
        "python_path": ["lib"],
    }


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            'services = [\n    "a.service",  # the first\n    "b.service"\n]\n\n[ports]\na = 1\n',
            'services = [\n    "a.service",  # the first\n    "b.service",\n'
            '    "inventory.service",\n]\n\n[ports]\na = 1\n',
        ),
        ('services = ["a.service", ]\n', 'services = ["a.service", "inventory.service"]\n'),
        ("services = []\n", 'services = ["inventory.service"]\n'),
        (
            '# mine\nservices = ["x]#.service"]  # odd\n',
            '# mine\nservices = ["x]#.service", "inventory.service"]  # odd\n',
        ),
    ],
)
def test_the_services_array_is_extended_in_place(before: str, after: str) -> None:
    config = ConfigFile(Path("overcast.toml"), before, in_pyproject=False)
    assert add_service(config, "inventory.service") == after


def test_a_configuration_it_cannot_edit_safely_is_refused_with_the_line_to_add(
    tmp_path: Path,
) -> None:
    root = tmp_path / "shop"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[tool]\novercast = { services = ["a.service"], python_path = ["src"] }\n'
    )
    before = snapshot(root)

    with pytest.raises(ScaffoldError) as refused:
        create(root, "orders")

    assert 'services = ["a.service", "orders.service"]' in str(refused.value)
    assert snapshot(root) == before


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Inventory", "is invalid"),
        ("9lives", "is invalid"),
        ("stock_levels", "is invalid"),
        ("a" * 64, "is invalid"),
        ("class", "Python keyword"),
        ("json", "hides Python's"),
        ("tests", "hides Python's or Overcast's"),
        ("pydantic", "already importable"),
        ("todo", "exists already"),
        ("pinboard", "exists already"),
    ],
)
def test_a_bad_or_taken_name_is_refused_and_nothing_is_written(
    tmp_path: Path, name: str, reason: str
) -> None:
    root = user_project(tmp_path / "project")
    before = snapshot(root)

    with pytest.raises(ScaffoldError, match=reason):
        create(root, name, BUILTIN | {"pinboard"})

    assert snapshot(root) == before


def test_an_existing_package_or_app_is_refused(tmp_path: Path) -> None:
    project = user_project(tmp_path / "project")
    (project / "src" / "orders").mkdir()
    repository = overcast_layout(tmp_path / "overcast")

    with pytest.raises(ScaffoldError, match="exists already"):
        create(project, "orders")
    with pytest.raises(ScaffoldError, match="exists already"):
        create(repository, "todo", frozenset())


def test_the_command_creates_the_service_and_says_what_to_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["new", "service", "inventory", "--project", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert "created src/inventory/handler.py" in result.output
    assert "changed overcast.toml (+ inventory.service)" in result.output
    assert "overcast synth inventory" in result.output
    assert tomllib.loads((tmp_path / "overcast.toml").read_text())["services"] == [
        "inventory.service"
    ]


def test_the_command_refuses_a_builtin_apps_name(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["new", "service", "todo", "--project", str(tmp_path)])

    assert result.exit_code == 1
    assert "A service named 'todo' exists already" in result.output
    assert list(tmp_path.iterdir()) == []
