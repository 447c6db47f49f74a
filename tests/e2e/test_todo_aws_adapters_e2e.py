"""MyToDoList end to end with the AWS adapters: both worlds pass the same scenarios.

The local cloud keeps its tables in moto's server (``overcast up --dynamodb-endpoint``):
the to-do function reads and writes DynamoDB through the same adapter as on AWS, while
sign-up, tokens, the gateway and its authorizer stay the local cloud's. The scenarios
of ``test_todo_e2e.py`` run here again, against that cloud.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from overcast.local.endpoints import Endpoints
from tests.cloud_process import CloudProcess
from tests.e2e.conftest import SAMPLE_PROJECT, Users, bearer, todo_url, trusting
from tests.e2e.moto_world import moto_client
from tests.e2e.test_todo_e2e import (  # noqa: F401  (the same scenarios run here)
    test_a_user_signs_up_by_mail_and_manages_their_todos,
    test_other_user_can_neither_see_nor_change_my_todos,
)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory, moto_server: str) -> Iterator[CloudProcess]:
    """A local cloud whose tables are moto's (overrides the session's SQLite cloud)."""
    data_dir = tmp_path_factory.mktemp("aws-adapters") / "data"
    process = CloudProcess(
        data_dir, SAMPLE_PROJECT, ["--quiet", "--dynamodb-endpoint", moto_server]
    )
    process.start()
    yield process
    assert process.stop() == 0, process.output()


@pytest.fixture(scope="module")
def endpoints(cloud: CloudProcess) -> Endpoints:
    assert cloud.endpoints is not None
    return cloud.endpoints


@pytest.fixture(scope="module")
def users(endpoints: Endpoints, cloud: CloudProcess) -> Users:
    return Users(endpoints, cloud.data_dir)


@pytest.fixture(scope="module")
def moto_dynamodb(moto_server: str) -> Any:
    return moto_client("dynamodb", moto_server)


def test_the_todos_land_in_dynamodb_not_in_sqlite(
    endpoints: Endpoints,
    users: Users,
    https: httpx.Client,
    cloud: CloudProcess,
    moto_dynamodb: Any,
) -> None:
    # Given the cloud created the declared table, with its index, in moto at start
    described = moto_dynamodb.describe_table(TableName="todo-todos")["Table"]
    assert [index["IndexName"] for index in described["GlobalSecondaryIndexes"]] == ["by-completed"]

    # When a user creates a to-do through the API
    alice = users.sign_up_and_in()
    created = https.post(todo_url(endpoints), json={"title": "In moto"}, headers=bearer(alice))
    assert created.status_code == 201, created.text

    # Then the item is in moto's table, under the user's partition
    items = moto_dynamodb.scan(TableName="todo-todos")["Items"]
    mine = [item for item in items if item["pk"]["S"] == f"USER#{alice.sub}"]
    assert [item["title"]["S"] for item in mine] == ["In moto"]

    # And the local cloud wrote no SQLite table for it
    assert not (cloud.data_dir / "tables" / "todo" / "todos.sqlite3").exists()


def test_a_restart_finds_its_tables_and_todos_in_dynamodb(
    own_cloud: Callable[..., CloudProcess], moto_server: str
) -> None:
    # Given a cloud of its own on moto's tables, a user and a to-do
    cloud = own_cloud(SAMPLE_PROJECT, "--quiet", "--dynamodb-endpoint", moto_server)
    endpoints = cloud.start()
    own_users = Users(endpoints, cloud.data_dir)
    alice = own_users.sign_up_and_in()
    with httpx.Client(verify=trusting(endpoints)) as https:
        created = https.post(todo_url(endpoints), json={"title": "Kept"}, headers=bearer(alice))
    assert created.status_code == 201, created.text

    # When it stops and starts again (its tables already exist in moto)
    assert cloud.stop() == 0, cloud.output()
    restarted = cloud.start()

    # Then the user signs in again and their to-do is there
    again = Users(restarted, cloud.data_dir).sign_in(alice.email, own_users.client_id())
    with httpx.Client(verify=trusting(restarted)) as https:
        listed = https.get(todo_url(restarted), headers=bearer(again))
    assert [item["title"] for item in listed.json()["items"]] == ["Kept"]
    assert cloud.stop() == 0, cloud.output()
