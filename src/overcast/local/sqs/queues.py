"""Queue URLs and queue attributes, as SQS shows them.

- A queue URL is ``<endpoint>/<account id>/<queue name>`` (SQS's form,
  ``https://sqs.us-east-1.amazonaws.com/123456789012/MyQueue``). Any URL whose path ends
  in ``/<this account>/<name>`` names the queue, whatever its host: SDKs send back the
  URL they were given, and a client may reach the endpoint by another host name.
- ``GetQueueAttributes`` shows what the store keeps of a queue; attributes the local
  cloud does not keep (policies, KMS, timestamps) are left out, as SQS leaves out
  attributes a queue does not have. ``RedrivePolicy`` is SQS's JSON text
  (``{"deadLetterTargetArn": ..., "maxReceiveCount": n}``); ``FifoQueue`` and
  ``ContentBasedDeduplication`` appear on FIFO queues only.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from overcast.local.sqs import errors
from overcast.local.sqs.inventory import MessageCounts
from overcast.ports.queues.store import QueueConfig
from overcast.ports.queues.validation import MAX_MESSAGE_BYTES

QUEUE_ATTRIBUTES = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "VisibilityTimeout",
    "DelaySeconds",
    "MessageRetentionPeriod",
    "MaximumMessageSize",
    "ReceiveMessageWaitTimeSeconds",
    "QueueArn",
    "RedrivePolicy",
    "FifoQueue",
    "ContentBasedDeduplication",
)
# Attributes SQS knows that the local store does not keep: asked for, they are left out.
UNKEPT_ATTRIBUTES = (
    "Policy",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "RedriveAllowPolicy",
    "SqsManagedSseEnabled",
)


def queue_url(endpoint: str, account_id: str, name: str) -> str:
    return f"{endpoint.rstrip('/')}/{account_id}/{name}"


def queue_name(url: object, account_id: str) -> str:
    """The queue name a ``QueueUrl`` names (``QueueDoesNotExist`` if none)."""
    if not isinstance(url, str) or not url:
        raise errors.MissingParameter("The request must contain the parameter QueueUrl.")
    parts = urlsplit(url).path.strip("/").split("/")
    if len(parts) < 2 or parts[-2] != account_id or not parts[-1]:
        raise errors.QueueDoesNotExist()
    return parts[-1]


def attributes(
    config: QueueConfig, counts: MessageCounts, dead_letter_arn: str | None, names: list[str]
) -> dict[str, str]:
    """The queue attributes ``names`` asks for ("All": every one the store keeps)."""
    for name in names:
        if name != "All" and name not in QUEUE_ATTRIBUTES and name not in UNKEPT_ATTRIBUTES:
            raise errors.InvalidAttributeName(f"Unknown Attribute {name}.")
    every = _all(config, counts, dead_letter_arn)
    return {key: value for key, value in every.items() if "All" in names or key in names}


def _all(config: QueueConfig, counts: MessageCounts, dead_letter_arn: str | None) -> dict[str, str]:
    values = {
        "ApproximateNumberOfMessages": str(counts.visible),
        "ApproximateNumberOfMessagesNotVisible": str(counts.not_visible),
        "ApproximateNumberOfMessagesDelayed": str(counts.delayed),
        "VisibilityTimeout": str(config.visibility_timeout),
        "DelaySeconds": str(config.delay),
        "MessageRetentionPeriod": str(config.retention),
        "MaximumMessageSize": str(MAX_MESSAGE_BYTES),
        "ReceiveMessageWaitTimeSeconds": str(config.receive_wait_seconds),
        "QueueArn": config.arn,
    }
    if dead_letter_arn is not None:
        policy = {
            "deadLetterTargetArn": dead_letter_arn,
            "maxReceiveCount": config.max_receive_count,
        }
        values["RedrivePolicy"] = json.dumps(policy)
    if config.fifo:
        values["FifoQueue"] = "true"
        values["ContentBasedDeduplication"] = str(config.content_based_deduplication).lower()
    return values


def matches_declaration(config: QueueConfig, requested: dict[str, str]) -> bool:
    """Whether ``CreateQueue``'s ``Attributes`` agree with the declared queue (SQS: "If
    you provide the name of an existing queue along with the exact names and values of
    all the queue's attributes, CreateQueue returns the queue URL for the existing
    queue"; other values are ``QueueNameExists``). Attributes not kept are not compared."""
    kept = _all(config, MessageCounts(0, 0, 0), None)
    if not config.fifo:
        kept["FifoQueue"] = "false"
    return all(
        kept[name].lower() == str(value).lower()
        for name, value in requested.items()
        if name in kept and not name.startswith("Approximate")
    )
