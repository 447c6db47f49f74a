"""The local DynamoDB API's tables: routed by target, refused when they live elsewhere,
and pointed at by ``overcast env`` wherever they live."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from starlette.types import Receive, Scope, Send

from overcast import spec
from overcast.local.aws_endpoint import AwsEndpoint
from overcast.local.cloud_endpoints import AWS_SERVICES, cloud_endpoints
from overcast.local.dynamodb import errors
from overcast.local.dynamodb.tables import DeclaredTables
from overcast.local.endpoints import SERVICE_IDS
from overcast.local.settings import CloudSettings

notes = spec.Service("notes", tables=(spec.Table("items", spec.Key("id")),))


def test_a_dynamodb_target_is_routed_to_the_dynamodb_api() -> None:
    seen: list[str] = []

    async def dynamodb(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append("dynamodb")

    endpoint = AwsEndpoint(dynamodb=dynamodb)
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"x-amz-target", b"DynamoDB_20120810.Scan")],
    }

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"{}"}

    async def send(message: object) -> None: ...

    asyncio.run(endpoint(scope, receive, send))  # type: ignore[arg-type]
    assert seen == ["dynamodb"]


def test_declared_tables_are_found_by_physical_name_and_others_are_not(tmp_path: Path) -> None:
    tables = DeclaredTables(tmp_path, region="eu-west-1", account_id="123456789012")
    tables.declare(notes)
    assert tables.names() == ["notes-items"]
    assert tables.table("notes-items").path == tmp_path / "tables" / "notes" / "items.sqlite3"
    assert tables.arn("notes-items") == "arn:aws:dynamodb:eu-west-1:123456789012:table/notes-items"
    with pytest.raises(errors.ResourceNotFound):
        tables.table("items")
    tables.close()


def test_tables_kept_in_another_endpoint_are_not_served_from_stale_files(tmp_path: Path) -> None:
    remote = "http://127.0.0.1:5000"
    tables = DeclaredTables(tmp_path, region="r", account_id="1", remote_endpoint=remote)
    tables.declare(notes)
    with pytest.raises(errors.ValidationException, match=remote):
        tables.table("notes-items")
    with pytest.raises(errors.ValidationException, match="AWS_ENDPOINT_URL_DYNAMODB"):
        tables.names()
    assert not (tmp_path / "tables").exists()


@pytest.mark.parametrize("remote", [None, "http://127.0.0.1:5000"])
def test_overcast_env_points_dynamodb_where_the_tables_are(
    tmp_path: Path, remote: str | None
) -> None:
    settings = CloudSettings(project_dir=tmp_path, data_dir=tmp_path, dynamodb_endpoint=remote)
    endpoints = cloud_endpoints(
        settings, [], [], ca_bundle="ca", aws_url="https://aws", smtp_port=1, mailbox="m"
    )
    assert "dynamodb" in AWS_SERVICES
    assert SERVICE_IDS["dynamodb"] == "DYNAMODB"
    assert endpoints.aws["dynamodb"] == (remote or "https://aws")
    assert endpoints.aws["sqs"] == "https://aws"
