"""One CloudFormation stack per service and environment, built from its declaration.

The stack holds everything the service declares — tables, user pools, buckets,
identity pools, functions, the API — and outputs what clients need (API URL, pool
and client ids, bucket names), which ``overcast deploy`` prints.

Stream and object-created triggers are deployed by :mod:`overcast.aws.triggers` once
the functions exist. Every function of a service with an API learns the API's URL, as
locally (``OVERCAST_RESOURCE_API_<SERVICE>``), and every function learns the URLs of
the APIs of the services it calls (:mod:`overcast.aws.service_calls`).

An API that declares stages gets, per stage, Lambda aliases and a function for each
stage's own handler code (:mod:`overcast.aws.stages`); those functions learn the API's
URL and invalidate their distributions like the functions they copy.

Distributions (:mod:`overcast.aws.cdn`) come last, as they front the buckets and the
API; then the buckets' declared assets (:mod:`overcast.aws.assets`), which invalidate
the distribution serving them, and each function that declares a distribution learns
its id and may invalidate it. The stack outputs each distribution's domain and id.

The SES identities the functions send mail from are :mod:`overcast.aws.mail`.

Tables that declare a read cache get their DAX clusters, in a VPC of the stack's own,
right after the tables (:mod:`overcast.aws.dax`); the functions that declare such a
table then run in that VPC. The stack outputs each cluster's URL.

Topics, queues, their subscriptions and queue triggers are :mod:`overcast.aws.messaging`
(after the functions, which learn their queues' URLs and topics' ARNs).

Extension points for declarations that do not exist yet: stacks shared by several
services are added by :func:`overcast.aws.app.build_app` next to the service stacks.
(A global table's replicas need none: they are entries of the table's own
``AWS::DynamoDB::GlobalTable``, see :mod:`overcast.aws.tables`.)
"""

from __future__ import annotations

from aws_cdk import Aws, CfnOutput, Stack, Tags
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from overcast import spec
from overcast.aws.api import DeployedApi
from overcast.aws.assets import deploy_assets, serving_distributions
from overcast.aws.buckets import access_log_bucket, cdn_log_bucket, deploy_bucket
from overcast.aws.bundling import Bundle
from overcast.aws.cdn import Cdn
from overcast.aws.dax import ReadCaches
from overcast.aws.functions import (
    LOG_RETENTION,
    DeployedFunction,
    ServiceResources,
    allow_invalidation,
)
from overcast.aws.identity import DeployedIdentityPool, DeployedUserPool
from overcast.aws.mail import deploy_mail_identities
from overcast.aws.messaging import deploy_messaging
from overcast.aws.naming import construct_id, stack_name
from overcast.aws.service_calls import called_api_urls, publish_api_url
from overcast.aws.stages import (
    StageFunctions,
    deploy_stage_functions,
    deploy_time_value_notices,
)
from overcast.aws.tables import deploy_table, undeployed_features
from overcast.aws.triggers import deploy_object_triggers, deploy_stream_trigger
from overcast.runtime.config import resource_variable


