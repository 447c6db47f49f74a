"""The declared tables, created in an AWS-compatible DynamoDB endpoint at start.

With ``dynamodb_endpoint`` set (moto's server, DynamoDB Local), the local cloud keeps
its tables there rather than in SQLite: each declared table is created as the deployer
would (its key schema, its global secondary indexes with projection ``ALL``, on-demand
billing, and its stream's view type when declared), under the physical name the
functions are given (``<service>-<table>``). Creating is idempotent: DynamoDB's
``CreateTable`` of an existing name fails with ``ResourceInUseException``, which
means the table is already there (from an earlier start).

Stream triggers are then dispatched from each table's stream in that endpoint's
DynamoDB Streams (:func:`remote_streams`; see
:mod:`overcast.ports.tables.dynamodb_stream`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from overcast import spec

if TYPE_CHECKING:
    from overcast.local.auth.sigv4 import Credentials
    from overcast.local.streams.change_log import RemoteStreams


def table_name(service_name: str, table: spec.Table) -> str:
    """A table's physical name, as the local cloud gives it to the functions."""
    return f"{service_name}-{table.name}"


def dynamodb_client(endpoint: str, region: str, credentials: Credentials) -> Any:
    """A boto3 DynamoDB client of ``endpoint``, signing with the local cloud's root key."""
    return endpoint_client("dynamodb", endpoint, region, credentials)


def remote_streams(endpoint: str, region: str, credentials: Credentials) -> RemoteStreams:
    """The clients that read the streams of the tables in ``endpoint``."""
    from overcast.local.streams.change_log import RemoteStreams

    return RemoteStreams(
        dynamodb=endpoint_client("dynamodb", endpoint, region, credentials),
        streams=endpoint_client("dynamodbstreams", endpoint, region, credentials),
    )


def endpoint_client(service: str, endpoint: str, region: str, credentials: Credentials) -> Any:
    """A boto3 client of ``service`` at ``endpoint``, signing with the local cloud's root
    key (verified against the system's CAs, not the local cloud's)."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        config=Config(retries={"mode": "standard"}),
    )


def declared_tables(service: spec.Service) -> list[spec.Table]:
    """The service's tables and those its functions use, once each."""
    used = (table for function in service.all_functions for table in function.tables)
    return list({table.name: table for table in (*service.tables, *used)}.values())


def create_tables(services: Iterable[spec.Service], client: Any) -> list[str]:
    """Create each service's declared tables through ``client`` (a boto3 DynamoDB client)
    unless they exist; return the names of those created."""
    from overcast.ports.tables.dynamodb import table_definition

    created = []
    for service in services:
        for table in declared_tables(service):
            request = table_definition(table, table_name(service.name, table))
            if table.stream:
                # DynamoDB Streams: StreamViewType is what each record carries.
                request["StreamSpecification"] = {
                    "StreamEnabled": True,
                    "StreamViewType": table.stream,
                }
            try:
                client.create_table(**request)
            except client.exceptions.ResourceInUseException:
                continue
            created.append(request["TableName"])
    return created
