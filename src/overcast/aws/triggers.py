"""Stream triggers and object-created triggers from their declarations.

``spec.StreamTrigger`` → a Lambda event source mapping on the table's stream
(``AWS::Lambda::EventSourceMapping``), as the local stream dispatcher runs it:

- starting position ``TRIM_HORIZON``: the oldest record still in the stream (the
  local dispatcher starts at the start of the change log, too);
- the declared batch size, batching window, retries (-1: "retry until the record
  expires", Lambda's default, so left unset), record age (-1: unset, no limit),
  bisect on error, ``ReportBatchItemFailures`` and filter criteria (each declared JSON
  pattern is one of Lambda's ``FilterCriteria.Filters``);
- with ``on_failure``, an SQS on-failure destination: Lambda sends the failed batch's
  metadata (shard, sequence numbers) to the queue once retries are exhausted.
- The function's role may read the stream (CDK grants it with the event source).

Lambda's ``MaximumBatchingWindowInSeconds`` is a whole number of seconds; a
fractional window, which the local dispatcher honours, is refused rather than rounded.

``spec.ObjectCreatedTrigger`` → an S3 event notification (``s3:ObjectCreated:*``) with
the declared prefix and suffix filter, invoking the function asynchronously, and the
function's asynchronous invocation config: retries (0-2), maximum event age, and an
SQS on-failure destination. Lambda has one such config per function, so a function
triggered by several declarations with different retry settings is refused.
CloudFormation cannot attach notifications to a bucket whose name it chooses without
a cycle; CDK sets them with its ``BucketNotificationsHandler`` custom resource.

Failure queues are encrypted (SSE-SQS), refuse plain HTTP, and keep messages 14 days
(SQS's maximum), as long as an operator may need to redrive them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as notifications
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from overcast import spec
from overcast.aws import nag
from overcast.aws.naming import construct_id

_KEEP_FAILURES = Duration.days(14)
# CDK's singleton that puts a bucket's notification configuration (aws-s3 notifications).
_NOTIFICATIONS_HANDLER = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"


def deploy_stream_trigger(
    scope: Construct,
    trigger: spec.StreamTrigger,
    function: lambda_.Function,
    table: dynamodb.TableV2,
) -> None:
    """Map ``table``'s stream to ``function`` as ``trigger`` declares."""
    name = f"{trigger.table.name}-{trigger.function.name}"
    queue = (
        failure_queue(scope, construct_id("StreamFailures", name)) if trigger.on_failure else None
    )
    function.add_event_source(
        sources.DynamoEventSource(
            table,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=trigger.batch_size,
            max_batching_window=_batching_window(trigger),
            retry_attempts=_unless_unlimited(trigger.maximum_retry_attempts),
            max_record_age=_seconds(_unless_unlimited(trigger.maximum_record_age_seconds)),
            bisect_batch_on_error=trigger.bisect_batch_on_function_error,
            report_batch_item_failures=trigger.report_batch_item_failures,
            filters=[lambda_.FilterCriteria.filter(json.loads(p)) for p in trigger.filter_patterns]
            or None,
            on_failure=sources.SqsDlq(queue) if queue else None,
        )
    )


def deploy_object_triggers(
    scope: Construct,
    triggers: Sequence[spec.ObjectCreatedTrigger],
    functions: Mapping[str, lambda_.Function],
    buckets: Mapping[str, s3.Bucket],
) -> None:
    """S3 notifications for ``triggers`` and their functions' asynchronous invocation."""
    for trigger in triggers:
        buckets[trigger.bucket.name].add_event_notification(
            s3.EventType.OBJECT_CREATED,
            notifications.LambdaDestination(functions[trigger.function.name]),
            *key_filter(trigger),
        )
    for name, trigger in _async_settings(triggers).items():
        queue = failure_queue(scope, construct_id("InvokeFailures", name))
        functions[name].configure_async_invoke(
            retry_attempts=trigger.maximum_retry_attempts,
            max_event_age=Duration.seconds(trigger.maximum_event_age_seconds),
            on_failure=destinations.SqsDestination(queue),
        )
    if triggers:
        acknowledge_notifications_handler(scope)


def failure_queue(scope: Construct, construct: str) -> sqs.Queue:
    """An encrypted, TLS-only queue that keeps failed events for 14 days."""
    queue = sqs.Queue(
        scope,
        construct,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=_KEEP_FAILURES,
    )
    nag.acknowledge(queue, nag.FAILURE_QUEUE)
    return queue


def _async_settings(
    triggers: Sequence[spec.ObjectCreatedTrigger],
) -> dict[str, spec.ObjectCreatedTrigger]:
    """One trigger per function, whose settings become the function's async config."""
    chosen: dict[str, spec.ObjectCreatedTrigger] = {}
    for trigger in triggers:
        first = chosen.setdefault(trigger.function.name, trigger)
        settings = (trigger.maximum_retry_attempts, trigger.maximum_event_age_seconds)
        if settings != (first.maximum_retry_attempts, first.maximum_event_age_seconds):
            raise spec.DeclarationError(
                f"Function {trigger.function.name!r} has object triggers with different "
                "retry settings; Lambda has one asynchronous invocation config per function "
                "(maximum_retry_attempts, maximum_event_age_seconds). Declare the same ones."
            )
    return chosen


def key_filter(
    trigger: spec.ObjectCreatedTrigger | spec.ObjectCreatedNotification,
) -> list[s3.NotificationKeyFilter]:
    """S3's key filter of a notification configuration: its prefix and suffix, if any."""
    if not trigger.prefix and not trigger.suffix:
        return []
    return [s3.NotificationKeyFilter(prefix=trigger.prefix or None, suffix=trigger.suffix or None)]


def _batching_window(trigger: spec.StreamTrigger) -> Duration | None:
    seconds = trigger.batching_window_seconds
    if seconds != int(seconds):
        raise spec.DeclarationError(
            f"StreamTrigger {trigger.table.name!r} -> {trigger.function.name!r}: Lambda's "
            f"batching window is a whole number of seconds, not {seconds}; declare "
            f"{int(seconds)} or {int(seconds) + 1}."
        )
    return Duration.seconds(seconds) if seconds else None


def _unless_unlimited(value: int) -> int | None:
    # Lambda: -1 means "infinite" for MaximumRetryAttempts and MaximumRecordAgeInSeconds,
    # which is also its default when the property is unset.
    return None if value == -1 else value


def _seconds(value: int | None) -> Duration | None:
    return None if value is None else Duration.seconds(value)


def acknowledge_notifications_handler(scope: Construct) -> None:
    """cdk-nag: CDK's bucket-notifications handler uses AWS's log-writing managed policy."""
    handler = Stack.of(scope).node.try_find_child(_NOTIFICATIONS_HANDLER)
    if handler is not None:
        nag.acknowledge(handler, nag.NOTIFICATIONS_HANDLER)