class ServiceStack(Stack):
    """A service in an environment. ``notices`` lists declared features not deployed yet."""

    def __init__(
        self,
        scope: Construct,
        service: spec.Service,
        *,
        environment: str,
        bundle: Bundle | None,
    ) -> None:
        name = stack_name(service.name, environment)
        super().__init__(
            scope,
            name,
            stack_name=name,
            description=service.description or f"Overcast service {service.name}",
            analytics_reporting=False,
        )
        Tags.of(self).add("overcast:service", service.name)
        Tags.of(self).add("overcast:environment", environment)
        self.service = service
        self.notices: list[str] = []
        self.resources = ServiceResources()
        self.resources.called_apis = called_api_urls(self, service, environment)
        self._prefix = name
        self._access_logs: s3.Bucket | None = None
        self._stage_functions: StageFunctions | None = None
        self._deploy_data(service)
        self._deploy_identity(service)
        functions = self._deploy_functions(service, bundle)
        self._deploy_triggers(service, functions)
        staged = None
        if service.api is not None:  # before messaging: the stages' copies need it too
            staged = self._deploy_stage_functions(service, functions, bundle)
        deploy_messaging(self, service, functions, staged.own_code if staged else None)
        api = None
        if service.api is not None and staged is not None:
            api = DeployedApi(
                self,
                service.api,
                name=f"{name}-{service.api.name}",
                functions=functions,
                user_pools=self.resources.user_pools,
                stage_functions=staged,
            )
            for function in (*functions.values(), *staged.own_code.values()):
                function.add_environment(resource_variable("API", service.name), api.base_url)
            self._output("ApiUrl", api.url, f"{service.api.name} API: stage URL")
            publish_api_url(self, service, environment, api.base_url)
        self._deploy_cdn(service, functions, api)
        self._output("Region", Aws.REGION, "The region the service runs in")

    def _deploy_data(self, service: spec.Service) -> None:
        self.resources.mail_identities = deploy_mail_identities(self, service.all_functions)
        for table in service.tables:
            deployed = deploy_table(self, table)
            self.resources.tables[table.name] = deployed
            self.notices += undeployed_features(table)
            self._output(
                f"{construct_id('Table', table.name)}Name", deployed.table_name, "table name"
            )
        if any(table.read_cache is not None for table in service.tables):
            read_caches = ReadCaches(self, service, self.resources.tables)
            self.resources.read_caches = read_caches
            for table_name, cluster in read_caches.clusters.items():
                key = construct_id("ReadCache", table_name)
                self._output(f"{key}Url", cluster.attr_cluster_discovery_endpoint_url, "DAX URL")
        if not service.buckets:
            return
        access_logs = self._access_logs = access_log_bucket(self)
        for bucket in service.buckets:
            deployed_bucket = deploy_bucket(self, bucket, access_logs)
            self.resources.buckets[bucket.name] = deployed_bucket
            self._output(
                f"{construct_id('Bucket', bucket.name)}Name",
                deployed_bucket.bucket_name,
                "bucket name",
            )

    def _deploy_identity(self, service: spec.Service) -> None:
        for pool in service.user_pools:
            deployed = DeployedUserPool(self, pool, name=f"{self._prefix}-{pool.name}")
            self.resources.user_pools[pool.name] = deployed
            key = construct_id("UserPool", pool.name)
            self._output(f"{key}Id", deployed.pool.user_pool_id, "user pool id")
            for client_name, client in deployed.clients.items():
                client_key = f"{key}{construct_id('Client', client_name)}Id"
                self._output(client_key, client.user_pool_client_id, "app client id")
        for identities in service.identity_pools:
            folders = [
                self.resources.buckets[bucket.name]
                for bucket in service.buckets
                if bucket.user_folders == identities
            ]
            deployed_pool = DeployedIdentityPool(
                self,
                identities,
                self.resources.user_pools[identities.user_pool.name],
                folders,
                name=f"{self._prefix}-{identities.name}",
            )
            self.resources.identity_pools[identities.name] = deployed_pool
            key = construct_id("IdentityPool", identities.name)
            self._output(f"{key}Id", deployed_pool.pool.ref, "identity pool id")

    def _deploy_functions(
        self, service: spec.Service, bundle: Bundle | None
    ) -> dict[str, lambda_.Function]:
        if not service.all_functions:
            return {}
        if bundle is None:
            raise ValueError(f"Service {service.name!r} has functions but no bundle.")
        code = lambda_.Code.from_asset(str(bundle.directory))
        return {
            function.name: DeployedFunction(
                self,
                function,
                service=service.name,
                code=code,
                platform=bundle.platform,
                resources=self.resources,
            ).function
            for function in service.all_functions
        }

    def _deploy_stage_functions(
        self, service: spec.Service, functions: dict[str, lambda_.Function], bundle: Bundle | None
    ) -> StageFunctions:
        """Each API stage's aliases, and a function per stage's own code (see ``stages``)."""
        assert service.api is not None

        def build(scope: Construct, declaration: spec.Function) -> lambda_.Function:
            assert bundle is not None  # the API's functions were built from it
            return DeployedFunction(
                scope,
                declaration,
                service=service.name,
                code=lambda_.Code.from_asset(str(bundle.directory)),
                platform=bundle.platform,
                resources=self.resources,
            ).function

        self._stage_functions = deploy_stage_functions(self, service.api, functions, build)
        self.notices += deploy_time_value_notices(service.api)
        return self._stage_functions

    def _deploy_triggers(
        self, service: spec.Service, functions: dict[str, lambda_.Function]
    ) -> None:
        for stream in service.stream_triggers:
            table = self.resources.tables[stream.table.name]
            deploy_stream_trigger(self, stream, functions[stream.function.name], table)
        deploy_object_triggers(self, service.object_triggers, functions, self.resources.buckets)

    def _deploy_cdn(
        self,
        service: spec.Service,
        functions: dict[str, lambda_.Function],
        api: DeployedApi | None,
    ) -> None:
        cdn = None
        if service.distributions:
            cdn = Cdn(
                self,
                service,
                buckets=self.resources.buckets,
                api=api,
                log_bucket=cdn_log_bucket(self, self._access_logs),
            )
            for name, distribution in cdn.distributions.items():
                key = construct_id("Distribution", name)
                self._output(f"{key}DomainName", distribution.domain_name, "CDN domain name")
                self._output(f"{key}Id", distribution.distribution_id, "distribution id")
            copies = self._stage_functions.own_code if self._stage_functions else {}
            for function in service.all_functions:
                deployments = [functions[function.name]] + [
                    copy for (_, name), copy in copies.items() if name == function.name
                ]
                for declared in function.distributions:
                    deployed = cdn.distributions[declared.name]
                    for each in deployments:
                        allow_invalidation(each, declared, deployed)
                self._tell_distribution_urls(service, function, deployments, cdn)
        self._deploy_assets(service, cdn)

    @staticmethod
    def _tell_distribution_urls(
        service: spec.Service,
        function: spec.Function,
        deployments: list[lambda_.Function],
        cdn: Cdn,
    ) -> None:
        """``OVERCAST_RESOURCE_DISTRIBUTION_URL_<NAME>`` = ``https://<domain>``, as the local
        cloud passes it (links in emails). Not to functions behind the API: the
        distribution has the API as an origin, so that would be a dependency cycle."""
        if service.api is not None and function in service.api.functions:
            return
        for name, distribution in cdn.distributions.items():
            for each in deployments:
                each.add_environment(
                    resource_variable("DISTRIBUTION_URL", name),
                    f"https://{distribution.domain_name}",
                )

    def _deploy_assets(self, service: spec.Service, cdn: Cdn | None) -> None:
        with_assets = [bucket for bucket in service.buckets if bucket.assets]
        if not with_assets:
            return
        log_group = logs.LogGroup(self, "AssetDeploymentLogs", retention=LOG_RETENTION)
        for bucket in with_assets:
            serving = serving_distributions(service, bucket)
            invalidated = None
            if cdn is not None and len(serving) == 1:
                invalidated = (serving[0], cdn.distributions[serving[0].name])
            elif len(serving) > 1:
                self.notices.append(
                    f"Bucket {bucket.name!r}: deploying its assets invalidates no distribution "
                    f"(it is an origin of {len(serving)}); cached copies expire within minutes."
                )
            deploy_assets(
                self,
                bucket,
                self.resources.buckets[bucket.name],
                log_group=log_group,
                distribution=invalidated,
            )

    def _output(self, key: str, value: str, description: str) -> None:
        CfnOutput(self, key, value=value, description=description)
