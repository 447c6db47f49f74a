"""``overcast sdk``: the generated to-do client type-checks with mypy --strict and imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from overcast.apps.todo.service import service as todo_service
from overcast.toolkit.openapi import fetch_document
from overcast.toolkit.sdk import SdkError, check_generator_installed, generate_client
from tests.cloud_process import OVERCAST


@pytest.fixture(scope="module")
def todo_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sdk") / "todo-client"
    generate_client(fetch_document(todo_service), "todo", out)
    return out


def test_the_generated_todo_client_type_checks_with_mypy_strict(todo_client: Path) -> None:
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "todo_client"],
        cwd=todo_client,
        capture_output=True,
        text=True,
        check=False,
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Success: no issues found" in checked.stdout


def test_the_generated_client_imports_with_an_operation_per_route(todo_client: Path) -> None:
    code = (
        "from todo_client import AuthenticatedClient\n"
        "from todo_client.api.default import create_todo_todos_post, list_todos_todos_get\n"
        "from todo_client.models import TodoCreate\n"
        "client = AuthenticatedClient(base_url='https://example.invalid/v1', token='t')\n"
        "print(TodoCreate(title='x').to_dict())\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", code], cwd=todo_client, capture_output=True, text=True, check=False
    )

    assert ran.returncode == 0, ran.stderr
    assert "'title': 'x'" in ran.stdout


def test_the_cli_writes_the_client_where_asked(tmp_path: Path) -> None:
    out = tmp_path / "client"

    done = subprocess.run(
        [*OVERCAST, "sdk", "todo", "--out", str(out), "--project", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert (out / "todo_client" / "client.py").is_file()
    assert (out / "pyproject.toml").read_text().count('name = "todo-client"') == 1


def test_a_missing_generator_says_which_extra_to_install() -> None:
    with pytest.raises(SdkError, match=r"pip install 'overcast\[sdk\]'"):
        check_generator_installed(lambda name: None)


def test_the_cli_refuses_a_folder_that_holds_other_files(tmp_path: Path) -> None:
    out = tmp_path / "myproject"
    out.mkdir()
    (out / "pyproject.toml").write_text("mine\n")

    done = subprocess.run(
        [*OVERCAST, "sdk", "todo", "--out", str(out), "--project", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode != 0
    assert "--force" in done.stderr + done.stdout
    assert (out / "pyproject.toml").read_text() == "mine\n"
    assert sorted(path.name for path in out.iterdir()) == ["pyproject.toml"]


def test_regenerating_into_an_earlier_client_of_the_service_is_allowed(tmp_path: Path) -> None:
    out = tmp_path / "todo-client"
    (out / "todo_client").mkdir(parents=True)
    (out / "todo_client" / "client.py").write_text("# old\n")
    (out / "pyproject.toml").write_text("old\n")

    generate_client(fetch_document(todo_service), "todo", out)

    assert 'name = "todo-client"' in (out / "pyproject.toml").read_text()


def test_force_writes_into_a_folder_that_holds_other_files(tmp_path: Path) -> None:
    out = tmp_path / "myproject"
    out.mkdir()
    (out / "notes.txt").write_text("keep\n")

    with pytest.raises(SdkError, match="--force"):
        generate_client(fetch_document(todo_service), "todo", out)
    generate_client(fetch_document(todo_service), "todo", out, force=True)

    assert (out / "todo_client" / "client.py").is_file()
    assert (out / "notes.txt").read_text() == "keep\n"
