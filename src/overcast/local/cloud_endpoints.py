"""What ``endpoints.json`` says of a running local cloud (:mod:`overcast.local.endpoints`),
gathered from what the cloud started: its AWS endpoint, mail sink and web mailbox, and,
per service, its API's stages, distributions, user pools, identity pools and buckets.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from overcast.local.cdn.cloud_edges import RunningEdge
from overcast.local.endpoints import (
    DistributionEndpoint,
    Endpoints,
    IdentityPoolEndpoint,
    ServiceEndpoints,
    UserPoolEndpoint,
)
from overcast.local.service_runtime import ServiceRuntime
from overcast.local.settings import CloudSettings

# The AWS services the local cloud's one AWS endpoint answers for.
AWS_SERVICES = (
    "cognito-idp",
    "cognito-identity",
    "sts",
    "s3",
    "sqs",
    "sns",
    "dynamodb",
    "lambda",
)


def cloud_endpoints(
    settings: CloudSettings,
    runtimes: Sequence[ServiceRuntime],
    edges: Sequence[RunningEdge],
    *,
    ca_bundle: str,
    aws_url: str,
    smtp_port: int,
    mailbox: str,
) -> Endpoints:
    """The endpoints of the cloud and of each of its services (this process's pid)."""
    return Endpoints(
        region=settings.region,
        ca_bundle=ca_bundle,
        aws=_aws_urls(settings, aws_url),
        smtp=f"{settings.host}:{smtp_port}",
        mailbox=mailbox,
        services={
            runtime.service.name: service_endpoints(runtime, settings.host, edges)
            for runtime in runtimes
        },
        pid=os.getpid(),
    )


def _aws_urls(settings: CloudSettings, aws_url: str) -> dict[str, str]:
    """Each AWS service's URL: the cloud's endpoint, except DynamoDB when the tables live
    in another DynamoDB endpoint (``--dynamodb-endpoint``), which clients must call."""
    urls = dict.fromkeys(AWS_SERVICES, aws_url)
    if settings.dynamodb_endpoint is not None:
        urls["dynamodb"] = settings.dynamodb_endpoint
    return urls


def service_endpoints(
    runtime: ServiceRuntime, host: str, edges: Sequence[RunningEdge]
) -> ServiceEndpoints:
    """One service's endpoints: its API's stages, distributions and identity resources."""
    api, listener = runtime.service.api, runtime.listener
    return ServiceEndpoints(
        api=runtime.api_url(host),
        stages={
            stage.name: f"https://{host}:{listener.port}/{stage.name}" for stage in api.all_stages
        }
        if api and listener
        else {},
        distributions={
            running.distribution.name: DistributionEndpoint(
                id=running.id, arn=running.arn, url=running.url
            )
            for running in edges
            if running.service == runtime.service.name
        },
        user_pools={
            name: UserPoolEndpoint(
                id=pool.pool_id, arn=pool.arn, issuer=pool.issuer, clients=dict(pool.client_ids)
            )
            for name, pool in runtime.resources.user_pools.items()
        },
        identity_pools={
            name: IdentityPoolEndpoint(id=pool.id, authenticated_role_arn=pool.role_arn)
            for name, pool in runtime.resources.identity_pools.items()
        },
        buckets=dict(runtime.resources.buckets),
    )
