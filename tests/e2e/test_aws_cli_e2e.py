"""The AWS CLI, pointed at the local cloud by `overcast env`, signs up and in unchanged."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from tests.cloud_process import OVERCAST, CloudProcess
from tests.e2e.conftest import PASSWORD, Users

AWS = str(Path(sys.executable).with_name("aws"))


def overcast_env(cloud: CloudProcess) -> dict[str, str]:
    printed = subprocess.run(
        [*OVERCAST, "env", "--data-dir", str(cloud.data_dir)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    exports = {}
    for line in printed.splitlines():
        assert line.startswith("export "), line
        name, _, value = line.removeprefix("export ").partition("=")
        exports[name] = shlex.split(value)[0]
    return exports


def aws(env: dict[str, str], *args: str) -> dict[str, object]:
    isolated = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    completed = subprocess.run(
        [AWS, "--output", "json", *args],
        env={**isolated, **env, "AWS_CONFIG_FILE": os.devnull},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout) if completed.stdout.strip() else {}


def test_overcast_env_exports_what_sdks_need(cloud: CloudProcess) -> None:
    env = overcast_env(cloud)
    assert cloud.endpoints is not None
    assert env["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"] == cloud.endpoints.aws["cognito-idp"]
    assert env["AWS_CA_BUNDLE"] == cloud.endpoints.ca_bundle
    assert env["AWS_REGION"] == cloud.endpoints.region
    assert env["OVERCAST_TODO_API_URL"] == cloud.endpoints.services["todo"].api
    for sdk_name in ("S3", "STS", "COGNITO_IDENTITY"):
        assert env[f"AWS_ENDPOINT_URL_{sdk_name}"] == cloud.endpoints.aws["s3"]
    todo = cloud.endpoints.services["todo"]
    assert env["OVERCAST_TODO_FILES_BUCKET"] == todo.buckets["files"] == "todo-files"
    assert env["OVERCAST_TODO_FILES_IDENTITY_POOL_ID"] == todo.identity_pools["files"].id


def test_aws_cli_signs_up_confirms_and_signs_in(cloud: CloudProcess, users: Users) -> None:
    env = overcast_env(cloud)
    client_id = env["OVERCAST_TODO_USERS_WEB_CLIENT_ID"]
    email = "cli-user@example.com"

    signed_up = aws(
        env, "cognito-idp", "sign-up", "--client-id", client_id,
        "--username", email, "--password", PASSWORD,
    )  # fmt: skip
    assert signed_up["UserConfirmed"] is False
    code = users.confirmation_code(email)
    aws(
        env, "cognito-idp", "confirm-sign-up", "--client-id", client_id,
        "--username", email, "--confirmation-code", code,
    )  # fmt: skip
    signed_in = aws(
        env, "cognito-idp", "initiate-auth", "--client-id", client_id,
        "--auth-flow", "USER_PASSWORD_AUTH",
        "--auth-parameters", f"USERNAME={email},PASSWORD={PASSWORD}",
    )  # fmt: skip
    result = signed_in["AuthenticationResult"]
    assert isinstance(result, dict)
    user = aws(env, "cognito-idp", "get-user", "--access-token", result["AccessToken"])
    assert {"Name": "email", "Value": email} in user["UserAttributes"]  # type: ignore[operator]

    # An operator command, signed with the root credentials `overcast env` exports
    pool_id = env["OVERCAST_TODO_USERS_POOL_ID"]
    admin = aws(
        env, "cognito-idp", "admin-get-user", "--user-pool-id", pool_id, "--username", email
    )
    assert admin["UserStatus"] == "CONFIRMED"
