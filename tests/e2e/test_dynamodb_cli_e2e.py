"""The AWS CLI, pointed at a running local cloud by ``overcast env``, reads and writes the
sample project's to-do table through DynamoDB's API: the functions' own data."""

from __future__ import annotations

import json

import httpx
import pytest

from overcast.local.endpoints import Endpoints
from tests.cloud_process import CloudProcess
from tests.e2e.conftest import Users, bearer, todo_url
from tests.e2e.test_aws_cli_e2e import aws, overcast_env

pytestmark = pytest.mark.e2e
TABLE = "todo-todos"


def test_aws_cli_puts_gets_and_scans_a_declared_table(cloud: CloudProcess) -> None:
    env = overcast_env(cloud)
    assert cloud.endpoints is not None
    assert env["AWS_ENDPOINT_URL_DYNAMODB"] == cloud.endpoints.aws["dynamodb"]
    item = {"pk": {"S": "CLI#e2e"}, "sk": {"S": "NOTE#1"}, "text": {"S": "from the CLI"}}
    ddb = ("dynamodb",)
    aws(env, *ddb, "put-item", "--table-name", TABLE, "--item", json.dumps(item))
    key = json.dumps({"pk": item["pk"], "sk": item["sk"]})
    got = aws(env, *ddb, "get-item", "--table-name", TABLE, "--key", key)
    assert got["Item"] == item
    scanned = aws(
        env, *ddb, "scan", "--table-name", TABLE,
        "--filter-expression", "pk = :pk",
        "--expression-attribute-values", json.dumps({":pk": item["pk"]}),
    )  # fmt: skip
    assert scanned["Items"] == [item]


def test_a_todo_created_through_the_api_is_visible_to_aws_dynamodb_query(
    cloud: CloudProcess, endpoints: Endpoints, users: Users, https: httpx.Client
) -> None:
    alice = users.sign_up_and_in()
    created = https.post(todo_url(endpoints), json={"title": "Via the API"}, headers=bearer(alice))
    assert created.status_code == 201, created.text
    env = overcast_env(cloud)
    queried = aws(
        env, "dynamodb", "query", "--table-name", TABLE,
        "--key-condition-expression", "pk = :pk",
        "--expression-attribute-values", json.dumps({":pk": {"S": f"USER#{alice.sub}"}}),
    )  # fmt: skip
    titles = [item["title"]["S"] for item in queried["Items"]]  # type: ignore[union-attr,index]
    assert titles == ["Via the API"]
