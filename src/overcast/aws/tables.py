"""DynamoDB tables from :class:`overcast.spec.Table` declarations.

- On-demand capacity: nothing is paid at rest but storage.
- Global secondary indexes project ALL attributes, as the local table's indexes do.
- Point-in-time recovery on, encryption at rest with DynamoDB's own key (its default,
  free); the table is kept when its stack is deleted (data is never deleted by a deploy).
- A declared ``stream=`` is the table's DynamoDB stream, with that ``StreamViewType``
  (its triggers are :mod:`overcast.aws.triggers`).
- ``TableV2`` (``AWS::DynamoDB::GlobalTable``): declared replica regions, when the
  declaration grows them, become its ``replicas`` without replacing the table.

A function that declares a table gets exactly the actions the DynamoDB adapter calls
(:data:`TABLE_ACTIONS`) on that table and its declared indexes, nothing else.

Extension point: a declared read cache (``spec.ReadCache``) is DAX on AWS — a cluster
(its parameter group holding the declared TTLs) in a VPC, the functions in the same
VPC, gateway endpoints for DynamoDB and S3, and each function given the cluster's
endpoint as ``OVERCAST_RESOURCE_DAX_<TABLE>``, whereupon ``overcast.runtime.adapters``
uses the DAX client (``amazon-dax-client``, then needed in the bundle). That deployment
does not exist yet; :func:`undeployed_features` names it so that ``overcast synth``
says so instead of ignoring the declaration.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
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
    """The DynamoDB table of a declaration."""
    return dynamodb.TableV2(
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


def grant_table(role: iam.IRole, table: dynamodb.TableV2, declaration: spec.Table) -> None:
    """Let ``role`` read and write the items of ``table`` and query its declared indexes."""
    indexes = [f"{table.table_arn}/index/{index.name}" for index in declaration.indexes]
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=list(TABLE_ACTIONS), resources=[table.table_arn, *indexes])
    )


def undeployed_features(declaration: spec.Table) -> list[str]:
    """What the declaration asks for that the AWS deployment does not create yet."""
    if declaration.read_cache is None:
        return []
    return [
        f"table {declaration.name!r} declares a read cache (DAX); the AWS deployment does not "
        "create DAX clusters yet, so its functions read DynamoDB directly"
    ]


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
