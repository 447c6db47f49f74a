"""Both worlds pass the same scenarios: the to-do API on SQLite and on DynamoDB (moto).

- Every scenario of ``tests/unit/test_todo_api.py`` runs here twice, with the API on a
  local SQLite table and on a DynamoDB table in moto (in-process).
- The Lambda handler, bootstrapped for AWS (``OVERCAST_BACKEND=aws``), finds its table
  by the name the deployer passes and serves requests from it.
- Against moto's server, over HTTP, the handler reaches DynamoDB and the identity pool
  (Cognito Identity's ``GetId``) at the configured AWS endpoint, as it would AWS's.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer

from overcast.apps.todo.handler import create_app, handler
from overcast.apps.todo.service import todos_table
from overcast.ports.tables import Table
from overcast.ports.tables.dynamodb import DynamoDbTable, table_definition
from overcast.ports.tables.sqlite import SqliteTable
from overcast.runtime import RuntimeConfig, using_environment
from overcast.runtime.config import resource_variable
from tests.todo_events import ManualClock, TodoApi, memory_folders, repository_on
from tests.unit.test_todo_api import *  # noqa: F403  (the same scenarios run here)

REGION = "us-east-1"
_names = (f"todo-todos-{number}" for number in itertools.count())


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("dynamodb", region_name=REGION)


def new_dynamodb_table(client: Any) -> str:
    name = next(_names)
    client.create_table(**table_definition(todos_table, name))
    return name


@pytest.fixture(params=["sqlite", "dynamodb"])
def table(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Table]:
    if request.param == "sqlite":
        local = SqliteTable(todos_table, tmp_path / "todos.sqlite3")
        yield local
        local.close()
        return
    client = request.getfixturevalue("dynamodb")
    yield DynamoDbTable(todos_table, new_dynamodb_table(client), client)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def api(table: Table, clock: ManualClock) -> TodoApi:
    return TodoApi(create_app(repository_on(table, clock), memory_folders()).resolve)


# --- the handler, bootstrapped for AWS --------------------------------------------------------


def aws_function(resources: dict[str, str], endpoint: str | None = None) -> TodoApi:
    """The handler as Lambda runs it: its environment as the deployer sets it."""
    environ = RuntimeConfig(
        service="todo", backend="aws", region=REGION, aws_endpoint=endpoint, resources=resources
    ).to_environ()

    def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with using_environment(environ):
            return handler(event, context)

    return TodoApi(invoke)


def test_the_handler_on_aws_serves_from_the_table_the_deployer_names(dynamodb: Any) -> None:
    name = new_dynamodb_table(dynamodb)
    api = aws_function({resource_variable("TABLE", "todos"): name})

    created = api.create(title="On DynamoDB", completed=True)
    listed = api.list(completed="true")
    patched = api.item("PATCH", created["id"], body={"title": "Still"}, headers={"If-Match": '"1"'})

    assert listed.body["items"] == [created]
    assert (patched.status, patched.headers["ETag"]) == (200, '"2"')
    stored = dynamodb.scan(TableName=name)["Items"]
    assert [item["title"] for item in stored] == [{"S": "Still"}]
    assert stored[0]["version"] == {"N": "2"}


# --- against moto's server ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def on_server(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A deployed to-do service on moto's server: its table and identity pool."""
    # What Lambda gives a function: credentials of its role, in its environment.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    dynamodb = boto3.client("dynamodb", region_name=REGION, endpoint_url=moto_server)
    identity = boto3.client("cognito-identity", region_name=REGION, endpoint_url=moto_server)
    pool = identity.create_identity_pool(
        IdentityPoolName="files", AllowUnauthenticatedIdentities=False
    )["IdentityPoolId"]
    resources = {
        resource_variable("TABLE", "todos"): new_dynamodb_table(dynamodb),
        resource_variable("IDENTITY_POOL", "files"): pool,
        resource_variable("USER_POOL", "users"): f"{REGION}_users",
    }
    return {"dynamodb": dynamodb, "identity": identity, "pool": pool, "resources": resources}


def test_on_moto_server_todos_are_isolated_paged_and_conditional(
    on_server: dict[str, Any], moto_server: str
) -> None:
    api = aws_function(on_server["resources"], moto_server)
    ids = [api.create(title=f"#{n}")["id"] for n in range(5)]

    first = api.list(limit="3")
    second = api.list(limit="3", cursor=first.body["next_cursor"])
    stale = api.item(
        "PUT", ids[0], body={"title": "x", "completed": False}, headers={"If-Match": '"7"'}
    )
    stolen = api.as_user("user-b").item("DELETE", ids[0])

    assert [t["id"] for t in first.body["items"] + second.body["items"]] == ids[::-1]
    assert second.body["next_cursor"] is None
    assert (stale.status, stolen.status) == (412, 404)
    assert api.item("GET", ids[0]).body["version"] == 1


def test_on_moto_server_attachments_must_be_in_the_callers_identity_folder(
    on_server: dict[str, Any], moto_server: str
) -> None:
    api = aws_function(on_server["resources"], moto_server)

    # The API asks the identity pool (GetId at moto's server) for the caller's folder
    refused = api.call("POST", "/todos", body={"title": "x", "attachments": ["elsewhere/a.txt"]})
    [identity] = on_server["identity"].list_identities(
        IdentityPoolId=on_server["pool"], MaxResults=10
    )["Identities"]
    mine = f"{identity['IdentityId']}/photo.jpg"
    created = api.create(title="With a photo", attachments=[mine])

    assert refused.status == 422
    assert api.item("GET", created["id"]).body["attachments"] == [mine]
