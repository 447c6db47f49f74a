"""``endpoints.json``: everything a client needs to reach a running local cloud.

Written by ``overcast up`` when it is ready (atomically, so a reader never sees half
a file) and read by ``overcast env``, the tests and any tool of the user's.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# AWS SDKs read AWS_ENDPOINT_URL_<SERVICE_ID>, the service id upper-cased with
# underscores (botocore: metadata.serviceId), keyed here by endpoint prefix.
SERVICE_IDS = {
    "cognito-idp": "COGNITO_IDENTITY_PROVIDER",
    "cognito-identity": "COGNITO_IDENTITY",
    "sts": "STS",
    "s3": "S3",
    "sqs": "SQS",
    "sns": "SNS",
    "dynamodb": "DYNAMODB",
    "lambda": "LAMBDA",
}


@dataclass(frozen=True)
class UserPoolEndpoint:
    id: str
    arn: str
    issuer: str
    clients: dict[str, str]


@dataclass(frozen=True)
class IdentityPoolEndpoint:
    id: str
    authenticated_role_arn: str


@dataclass(frozen=True)
class DistributionEndpoint:
    id: str
    arn: str
    url: str  # the edge's HTTPS URL (CloudFront's https://<id>.cloudfront.net)


@dataclass(frozen=True)
class ServiceEndpoints:
    api: str | None = None  # the default stage's URL
    user_pools: dict[str, UserPoolEndpoint] = field(default_factory=dict)
    identity_pools: dict[str, IdentityPoolEndpoint] = field(default_factory=dict)
    buckets: dict[str, str] = field(default_factory=dict)  # declared name -> S3 bucket name
    distributions: dict[str, DistributionEndpoint] = field(default_factory=dict)
    stages: dict[str, str] = field(default_factory=dict)  # every stage's URL, by name


@dataclass(frozen=True)
class Endpoints:
    region: str
    ca_bundle: str
    aws: dict[str, str]
    smtp: str
    mailbox: str
    services: dict[str, ServiceEndpoints]
    pid: int
    mailbox_url: str | None = None  # the web mailbox; absent from files of older clouds

    def write(self, path: Path) -> None:
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)

    @classmethod
    def read(cls, path: Path) -> Endpoints:
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        services = {
            name: ServiceEndpoints(
                api=entry.get("api"),
                user_pools={
                    pool: UserPoolEndpoint(**details)
                    for pool, details in entry.get("user_pools", {}).items()
                },
                identity_pools={
                    pool: IdentityPoolEndpoint(**details)
                    for pool, details in entry.get("identity_pools", {}).items()
                },
                buckets=dict(entry.get("buckets", {})),
                stages=dict(entry.get("stages", {})),
                distributions={
                    name: DistributionEndpoint(**details)
                    for name, details in entry.get("distributions", {}).items()
                },
            )
            for name, entry in raw["services"].items()
        }
        return cls(**{**raw, "services": services})


def running_endpoints(path: Path) -> Endpoints | None:
    """The endpoints of the local cloud running with this file, or ``None``.

    A cloud that crashed leaves its file behind; a file whose process is gone is stale.
    """
    if not path.exists():
        return None
    endpoints = Endpoints.read(path)
    try:
        os.kill(endpoints.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, owned by another user
        return endpoints
    return endpoints


def shell_exports(endpoints: Endpoints, access_key_id: str, secret_access_key: str) -> list[str]:
    """``export`` lines that point any AWS SDK or the AWS CLI at the local cloud."""
    values: dict[str, str] = {
        f"AWS_ENDPOINT_URL_{SERVICE_IDS[prefix]}": url
        for prefix, url in sorted(endpoints.aws.items())
        if prefix in SERVICE_IDS
    }
    values |= {
        "AWS_CA_BUNDLE": endpoints.ca_bundle,
        "AWS_REGION": endpoints.region,
        "AWS_DEFAULT_REGION": endpoints.region,
        "AWS_ACCESS_KEY_ID": access_key_id,
        "AWS_SECRET_ACCESS_KEY": secret_access_key,
    }
    for name, service in sorted(endpoints.services.items()):
        prefix = "OVERCAST_" + name.upper().replace("-", "_")
        if service.api:
            values[f"{prefix}_API_URL"] = service.api
        for pool_name, pool in sorted(service.user_pools.items()):
            pool_prefix = f"{prefix}_{pool_name.upper().replace('-', '_')}"
            values[f"{pool_prefix}_POOL_ID"] = pool.id
            for client, client_id in sorted(pool.clients.items()):
                values[f"{pool_prefix}_{client.upper().replace('-', '_')}_CLIENT_ID"] = client_id
        for pool_name, identities in sorted(service.identity_pools.items()):
            values[f"{prefix}_{_variable(pool_name)}_IDENTITY_POOL_ID"] = identities.id
        for bucket, bucket_name in sorted(service.buckets.items()):
            values[f"{prefix}_{_variable(bucket)}_BUCKET"] = bucket_name
        for name, distribution in sorted(service.distributions.items()):
            values[f"{prefix}_{_variable(name)}_CDN_URL"] = distribution.url
            values[f"{prefix}_{_variable(name)}_DISTRIBUTION_ID"] = distribution.id
    return [f"export {name}={_quote(value)}" for name, value in values.items()]


def _variable(name: str) -> str:
    return name.upper().replace("-", "_")


def _quote(value: str) -> str:
    if value and all(char.isalnum() or char in "-_./:@+=," for char in value):
        return value
    return "'" + value.replace("'", "'\\''") + "'"
