"""DAX clusters from declared read caches (``spec.Table.read_cache``), and their network.

A service whose tables declare a read cache gets, once:

- a VPC over 2 Availability Zones with isolated private subnets only: no NAT gateway, no
  internet gateway, nothing reaches the internet from it;
- gateway endpoints for DynamoDB and S3 (free), so the functions reach their tables and
  buckets. The DAX client sends every data call to the cluster (``amazondax`` has no
  DynamoDB fallback; DAX calls DynamoDB with its own role), but a function keeps its
  DynamoDB grants, so its role serves it whether or not it is given the cluster (the
  runtime then calls DynamoDB directly);
- an interface endpoint, with private DNS, for every other AWS API the functions in the
  VPC declare they call (:func:`interface_endpoints`): the same hostnames then resolve
  inside the VPC. A function in a VPC with no route to an API it calls would hang until
  its timeout on AWS, so a use that no endpoint can serve (a CloudFront invalidation,
  another service's public API) is refused at synthesis (:func:`check_routes`);
- flow logs of the VPC's rejected and accepted traffic, kept :data:`LOG_RETENTION`;
- a security group for the functions, and one for DAX that admits TCP :data:`DAX_TLS_PORT`
  from the functions' group only. DAX API reference, ``Endpoint``: "The default ports are
  8111 for the "dax" protocol and 9111 for the "daxs" protocol"; with encryption in
  transit the cluster serves ``daxs`` only ("Clusters that use encryption in transit do
  not support unencrypted traffic", DAX encryption in transit), so 8111 stays closed;
- a DAX subnet group over the isolated subnets.

And per read-cached table: a parameter group holding the declared TTLs
(``record-ttl-millis`` = ``item_ttl_seconds``, ``query-ttl-millis`` =
``query_ttl_seconds``), a role DAX assumes (``dax.amazonaws.com``) that may make exactly
the table calls the DAX client forwards (:data:`CLUSTER_TABLE_ACTIONS`) on that table
and its indexes, and the cluster itself: :data:`NODE_TYPE`, encryption at rest (SSE) and
in transit (``ClusterEndpointEncryptionType: TLS``).

Each function that declares the table runs in the VPC (isolated subnets, the functions'
security group), is given the cluster's discovery URL (``daxs://...``) as
``OVERCAST_RESOURCE_DAX_<TABLE>``, whereupon ``overcast.runtime.adapters`` reads and writes
through the DAX client, and may call the cluster's data-plane actions
(:data:`FUNCTION_DAX_ACTIONS`) on it. Its bundle holds the DAX client
(:mod:`overcast.aws.bundling`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from aws_cdk import aws_dax as dax
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from overcast import spec
from overcast.aws.naming import construct_id
from overcast.aws.tables import TABLE_ACTIONS

LOG_RETENTION = logs.RetentionDays.ONE_MONTH
NODE_TYPE = "dax.t3.small"
# One node: the cheapest cluster. AWS recommends at least 3 nodes, in different
# Availability Zones, for production (a node failure then loses no cache and no reads).
REPLICATION_FACTOR = 1
DAX_TLS_PORT = 9111
# What a function may ask the cluster: the DAX data plane calls of the table adapter,
# and ConditionCheckItem, which the DAX client sends for conditions in transactions.
FUNCTION_DAX_ACTIONS = (
    "dax:GetItem",
    "dax:BatchGetItem",
    "dax:Query",
    "dax:PutItem",
    "dax:UpdateItem",
    "dax:DeleteItem",
    "dax:ConditionCheckItem",
)
# What DAX calls on DynamoDB for those: the same operations, and DescribeTable, which
# DAX needs to learn the table's key schema before it caches an item.
CLUSTER_TABLE_ACTIONS = (*TABLE_ACTIONS, "dynamodb:DescribeTable")


def cached_tables(function: spec.Function) -> list[spec.Table]:
    """The tables ``function`` declares that have a read cache."""
    return [table for table in function.tables if table.read_cache is not None]


def in_vpc(service: spec.Service) -> list[spec.Function]:
    """The functions placed in the read caches' VPC: those that declare a cached table."""
    return [function for function in service.all_functions if cached_tables(function)]


def interface_endpoints(
    functions: Iterable[spec.Function],
) -> dict[str, ec2.InterfaceVpcEndpointAwsService]:
    """The interface endpoints the functions need, by name: one per AWS API they declare
    they call (the APIs :mod:`overcast.aws.functions` grants them), DynamoDB and S3 aside
    (gateway endpoints). Identity pools: Cognito Identity's ``GetId``; user pools: the
    Cognito user pool admin operations; mail: SES v2; topics: SNS; queues: SQS."""
    needed: dict[str, ec2.InterfaceVpcEndpointAwsService] = {}
    for function in functions:
        if function.identity_pools:
            needed["CognitoIdentity"] = ec2.InterfaceVpcEndpointAwsService.COGNITO_IDENTITY
        if function.user_pools:
            needed["CognitoIdp"] = ec2.InterfaceVpcEndpointAwsService.COGNITO_IDP
        if function.mail is not None:
            needed["Email"] = ec2.InterfaceVpcEndpointAwsService.EMAIL
        if function.topics:
            needed["Sns"] = ec2.InterfaceVpcEndpointAwsService.SNS
        if function.queues:
            needed["Sqs"] = ec2.InterfaceVpcEndpointAwsService.SQS
    return dict(sorted(needed.items()))


