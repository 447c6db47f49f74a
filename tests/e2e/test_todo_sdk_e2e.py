"""The generated to-do client (``overcast sdk todo``) against the running local cloud."""

from __future__ import annotations

import importlib
import subprocess
from pathlib import Path
from typing import Any

import pytest

from overcast.local.endpoints import Endpoints
from tests.cloud_process import OVERCAST, CloudProcess
from tests.e2e.conftest import Users, trusting


@pytest.fixture(scope="module")
def client_package(cloud: CloudProcess, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sdk") / "todo-client"
    command = [*OVERCAST, "sdk", "todo", "--out", str(out), "--data-dir", str(cloud.data_dir)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return out


def _module(name: str) -> Any:
    return importlib.import_module(f"todo_client.{name}")


def test_a_user_manages_their_todos_with_the_generated_client(
    client_package: Path,
    endpoints: Endpoints,
    users: Users,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the generated package, and a signed-in user's ID token as its bearer token
    monkeypatch.syspath_prepend(str(client_package))
    todo_client = importlib.import_module("todo_client")
    models = _module("models")
    alice = users.sign_up_and_in()
    base_url = endpoints.services["todo"].api
    client = todo_client.AuthenticatedClient(
        base_url=base_url, token=alice.id_token, verify_ssl=trusting(endpoints)
    )

    with client:
        # When they create a to-do, then list and read it
        created = _module("api.default.create_todo_todos_post").sync_detailed(
            client=client, body=models.TodoCreate(title="Typed milk")
        )
        assert created.status_code == 201, created.content
        todo = created.parsed
        assert isinstance(todo, models.Todo)
        listed = _module("api.default.list_todos_todos_get").sync(client=client)
        assert [item.id for item in listed.items] == [todo.id]
        read = _module("api.default.get_todo_todos_id_get").sync_detailed(todo.id, client=client)
        assert read.status_code == 200
        assert read.parsed.title == "Typed milk"
        etag = read.headers["ETag"]

        # When they replace it, then change one field with the ETag they read
        replaced = _module("api.default.replace_todo_todos_id_put").sync(
            todo.id, client=client, body=models.TodoReplace(title="Oat milk", completed=False)
        )
        assert (replaced.title, replaced.version) == ("Oat milk", 2)
        stale = _module("api.default.patch_todo_todos_id_patch").sync_detailed(
            todo.id, client=client, body=models.TodoPatch(completed=True), if_match=etag
        )
        assert stale.status_code == 412
        assert isinstance(stale.parsed, models.ErrorMessage)
        patched = _module("api.default.patch_todo_todos_id_patch").sync(
            todo.id, client=client, body=models.TodoPatch(completed=True), if_match='"2"'
        )
        assert (patched.completed, patched.version) == (True, 3)

        # When they delete it, it is gone
        deleted = _module("api.default.delete_todo_todos_id_delete").sync_detailed(
            todo.id, client=client
        )
        assert deleted.status_code == 204
        gone = _module("api.default.get_todo_todos_id_get").sync_detailed(todo.id, client=client)
        assert gone.status_code == 404
