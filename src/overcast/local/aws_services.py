"""The AWS APIs of the local cloud, composed: user pools, identity pools, STS, IAM, S3.

:class:`AwsServices` builds every backend once (its files under the data directory),
registers each service's declared pools and buckets, and serves all of them through
one :class:`~overcast.local.aws_endpoint.AwsEndpoint`. Identity pools' roles get the
policies their declarations imply (``overcast.policies``), which the S3 endpoint
enforces on every request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from overcast import policies, spec
from overcast.local.auth.sigv4 import Credentials
from overcast.local.aws_endpoint import AwsEndpoint
from overcast.local.federation.provider import (
    Federation,
    RegisteredIdentityPool,
    authenticated_role_name,
)
from overcast.local.iam.evaluation import PolicyEvaluator
from overcast.local.iam.policy import Policy
from overcast.local.iam.roles import Roles
from overcast.local.iam.sessions import SessionStore
from overcast.local.identity.provider import IdentityProvider, RegisteredPool
from overcast.local.s3.app import S3Endpoint
from overcast.local.s3.auth import S3Authenticator
from overcast.ports.mail import Mailer
from overcast.ports.objects.filesystem import FilesystemBuckets


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ServiceResources:
    """A service's registered pools and buckets, by declared name."""

    user_pools: Mapping[str, RegisteredPool]
    identity_pools: Mapping[str, RegisteredIdentityPool]
    buckets: Mapping[str, str]  # declared name -> S3 bucket name


@dataclass
class AwsServices:
    """Every AWS API the local cloud serves, on files under ``data_dir``."""

    data_dir: Path
    mailer: Mailer
    public_url: str
    root: Credentials
    region: str
    account_id: str
    credential_seconds: int
    clock: Callable[[], datetime] = _utc_now
    endpoint: AwsEndpoint = field(init=False)
    # Physical names are global (S3 bucket names, IAM role names) and built as
    # "<service>-<name>": "todo-x" + "files" and "todo" + "x-files" would share one.
    _owners: dict[str, str] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.identity = IdentityProvider(
            self.data_dir / "identity" / "userpools.sqlite3",
            self.mailer,
            public_base_url=self.public_url,
            region=self.region,
            root_credentials=self.root,
            clock=self.clock,
            account_id=self.account_id,
        )
        self.roles = Roles()
        evaluator = PolicyEvaluator(self.clock)
        (self.data_dir / "iam").mkdir(parents=True, exist_ok=True)
        self.sessions = SessionStore(
            self.data_dir / "iam" / "sessions.sqlite3",
            self.roles,
            root=self.root,
            account_id=self.account_id,
            clock=self.clock,
        )
        self.federation = Federation(
            self.data_dir / "identity" / "identitypools.sqlite3",
            self.sessions,
            self.roles,
            evaluator,
            region=self.region,
            account_id=self.account_id,
            credential_seconds=self.credential_seconds,
            clock=self.clock,
        )
        self.buckets = FilesystemBuckets(self.data_dir / "s3" / "buckets", clock=self.clock)
        self.buckets.recover()
        s3 = S3Endpoint(
            self.buckets,
            S3Authenticator(self.sessions.lookup, region=self.region, clock=self.clock),
            evaluator,
            bucket_policies=lambda bucket: (),
            account_id=self.account_id,
            region=self.region,
            clock=self.clock,
            uploads_root=self.data_dir / "s3" / "uploads",
        )
        s3.recover()
        self.endpoint = AwsEndpoint(
            cognito_idp=self.identity.asgi_app,
            cognito_identity=self.federation.cognito_identity_app,
            sts=self.federation.sts_app,
            s3=s3,
        )

    def register(self, service: spec.Service) -> ServiceResources:
        """Create (first time) or find again the service's pools and buckets."""
        for bucket in service.buckets:
            self._claim(f"bucket {service.bucket_name(bucket)!r}", service, bucket.name)
        for pool in service.identity_pools:
            role = authenticated_role_name(service.name, pool.name)
            self._claim(f"IAM role {role!r}", service, pool.name)
        user_pools = {
            pool.name: self.identity.register(service.name, pool) for pool in service.user_pools
        }
        buckets = {bucket.name: service.bucket_name(bucket) for bucket in service.buckets}
        for name in buckets.values():
            if not self.buckets.exists(name):
                self.buckets.create(name)
        identity_pools = {
            pool.name: self.federation.register(
                service.name,
                pool,
                user_pools[pool.user_pool.name],
                [
                    Policy.parse(policies.user_folder_policy(buckets[bucket.name]))
                    for bucket in service.buckets
                    if bucket.user_folders == pool
                ],
            )
            for pool in service.identity_pools
        }
        return ServiceResources(user_pools, identity_pools, buckets)

    def _claim(self, physical: str, service: spec.Service, name: str) -> None:
        owner = f"{service.name}/{name}"
        if self._owners.setdefault(physical, owner) != owner:
            raise spec.DeclarationError(
                f"Service {service.name!r}: {name!r} would be the {physical}, which "
                f"{self._owners[physical]!r} already is; rename one of them."
            )

    def close(self) -> None:
        self.identity.close()
        self.sessions.close()
        self.federation.close()
