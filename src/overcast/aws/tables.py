"""DynamoDB tables from :class:`overcast.spec.Table` declarations.

- On-demand capacity: nothing is paid at rest but storage.
- Global secondary indexes project ALL attributes, as the local table's indexes do.
- Point-in-time recovery on, encryption at rest with DynamoDB's own key (its default,
  free); the table is kept when its stack is deleted (data is never deleted by a deploy).
- A declared ``stream=`` is the table's DynamoDB stream, with that ``StreamViewType``
  (its triggers are :mod:`overcast.aws.triggers`).
- ``TableV2`` (``AWS::DynamoDB::GlobalTable``), so that declared replica regions
  (``spec.Table.replica_regions``) are more entries of its ``Replicas``, added or
  removed in place, without replacing the table (global tables version 2019.11.21).

Replicas and region-agnostic stacks: Overcast's stacks name no region (``cdk deploy``
deploys them in the caller's), and CDK's ``TableV2(replicas=...)`` refuses such a stack
("Replica tables are not supported in a region agnostic stack") because a global table
has one replica per region and CloudFormation fails on a replica in the stack's own
region. So each declared region is added to ``Replicas`` under a CloudFormation
condition, ``AWS::Region != <region>``: deployed in us-east-1, a table declaring
``("eu-west-1",)`` has replicas in us-east-1 and eu-west-1; deployed in eu-west-1 it has
one (the declared replica is the table itself). The deploy region stays a deploy-time
choice, and the template one for every region. Each replica is configured as the
stack's own (point-in-time recovery, the stack's tags). The stream every global table
needs is the declared one (``spec.Table`` requires ``NEW_AND_OLD_IMAGES``); stream
triggers read the stack region's replica.

A function that declares a table gets exactly the actions the DynamoDB adapter calls
(:data:`TABLE_ACTIONS`) on that table and its declared indexes, nothing else.

A declared read cache (``spec.ReadCache``) is DAX on AWS: :mod:`overcast.aws.dax` deploys
a cluster per read-cached table (its parameter group holding the declared TTLs) in a VPC
with gateway endpoints for DynamoDB and S3, places the functions that declare the table
in that VPC, and gives each the cluster's endpoint as ``OVERCAST_RESOURCE_DAX_<TABLE>``,
whereupon ``overcast.runtime.adapters`` uses the DAX client (``amazon-dax-client``, which
their bundle then holds). Such a function keeps its DynamoDB grants.

Extension point: :func:`undeployed_features` names what a table declares that the AWS
deployment does not create, so that ``overcast synth`` says so instead of ignoring the
declaration; every table feature is deployed today.
"""

from __future__ import annotations

from typing import Any

import jsii
from aws_cdk import Aws, CfnCondition, Fn, IResolvable, IResolveContext, RemovalPolicy, TagManager
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from overcast import spec
from overcast.aws.naming import construct_id

# What overcast.ports.tables.dynamodb calls: one action per primitive.
TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
)

_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER}


def deploy_table(scope: Construct, declaration: spec.Table) -> dynamodb.TableV2:
    """The DynamoDB table of a declaration, with its replicas in the declared regions."""
    table = dynamodb.TableV2(
        scope,
        construct_id("Table", declaration.name),
        partition_key=_attribute(declaration.partition_key),
        sort_key=_attribute(declaration.sort_key) if declaration.sort_key else None,
        billing=dynamodb.Billing.on_demand(),
        global_secondary_indexes=[_index(index) for index in declaration.indexes],
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        dynamo_stream=_stream_view(declaration),
        removal_policy=RemovalPolicy.RETAIN,
    )
    _add_replicas(table, declaration.replica_regions)
    return table


def _add_replicas(table: dynamodb.TableV2, regions: tuple[str, ...]) -> None:
    """Each region's replica, unless the stack is deployed in it (see the module docstring)."""
    resource = table.node.default_child
    assert isinstance(resource, dynamodb.CfnGlobalTable)
    # CDK renders the stack's own replica first (Replicas.0); the declared ones follow.
    for position, region in enumerate(regions, start=1):
        elsewhere = CfnCondition(
            table,
            construct_id("ReplicaIn", region),
            expression=Fn.condition_not(Fn.condition_equals(Aws.REGION, region)),
        )
        replica = {
            "Region": region,
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "Tags": _Tags(table),
        }
        resource.add_property_override(
            f"Replicas.{position}",
            Fn.condition_if(elsewhere.logical_id, replica, Aws.NO_VALUE),
        )


@jsii.implements(IResolvable)
class _Tags:
    """The table's tags (the stack's, by CDK's tag aspect), once synthesis applied them."""

    creation_stack: list[str] = []

    def __init__(self, table: dynamodb.TableV2) -> None:
        self._table = table

    def resolve(self, context: IResolveContext) -> Any:
        # TableV2 renders its tags as CfnTag properties ({key, value}); an override is
        # CloudFormation itself ({Key, Value}).
        manager = TagManager.of(self._table)
        tags = (manager.render_tags() if manager else None) or []
        return [{"Key": tag["key"], "Value": tag["value"]} for tag in tags] or None

    def to_string(self) -> str:
        return "<the table's tags>"


def grant_table(role: iam.IRole, table: dynamodb.TableV2, declaration: spec.Table) -> None:
    """Let ``role`` read and write the items of ``table`` and query its declared indexes."""
    indexes = [f"{table.table_arn}/index/{index.name}" for index in declaration.indexes]
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=list(TABLE_ACTIONS), resources=[table.table_arn, *indexes])
    )


def undeployed_features(declaration: spec.Table) -> list[str]:
    """What the declaration asks for that the AWS deployment does not create: nothing
    today (a read cache is DAX, :mod:`overcast.aws.dax`)."""
    del declaration
    return []


def _stream_view(declaration: spec.Table) -> dynamodb.StreamViewType | None:
    # DynamoDB Streams: StreamViewType is what each record carries (the declared view).
    return dynamodb.StreamViewType[declaration.stream] if declaration.stream else None


def _attribute(key: spec.Key) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_TYPES[key.type])


def _index(index: spec.Index) -> dynamodb.GlobalSecondaryIndexPropsV2:
    return dynamodb.GlobalSecondaryIndexPropsV2(
        index_name=index.name,
        partition_key=_attribute(index.partition_key),
        sort_key=_attribute(index.sort_key) if index.sort_key else None,
        projection_type=dynamodb.ProjectionType.ALL,
    )
