"""Functions' own credentials: a role per function, its session, what IAM lets it do.

A real AWS endpoint (user pools, S3) on a free port; boto3 signs with the keys the
local cloud would put in each function's environment.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from overcast import spec
from overcast.local.aws_services import AwsServices, ServiceResources
from tests.fixtures.aws_services import ROOT, free_socket, local_aws
from tests.fixtures.server_thread import ServerThread

table = spec.Table("blog", spec.Key("pk"), spec.Key("sk"))
photos = spec.Bucket("photos")
readers = spec.UserPool(
    "readers", clients=(spec.UserPoolClient("web", auth_flows=("ADMIN_USER_PASSWORD_AUTH",)),)
)
api = spec.Function("api", "m:h", tables=(table,), user_pools=(readers,), buckets=(photos,))
welcome = spec.Function("welcome", "m:h", tables=(table,))
blog = spec.Service(
    "blog",
    tables=(table,),
    buckets=(photos,),
    user_pools=(readers,),
    functions=(api, welcome),
)
other_pool = spec.UserPool("members")
other = spec.Service("club", user_pools=(other_pool,))


@dataclass
class Cloud:
    url: str
    aws: AwsServices
    resources: ServiceResources
    other: ServiceResources

    def client(self, service: str, variables: dict[str, str] | None = None) -> Any:
        keys = (
            {
                "aws_access_key_id": variables["AWS_ACCESS_KEY_ID"],
                "aws_secret_access_key": variables["AWS_SECRET_ACCESS_KEY"],
                "aws_session_token": variables["AWS_SESSION_TOKEN"],
            }
            if variables
            else {
                "aws_access_key_id": ROOT.access_key_id,
                "aws_secret_access_key": ROOT.secret_access_key,
            }
        )
        return boto3.session.Session().client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.url,
            region_name="us-east-1",
            config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
            **keys,
        )

    def variables(self, function: spec.Function) -> dict[str, str]:
        return self.aws.function_variables(blog, function, self.resources, "https://api/v1")


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    data_dir: Path = tmp_path_factory.mktemp("aws")
    bound, url = free_socket("http")
    aws = local_aws(data_dir, url)
    resources = aws.register(blog)
    others = aws.register(other)
    with ServerThread(aws.endpoint, bound):
        yield Cloud(url, aws, resources, others)
    aws.close()


def _create_user(client: Any, pool_id: str, email: str) -> Any:
    return client.admin_create_user(
        UserPoolId=pool_id,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}],
        MessageAction="SUPPRESS",
    )


def _code(caught: pytest.ExceptionInfo[ClientError]) -> str:
    return str(caught.value.response["Error"]["Code"])


def test_a_function_gets_session_keys_its_pools_client_ids_and_the_api_url(cloud: Cloud) -> None:
    variables = cloud.variables(api)

    assert variables["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    assert variables["AWS_SESSION_TOKEN"]
    client_id = cloud.resources.user_pools["readers"].client_ids["web"]
    assert variables["OVERCAST_RESOURCE_USER_POOL_CLIENT_READERS_WEB"] == client_id
    assert variables["OVERCAST_RESOURCE_API_BLOG"] == "https://api/v1"
    assert "OVERCAST_RESOURCE_USER_POOL_CLIENT_READERS_WEB" not in cloud.variables(welcome)


def test_a_function_that_declares_the_pool_may_call_its_admin_operations(cloud: Cloud) -> None:
    cognito = cloud.client("cognito-idp", cloud.variables(api))
    pool_id = cloud.resources.user_pools["readers"].pool_id

    created = _create_user(cognito, pool_id, "reader@example.com")
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username="reader@example.com", Password="Passw0rd!x", Permanent=True
    )

    assert created["User"]["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    found = cloud.client("cognito-idp").admin_get_user(  # root may too
        UserPoolId=pool_id, Username="reader@example.com"
    )
    assert found["UserStatus"] == "CONFIRMED"


def test_a_function_without_the_pool_or_on_another_pool_is_access_denied(cloud: Cloud) -> None:
    readers_id = cloud.resources.user_pools["readers"].pool_id
    members_id = cloud.other.user_pools["members"].pool_id

    with pytest.raises(ClientError) as undeclared:
        _create_user(cloud.client("cognito-idp", cloud.variables(welcome)), readers_id, "a@x.io")
    with pytest.raises(ClientError) as elsewhere:
        _create_user(cloud.client("cognito-idp", cloud.variables(api)), members_id, "b@x.io")

    assert _code(undeclared) == _code(elsewhere) == "AccessDeniedException"
    assert "cognito-idp:AdminCreateUser" in str(undeclared.value)
    assert "blog-welcome-function" in str(undeclared.value)


def test_unknown_keys_are_refused_before_anything_runs(cloud: Cloud) -> None:
    forged = {
        "AWS_ACCESS_KEY_ID": "ASIAFORGEDFORGED0000",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_SESSION_TOKEN": "y",
    }
    pool_id = cloud.resources.user_pools["readers"].pool_id

    with pytest.raises(ClientError) as caught:
        _create_user(cloud.client("cognito-idp", forged), pool_id, "c@x.io")

    assert _code(caught) == "UnrecognizedClientException"


def test_a_functions_bucket_access_follows_its_declarations(cloud: Cloud) -> None:
    bucket = cloud.resources.buckets["photos"]

    cloud.client("s3", cloud.variables(api)).put_object(Bucket=bucket, Key="k", Body=b"1")
    with pytest.raises(ClientError) as caught:
        cloud.client("s3", cloud.variables(welcome)).get_object(Bucket=bucket, Key="k")

    assert _code(caught) == "AccessDenied"
