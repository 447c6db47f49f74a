"""The AWS APIs of the local cloud, composed: user pools, identity pools, STS, IAM, S3,
CloudFront's invalidations, SQS and SNS.

:class:`AwsServices` builds every backend once (its files under the data directory),
registers each service's declared pools and buckets, and serves all of them through
one :class:`~overcast.local.aws_endpoint.AwsEndpoint`. Identity pools' roles get the
policies their declarations imply (``overcast.policies``), which the S3 endpoint
enforces on every request.

Origin access control: the local CDN edge signs its bucket requests with
:attr:`AwsServices.cdn_credentials`, a long-term key of CloudFront's service principal
(``cloudfront.amazonaws.com``, no policies of its own) kept in
``<data dir>/cloudfront/credentials.json``. Each bucket that is a distribution's
:class:`~overcast.spec.BucketOrigin` gets the bucket policy CloudFront documents for
OAC (``policies.oac_bucket_policy``), so the edge reads it for its own distributions
and nobody else reads it anonymously.

DynamoDB's API serves the services' declared tables (``<service>-<table>``), on the very
SQLite files their functions open (:mod:`overcast.local.dynamodb.tables`): an item put
with boto3 is the functions' data, and its change lands in the table's stream. With
``dynamodb_endpoint`` (the tables live in another DynamoDB endpoint) it refuses every
call, pointing at that endpoint.

SQS and SNS serve the local cloud's one messaging file (``runtime.adapters.messaging_path``
under the data directory), which the cloud fills with every service's declared queues,
topics and subscriptions and every function process opens too: a message sent with
boto3 is the message a function receives, and the reverse.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from overcast import policies, spec
from overcast.local.auth.request_signer import RequestSigner
from overcast.local.auth.sigv4 import Credentials
from overcast.local.aws_endpoint import AwsEndpoint
from overcast.local.cdn.model import SOURCE_ARN_HEADER
from overcast.local.cloudfront.app import CloudFrontApi
from overcast.local.cloudfront.directory import DistributionDirectory
from overcast.local.cloudfront.ids import distribution_arn, distribution_id
from overcast.local.cloudfront.operations import CloudFrontOperations
from overcast.local.cloudfront.store import InvalidationStore
from overcast.local.credentials import load_or_create_root_credentials
from overcast.local.dynamodb.app import DynamoDbApi
from overcast.local.dynamodb.operations import DynamoDbOperations
from overcast.local.dynamodb.tables import DeclaredTables
from overcast.local.federation.provider import (
    Federation,
    RegisteredIdentityPool,
    authenticated_role_name,
)
from overcast.local.iam.evaluation import PolicyEvaluator
from overcast.local.iam.policy import Policy
from overcast.local.iam.principal_matching import service_principal
from overcast.local.iam.principals import Session
from overcast.local.iam.roles import MAX_SESSION_SECONDS_LIMIT, Role, Roles, role_arn
from overcast.local.iam.sessions import SessionStore
from overcast.local.identity.provider import IdentityProvider, RegisteredPool
from overcast.local.s3.app import S3Endpoint
from overcast.local.s3.auth import S3Authenticator
from overcast.local.s3.cors_config import FileCorsConfigurations, configure_declared
from overcast.local.sns.app import SnsApi
from overcast.local.sns.operations import SnsOperations
from overcast.local.sqs.app import SqsApi
from overcast.local.sqs.inventory import MessagingInventory
from overcast.local.sqs.operations import SqsOperations
from overcast.ports.mail import Mailer
from overcast.ports.objects.filesystem import FilesystemBuckets
from overcast.ports.queues.sqlite import SqliteMessaging
from overcast.runtime.adapters import messaging_path
from overcast.runtime.config import resource_variable

# A function's session lasts as long as IAM lets a role session last (12 hours);
# each start of the local cloud issues new ones.
FUNCTION_SESSION_SECONDS = MAX_SESSION_SECONDS_LIMIT


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
    # Tables kept in another DynamoDB endpoint: the local DynamoDB API then refuses calls.
    dynamodb_endpoint: str | None = None
    endpoint: AwsEndpoint = field(init=False)
    # Physical names are global (S3 bucket names, IAM role names) and built as
    # "<service>-<name>": "todo-x" + "files" and "todo" + "x-files" would share one.
    _owners: dict[str, str] = field(init=False, default_factory=dict)
    # Bucket policies by S3 bucket name (origin access control for distributions).
    _bucket_policies: dict[str, tuple[Policy, ...]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
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
        # Admin operations on user pools accept any session's signature (root's, a
        # function role's) and are authorized by its IAM policies.
        self.identity = IdentityProvider(
            self.data_dir / "identity" / "userpools.sqlite3",
            self.mailer,
            public_base_url=self.public_url,
            region=self.region,
            root_credentials=self.root,
            clock=self.clock,
            account_id=self.account_id,
            sessions=self.sessions.lookup,
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
        self.cors = FileCorsConfigurations(lambda name: self.buckets.root / name)
        self._cdn = Session(
            load_or_create_root_credentials(self.data_dir / "cloudfront"),
            service_principal(policies.CLOUDFRONT_SERVICE),
        )
        s3 = S3Endpoint(
            self.buckets,
            S3Authenticator(self._s3_session, region=self.region, clock=self.clock),
            evaluator,
            bucket_policies=lambda bucket: self._bucket_policies.get(bucket, ()),
            source_arn_header=SOURCE_ARN_HEADER,
            account_id=self.account_id,
            region=self.region,
            clock=self.clock,
            uploads_root=self.data_dir / "s3" / "uploads",
            cors=self.cors,
        )
        s3.recover()
        self.distributions = DistributionDirectory()
        self._invalidations = InvalidationStore(
            self.data_dir / "cloudfront" / "invalidations.sqlite3"
        )
        self.cloudfront = operations = CloudFrontOperations(
            self.distributions,
            self._invalidations,
            evaluator,
            account_id=self.account_id,
            clock=self.clock,
        )
        self.endpoint = AwsEndpoint(
            cloudfront=CloudFrontApi(
                operations, self.sessions.lookup, region=self.region, clock=self.clock
            ),
            cognito_idp=self.identity.asgi_app,
            cognito_identity=self.federation.cognito_identity_app,
            sts=self.federation.sts_app,
            s3=s3,
        )
        self._serve_messaging(evaluator)
        self._serve_tables(evaluator)

    def _serve_tables(self, evaluator: PolicyEvaluator) -> None:
        """DynamoDB's API on the declared tables' SQLite files (:attr:`tables`)."""
        self.tables = DeclaredTables(
            self.data_dir,
            region=self.region,
            account_id=self.account_id,
            remote_endpoint=self.dynamodb_endpoint,
        )
        signer = RequestSigner(
            self.sessions.lookup, service="dynamodb", region=self.region, clock=self.clock
        )
        self.endpoint.dynamodb = DynamoDbApi(DynamoDbOperations(self.tables, evaluator), signer)

    def _serve_messaging(self, evaluator: PolicyEvaluator) -> None:
        """SQS and SNS on the cloud's messaging file (:attr:`messaging`)."""
        self.messaging = SqliteMessaging(
            messaging_path(self.data_dir),
            self._epoch,
            region=self.region,
            account_id=self.account_id,
        )
        inventory = MessagingInventory(self.messaging.sqlite)
        sqs = SqsOperations(
            self.messaging, inventory, evaluator, endpoint=self.public_url, clock=self._epoch
        )
        sns = SnsOperations(self.messaging, inventory, evaluator)
        lookup, clock = self.sessions.lookup, self.clock
        self.endpoint.sqs = SqsApi(
            sqs, RequestSigner(lookup, service="sqs", region=self.region, clock=clock)
        )
        self.endpoint.sns = SnsApi(
            sns, RequestSigner(lookup, service="sns", region=self.region, clock=clock)
        )

    def _epoch(self) -> float:
        return self.clock().timestamp()

    @property
    def cdn_credentials(self) -> Credentials:
        """The key the CDN edge signs its bucket requests with, as CloudFront's service
        principal (origin access control)."""
        return self._cdn.credentials

    def _s3_session(self, access_key_id: str) -> Session | None:
        if access_key_id == self._cdn.credentials.access_key_id:
            return self._cdn
        return self.sessions.lookup(access_key_id)

    def register(self, service: spec.Service) -> ServiceResources:
        """Create (first time) or find again the service's pools and buckets; serve its
        tables through DynamoDB's API."""
        for table in service.tables:  # a table's name is global, as DynamoDB's are
            self._claim(f"DynamoDB table '{service.name}-{table.name}'", service, table.name)
        self.tables.declare(service)
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
        for bucket in service.buckets:
            configure_declared(self.cors, buckets[bucket.name], bucket.cors)
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
        self._register_distributions(service, buckets)
        return ServiceResources(user_pools, identity_pools, buckets)

    def _register_distributions(self, service: spec.Service, buckets: Mapping[str, str]) -> None:
        """Declare each distribution to the CloudFront API; give each bucket origin the
        OAC bucket policy naming the distributions that read it."""
        readers: dict[str, list[str]] = {}
        for distribution in service.distributions:
            ident = distribution_id(service.name, distribution.name)
            self.distributions.declare(ident, distribution)
            for origin in distribution.origins:
                if isinstance(origin, spec.BucketOrigin):
                    arn = distribution_arn(self.account_id, ident)
                    readers.setdefault(buckets[origin.bucket.name], []).append(arn)
        for bucket, arns in readers.items():
            self._bucket_policies[bucket] = (
                Policy.parse(policies.oac_bucket_policy(bucket, arns)),
            )

    def function_variables(
        self,
        service: spec.Service,
        function: spec.Function,
        resources: ServiceResources,
        api_url: str | None = None,
    ) -> dict[str, str]:
        """What Lambda and the deployer give ``function`` beyond its resource names.

        Its role's credentials (as Lambda passes ``AWS_ACCESS_KEY_ID``,
        ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN``): the role
        ``<service>-<function>-function`` gets the policies its declarations imply
        (``policies.function_policy``) and a session is issued at each start of the
        local cloud, for :data:`FUNCTION_SESSION_SECONDS`. Also each declared user
        pool's app client ids (``OVERCAST_RESOURCE_USER_POOL_CLIENT_<POOL>_<CLIENT>``)
        and, for a service with an API, its base URL (``OVERCAST_RESOURCE_API_<SERVICE>``).
        """
        role = self._function_role(service, function, resources)
        session = self.sessions.issue(
            role,
            session_name=f"{service.name}-{function.name}",
            context={},
            duration_seconds=FUNCTION_SESSION_SECONDS,
        )
        credentials = session.credentials
        variables = {
            "AWS_ACCESS_KEY_ID": credentials.access_key_id,
            "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key,
            "AWS_SESSION_TOKEN": credentials.session_token or "",
        }
        for pool in function.user_pools:
            for client, client_id in resources.user_pools[pool.name].client_ids.items():
                variables[resource_variable("USER_POOL_CLIENT", f"{pool.name}-{client}")] = (
                    client_id
                )
        if api_url is not None:
            variables[resource_variable("API", service.name)] = api_url
        return variables

    def _function_role(
        self, service: spec.Service, function: spec.Function, resources: ServiceResources
    ) -> Role:
        name = f"{service.name}-{function.name}-function"
        self._claim(f"IAM role {name!r}", service, f"function {function.name}")
        document = policies.function_policy(
            table_arns=[
                f"arn:aws:dynamodb:{self.region}:{self.account_id}:table/{service.name}-{t.name}"
                for t in function.tables
            ],
            bucket_names=[resources.buckets[bucket.name] for bucket in function.buckets],
            user_pool_arns=[resources.user_pools[pool.name].arn for pool in function.user_pools],
            distribution_arns=[
                distribution_arn(self.account_id, distribution_id(service.name, d.name))
                for d in function.distributions
            ],
        )
        role = Role(
            name=name,
            arn=role_arn(self.account_id, name),
            policies=(Policy.parse(document),) if document["Statement"] else (),
            trust_policy=Policy.parse(policies.lambda_trust_policy()),
            max_session_seconds=FUNCTION_SESSION_SECONDS,
        )
        self.roles.add(role)
        return role

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
        self._invalidations.close()
        self.messaging.sqlite.close()
        self.tables.close()
