"""The AWS CLI, pointed at the local cloud by ``overcast env``, invokes the to-do API's
function directly with an API Gateway event, as ``aws lambda invoke`` does on AWS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cloud_process import CloudProcess
from tests.e2e.test_aws_cli_e2e import aws, overcast_env
from tests.todo_events import id_token_claims, load_sample_event, rest_event

pytestmark = pytest.mark.e2e


def test_aws_cli_invokes_the_todo_function_with_an_api_gateway_event(
    cloud: CloudProcess, tmp_path: Path
) -> None:
    env = overcast_env(cloud)
    assert cloud.endpoints is not None
    assert env["AWS_ENDPOINT_URL_LAMBDA"] == cloud.endpoints.aws["lambda"]
    event = rest_event(
        load_sample_event(), "GET", "/todos", claims=id_token_claims("lambda-cli-user")
    )
    out = tmp_path / "out.json"

    # AWS CLI v1 sends --payload as given (v2 would need --cli-binary-format).
    answer = aws(
        env, "lambda", "invoke", "--function-name", "todo-api",
        "--payload", json.dumps(event), str(out),
    )  # fmt: skip

    assert answer["StatusCode"] == 200
    assert "FunctionError" not in answer
    response = json.loads(out.read_text())
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"items": [], "next_cursor": None}
    listed: Any = aws(env, "lambda", "list-functions")["Functions"]
    assert "todo-api" in [each["FunctionName"] for each in listed]
