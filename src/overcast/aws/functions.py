"""Lambda functions from :class:`overcast.spec.Function` declarations.

Each function gets:

- the service's bundle (:mod:`overcast.aws.bundling`) on the Python runtime and
  architecture it was built for, with the declared timeout and memory;
- its environment, as the local cloud gives it (``overcast.local.cloud``):
  ``OVERCAST_BACKEND=aws``, ``OVERCAST_SERVICE`` and, for each resource it declares,
  ``OVERCAST_RESOURCE_<KIND>_<NAME>`` = the physical name (table name, bucket name,
  user pool id, identity pool id); for each declared user pool, its app clients' ids
  (``OVERCAST_RESOURCE_USER_POOL_CLIENT_<POOL>_<CLIENT>``); and, in a service with an
  API, the API's URL (``OVERCAST_RESOURCE_API_<SERVICE>``, added by the stack once the
  API exists); for each distribution it declares, the distribution's id
  (``OVERCAST_RESOURCE_DISTRIBUTION_<NAME>``, added with the grant below by
  :func:`allow_invalidation` once the distributions exist); for a declared mail
  identity, the identity (``OVERCAST_RESOURCE_MAIL_IDENTITY``: the domain or address it
  may send from); for each service it calls, that service's API URL
  (``OVERCAST_RESOURCE_API_<SERVICE>``, :mod:`overcast.aws.service_calls`: no permission
  comes with it). Lambda sets ``AWS_REGION`` itself;
- a role of its own that may write its own log group and use what it declares, and
  nothing else: tables (see :data:`overcast.aws.tables.TABLE_ACTIONS`), buckets (see
  :data:`overcast.aws.buckets.OBJECT_ACTIONS`), user pools (their admin operations,
  ``cognito-idp:Admin*`` on the pool, as ``overcast.policies.function_policy`` grants
  locally), distributions (``cloudfront:CreateInvalidation`` on the distribution's ARN,
  as ``function_policy`` grants locally), a mail identity (``ses:SendEmail`` and
  ``ses:SendRawEmail`` on that identity, :mod:`overcast.aws.mail`). Identity pools
  need no permission: the
  identity directory calls Cognito Identity's ``GetId``, which is unsigned;
- a log group kept for :data:`LOG_RETENTION`;
- for each declared table with a read cache (:mod:`overcast.aws.dax`): a place in the
  DAX cluster's VPC (its isolated subnets and the functions' security group, with AWS's
  :data:`VPC_ACCESS_POLICY` so that Lambda can create the function's network
  interfaces), the cluster's URL as ``OVERCAST_RESOURCE_DAX_<TABLE>``, and its DAX data
  actions on that cluster (:data:`overcast.aws.dax.FUNCTION_DAX_ACTIONS`).

Event sources (stream and object-created triggers, :mod:`overcast.aws.triggers`)
attach to ``DeployedFunction.function``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_cdk import Duration
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ses as ses
from constructs import Construct

from overcast import spec
from overcast.aws import nag
from overcast.aws.buckets import grant_bucket
from overcast.aws.bundling import lambda_handler
from overcast.aws.dax import ReadCaches, cached_tables
from overcast.aws.identity import DeployedIdentityPool, DeployedUserPool
from overcast.aws.mail import MAIL_IDENTITY, grant_sending
from overcast.aws.naming import construct_id
from overcast.aws.tables import grant_table
from overcast.aws.wheels import LambdaPlatform
from overcast.runtime.config import BACKEND, SERVICE, resource_variable

# What overcast.policies.function_policy grants a function on a user pool it declares.
USER_POOL_ACTIONS = "cognito-idp:Admin*"
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
# AWS's policy for a function in a VPC (ec2:CreateNetworkInterface and the like).
VPC_ACCESS_POLICY = "service-role/AWSLambdaVPCAccessExecutionRole"
_ARCHITECTURES = {"x86_64": lambda_.Architecture.X86_64, "arm64": lambda_.Architecture.ARM_64}


@dataclass
class ServiceResources:
    """A service's deployed resources, by declared name."""

    tables: dict[str, dynamodb.TableV2] = field(default_factory=dict)
    buckets: dict[str, s3.Bucket] = field(default_factory=dict)
    user_pools: dict[str, DeployedUserPool] = field(default_factory=dict)
    identity_pools: dict[str, DeployedIdentityPool] = field(default_factory=dict)
    mail_identities: dict[str, ses.EmailIdentity] = field(default_factory=dict)  # by identity
    # The APIs of the services the functions call: service -> URL, read at deploy time.
    called_apis: dict[str, str] = field(default_factory=dict)
    # The DAX clusters of the read-cached tables, and their VPC (None: no read cache).
    read_caches: ReadCaches | None = None


