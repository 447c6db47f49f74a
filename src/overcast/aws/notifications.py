"""Bucket notifications to topics and queues (``spec.ObjectCreatedNotification``).

Each declaration becomes an S3 event notification (``s3:ObjectCreated:*``) whose
destination is the topic (``TopicConfiguration``) or the queue
(``QueueConfiguration``), with the declared prefix and suffix as its key filter, set by
CDK's ``BucketNotificationsHandler`` like the function triggers
(:mod:`overcast.aws.triggers`).

S3 must be allowed to deliver ("You must grant Amazon S3 permissions to post messages
to an Amazon SNS topic or an Amazon SQS queue"): CDK's ``SnsDestination`` /
``SqsDestination`` add the topic's / queue's resource policy statement for the
``s3.amazonaws.com`` principal (``sns:Publish``; ``sqs:SendMessage`` and what S3 asks
when it validates the configuration), limited by ``aws:SourceArn`` to the bucket. To
stop a confused deputy (a bucket of the same name in another account after this one
is deleted), a statement of this module's adds ``aws:SourceAccount``: S3 advises both.

Encryption: queues use SSE-SQS, which S3 can send to as it is. A topic S3 publishes to
cannot be encrypted with SNS's AWS-managed key (``alias/aws/sns``), whose key policy
nobody can change to let S3 use it; such a topic gets its own customer managed key
(rotated yearly) whose key policy lets S3, for this account's buckets, use it
(``kms:GenerateDataKey*`` and ``kms:Decrypt``, as SNS's "encrypted topics and event
sources" guidance asks).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from aws_cdk import Aws, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as destinations
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from overcast import spec
from overcast.aws.naming import construct_id
from overcast.aws.triggers import acknowledge_notifications_handler, key_filter

S3 = "s3.amazonaws.com"


def notified_topics(service: spec.Service) -> set[str]:
    """The names of the topics some bucket notification of ``service`` publishes to."""
    return {
        notification.target.name
        for notification in service.object_notifications
        if isinstance(notification.target, spec.Topic)
    }


def topic_key(scope: Construct, construct: str, description: str) -> kms.Key:
    """A rotated customer managed key that S3, for this account, may encrypt with."""
    key = kms.Key(scope, construct, enable_key_rotation=True, description=description)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowS3EventNotifications",
            principals=[iam.ServicePrincipal(S3)],
            actions=["kms:GenerateDataKey*", "kms:Decrypt"],
            resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
        )
    )
    return key


def find_buckets(scope: Construct, service: spec.Service) -> dict[str, s3.IBucket]:
    """The service's deployed buckets, by declared name, found in ``scope``'s stack by the
    construct ids :func:`overcast.aws.buckets.deploy_bucket` gives them."""
    stack = Stack.of(scope)
    found: dict[str, s3.IBucket] = {}
    for bucket in {notification.bucket for notification in service.object_notifications}:
        child = stack.node.try_find_child(construct_id("Bucket", bucket.name))
        if not isinstance(child, s3.Bucket):
            raise spec.DeclarationError(
                f"Service {service.name!r}: bucket {bucket.name!r} of an object notification "
                "is not deployed in the service's stack."
            )
        found[bucket.name] = child
    return found


def deploy_object_notifications(
    scope: Construct,
    notifications: Sequence[spec.ObjectCreatedNotification],
    buckets: Mapping[str, s3.IBucket],
    topics: Mapping[str, sns.ITopic],
    queues: Mapping[str, sqs.IQueue],
) -> None:
    """S3 event notifications from ``buckets`` to ``topics`` and ``queues``."""
    for notification in notifications:
        target = notification.target
        destination: s3.IBucketNotificationDestination
        if isinstance(target, spec.Topic):
            destination = destinations.SnsDestination(topics[target.name])
        else:
            destination = destinations.SqsDestination(queues[target.name])
        buckets[notification.bucket.name].add_event_notification(
            s3.EventType.OBJECT_CREATED, destination, *key_filter(notification)
        )
    _only_this_account(notifications, topics, queues)
    if notifications:
        acknowledge_notifications_handler(scope)


def _only_this_account(
    notifications: Iterable[spec.ObjectCreatedNotification],
    topics: Mapping[str, sns.ITopic],
    queues: Mapping[str, sqs.IQueue],
) -> None:
    """Deny S3 deliveries on behalf of buckets of other accounts (``aws:SourceAccount``)."""
    done: set[tuple[str, str]] = set()
    for notification in notifications:
        target = notification.target
        kind = "topic" if isinstance(target, spec.Topic) else "queue"
        if (kind, target.name) in done:
            continue
        done.add((kind, target.name))
        if isinstance(target, spec.Topic):
            topic = topics[target.name]
            topic.add_to_resource_policy(_deny_other_accounts("sns:Publish", topic.topic_arn))
        else:
            queue = queues[target.name]
            queue.add_to_resource_policy(_deny_other_accounts("sqs:SendMessage", queue.queue_arn))


def _deny_other_accounts(action: str, resource: str) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        sid="DenyS3EventsOfOtherAccounts",
        effect=iam.Effect.DENY,
        principals=[iam.ServicePrincipal(S3)],
        actions=[action],
        resources=[resource],
        conditions={"StringNotEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
    )