def check_routes(functions: Iterable[spec.Function]) -> None:
    """Refuse a function in the VPC that declares a call no VPC endpoint can carry."""
    for function in functions:
        unreachable = [f"CloudFront (distribution {d.name!r})" for d in function.distributions]
        unreachable += [f"the public API of service {called!r}" for called in function.calls]
        if unreachable:
            raise spec.DeclarationError(
                f"Function {function.name!r} declares a table with a read cache, so on AWS it "
                "runs in the DAX cluster's VPC, which has no route to the internet; it could "
                f"not reach {', '.join(unreachable)} (no VPC endpoint serves it) and would "
                "time out. Move that work to a function without the cached table."
            )


class ReadCaches(Construct):
    """A service's DAX clusters (one per read-cached table), their VPC and its endpoints."""

    def __init__(
        self,
        scope: Construct,
        service: spec.Service,
        tables: Mapping[str, dynamodb.TableV2],
    ) -> None:
        super().__init__(scope, "ReadCaches")
        functions = in_vpc(service)
        check_routes(functions)
        self.vpc = _vpc(self)
        self.function_security_group = ec2.SecurityGroup(
            self, "FunctionSecurityGroup", vpc=self.vpc, description="Functions using DAX"
        )
        for name, endpoint in interface_endpoints(functions).items():
            # open=False: only the functions' group may reach the endpoint (HTTPS).
            self.vpc.add_interface_endpoint(
                f"{name}Endpoint",
                service=endpoint,
                private_dns_enabled=True,
                subnets=self.subnets,
                open=False,
            ).connections.allow_default_port_from(self.function_security_group)
        self.cluster_security_group = ec2.SecurityGroup(
            self, "ClusterSecurityGroup", vpc=self.vpc, description="DAX clusters"
        )
        self.cluster_security_group.add_ingress_rule(
            self.function_security_group,
            ec2.Port.tcp(DAX_TLS_PORT),
            "DAX over TLS (daxs) from the functions that declare the table",
        )
        self._subnet_group = dax.CfnSubnetGroup(
            self,
            "SubnetGroup",
            description=f"DAX subnets of service {service.name}",
            subnet_ids=self.vpc.select_subnets(
                subnet_type=ec2.SubnetType.PRIVATE_ISOLATED
            ).subnet_ids,
        )
        self.clusters = {
            table.name: self._cluster(table, tables[table.name])
            for table in service.tables
            if table.read_cache is not None
        }

    @property
    def subnets(self) -> ec2.SubnetSelection:
        """Where the clusters and their functions run: the isolated subnets."""
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)

    def endpoint_url(self, table: spec.Table) -> str:
        """The table's cluster discovery URL (``daxs://<name>.<id>.dax-clusters...:9111``)."""
        return self.clusters[table.name].attr_cluster_discovery_endpoint_url

    def grant(self, role: iam.IRole, table: spec.Table) -> None:
        """Let ``role`` use the table's cluster (:data:`FUNCTION_DAX_ACTIONS`)."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(FUNCTION_DAX_ACTIONS),
                resources=[self.clusters[table.name].attr_arn],
            )
        )

    def _cluster(self, table: spec.Table, deployed: dynamodb.TableV2) -> dax.CfnCluster:
        assert table.read_cache is not None
        scope = Construct(self, construct_id("Cluster", table.name))
        role = iam.Role(
            scope,
            "Role",
            assumed_by=iam.ServicePrincipal("dax.amazonaws.com"),
            description=f"DAX cluster of table {table.name}",
        )
        indexes = [f"{deployed.table_arn}/index/{index.name}" for index in table.indexes]
        policy = iam.Policy(
            scope,
            "TableAccess",
            statements=[
                iam.PolicyStatement(
                    actions=list(CLUSTER_TABLE_ACTIONS),
                    resources=[deployed.table_arn, *indexes],
                )
            ],
        )
        policy.attach_to_role(role)
        cluster = dax.CfnCluster(
            scope,
            "Cluster",
            description=f"Read cache of table {table.name}",
            iam_role_arn=role.role_arn,
            node_type=NODE_TYPE,
            replication_factor=REPLICATION_FACTOR,
            subnet_group_name=self._subnet_group.ref,
            parameter_group_name=_parameter_group(scope, table.read_cache).ref,
            security_group_ids=[self.cluster_security_group.security_group_id],
            sse_specification=dax.CfnCluster.SSESpecificationProperty(sse_enabled=True),
            cluster_endpoint_encryption_type="TLS",
        )
        # DAX checks at creation that its role may reach the table.
        cluster.node.add_dependency(policy)
        return cluster


def _vpc(scope: Construct) -> ec2.Vpc:
    vpc = ec2.Vpc(
        scope,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(
                name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
            )
        ],
        gateway_endpoints={
            "DynamoDb": ec2.GatewayVpcEndpointOptions(
                service=ec2.GatewayVpcEndpointAwsService.DYNAMODB
            ),
            "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
        },
    )
    # cdk-nag VPC7: flow logs, to see what the cluster and functions were refused.
    vpc.add_flow_log(
        "FlowLogs",
        destination=ec2.FlowLogDestination.to_cloud_watch_logs(
            logs.LogGroup(scope, "FlowLogGroup", retention=LOG_RETENTION)
        ),
    )
    return vpc


def _parameter_group(scope: Construct, cache: spec.ReadCache) -> dax.CfnParameterGroup:
    # DAX parameters: record-ttl-millis (item cache TTL), query-ttl-millis (query cache TTL).
    return dax.CfnParameterGroup(
        scope,
        "Parameters",
        description="TTLs of the declared read cache",
        parameter_name_values={
            "record-ttl-millis": str(round(cache.item_ttl_seconds * 1000)),
            "query-ttl-millis": str(round(cache.query_ttl_seconds * 1000)),
        },
    )