class DeployedFunction(Construct):
    """A function, its role and its log group."""

    def __init__(
        self,
        scope: Construct,
        declaration: spec.Function,
        *,
        service: str,
        code: lambda_.Code,
        platform: LambdaPlatform,
        resources: ServiceResources,
    ) -> None:
        super().__init__(scope, construct_id("Function", declaration.name))
        self.log_group = logs.LogGroup(self, "Logs", retention=LOG_RETENTION)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Function {declaration.name} of service {service}",
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        network = resources.read_caches if cached_tables(declaration) else None
        self.function = lambda_.Function(
            self,
            "Function",
            description=f"{service}: {declaration.name} ({declaration.handler})",
            runtime=lambda_.Runtime(
                f"python{platform.python_version}", lambda_.RuntimeFamily.PYTHON
            ),
            architecture=_ARCHITECTURES[platform.architecture],
            handler=lambda_handler(declaration),
            code=code,
            timeout=Duration.seconds(declaration.timeout_seconds),
            memory_size=declaration.memory_mb,
            role=self.role,
            log_group=self.log_group,
            environment=function_environment(declaration, service, resources),
            vpc=network.vpc if network else None,
            vpc_subnets=network.subnets if network else None,
            security_groups=[network.function_security_group] if network else None,
        )
        nag.acknowledge(self.function, nag.BUNDLE_PYTHON)
        if network is not None:
            # Lambda creates the function's network interfaces in the VPC with its role.
            # (CDK attaches this policy only to roles it creates itself.)
            self.role.add_managed_policy(
                iam.ManagedPolicy.from_aws_managed_policy_name(VPC_ACCESS_POLICY)
            )
            nag.acknowledge(self.role, nag.FUNCTION_IN_VPC)
        self._grant(declaration, resources)

    def _grant(self, declaration: spec.Function, resources: ServiceResources) -> None:
        reasons: list[nag.Reason] = []
        for table in declaration.tables:
            grant_table(self.role, resources.tables[table.name], table)
        for table in cached_tables(declaration):
            assert resources.read_caches is not None
            resources.read_caches.grant(self.role, table)
        for bucket in declaration.buckets:
            deployed = resources.buckets[bucket.name]
            grant_bucket(self.role, deployed)
            objects = f"Resource::<{nag.logical_id(deployed)}.Arn>/*"
            reasons.append(nag.FUNCTION_BUCKET_OBJECTS.on(objects))
        for pool in declaration.user_pools:
            deployed_pool = resources.user_pools[pool.name].pool
            self.role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=[USER_POOL_ACTIONS], resources=[deployed_pool.user_pool_arn]
                )
            )
            reasons.append(nag.FUNCTION_USER_POOL_ADMIN.on(f"Action::{USER_POOL_ACTIONS}"))
        if declaration.mail is not None:
            grant_sending(self.role, resources.mail_identities[declaration.mail.identity])
        if reasons:
            nag.acknowledge(self.role, *reasons)


def function_environment(
    declaration: spec.Function, service: str, resources: ServiceResources
) -> dict[str, str]:
    """The function's variables: backend, service, and what it declares (by physical name)."""
    names = {BACKEND: "aws", SERVICE: service}
    for table in declaration.tables:
        names[resource_variable("TABLE", table.name)] = resources.tables[table.name].table_name
    for table in cached_tables(declaration):
        assert resources.read_caches is not None
        names[resource_variable("DAX", table.name)] = resources.read_caches.endpoint_url(table)
    for pool in declaration.user_pools:
        names[resource_variable("USER_POOL", pool.name)] = _pool_id(resources, pool)
        for client_name, client in resources.user_pools[pool.name].clients.items():
            variable = resource_variable("USER_POOL_CLIENT", f"{pool.name}-{client_name}")
            names[variable] = client.user_pool_client_id
    for identities in declaration.identity_pools:
        deployed = resources.identity_pools[identities.name]
        names[resource_variable("IDENTITY_POOL", identities.name)] = deployed.pool.ref
        user_pool = identities.user_pool
        names[resource_variable("USER_POOL", user_pool.name)] = _pool_id(resources, user_pool)
    for bucket in declaration.buckets:
        deployed_bucket = resources.buckets[bucket.name]
        names[resource_variable("BUCKET", bucket.name)] = deployed_bucket.bucket_name
    if declaration.mail is not None:
        names[MAIL_IDENTITY] = declaration.mail.identity
    for called in declaration.calls:
        names[resource_variable("API", called)] = resources.called_apis[called]
    return names


def allow_invalidation(
    function: lambda_.Function,
    declaration: spec.Distribution,
    distribution: cloudfront.IDistribution,
) -> None:
    """Tell ``function`` the distribution's id and let it invalidate that distribution
    (``cloudfront:CreateInvalidation`` on its ARN, nothing else)."""
    variable = resource_variable("DISTRIBUTION", declaration.name)
    function.add_environment(variable, distribution.distribution_id)
    distribution.grant_create_invalidation(function)


def _pool_id(resources: ServiceResources, pool: spec.UserPool) -> str:
    return resources.user_pools[pool.name].pool.user_pool_id
