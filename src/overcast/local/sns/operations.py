"""What each SNS call does, apart from HTTP: authorize, find the topic, call the port.

Mirrored from SNS ("Amazon SNS API permissions", ``Publish``, ``PublishBatch``):

- Every call is authorized with IAM first, as ``sns:<Operation>`` on the topic's ARN
  (the list calls without a topic: on ``arn:aws:sns:<region>:<account>:*``); a caller
  without the permission learns nothing of the topic. ``PublishBatch`` needs
  ``sns:Publish``.
- An unknown topic is ``NotFound`` ("Topic does not exist"); a message the port refuses
  (size, attributes, subject, FIFO ids) is ``InvalidParameter`` and publishes nothing.
- ``MessageStructure=json``: the message is a JSON object with a ``default`` string and
  optional per-protocol ones; queues get the ``sqs`` one, else ``default``.
- ``PublishBatch`` holds 1-10 entries with distinct ``Id``s (up to 80 alphanumerics,
  ``-``, ``_``); each entry succeeds or fails on its own; together (messages and their
  attributes) at most 256 KiB.
- A store that fails (``QueueUnavailable``) is 503 ``ServiceUnavailable``, for every
  call, listings included.
- ``CreateTopic`` does not create: topics are declared in the services. Of a declared
  topic it returns the ARN (SNS: "This action is idempotent"); of another name it is
  ``InvalidParameter``, saying to declare the topic.

The fan-out (filter policies, raw or enveloped delivery, FIFO) is the port's
(:class:`~overcast.ports.topics.fanout.StoredTopic`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TypeVar

from overcast.local.iam.evaluation import AuthorizationRequest, PolicyEvaluator
from overcast.local.iam.principals import Principal
from overcast.local.sns import errors
from overcast.local.sns.messages import attributes_in
from overcast.local.sns.query import Params, XmlMap, XmlValue, members
from overcast.local.sqs.inventory import MessagingInventory
from overcast.ports.queues.exceptions import QueueError, QueueUnavailable
from overcast.ports.queues.messaging import StoredMessaging
from overcast.ports.queues.store import TopicConfig
from overcast.ports.topics.base import MAX_PUBLISH_BYTES, MessageTopic
from overcast.ports.topics.exceptions import InvalidPublish, TopicNotFound

MAX_BATCH = 10
_ENTRY_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
Result = dict[str, XmlValue]
T = TypeVar("T")


class SnsOperations:
    """The SNS calls, for an authenticated ``principal``; each returns the XML result."""

    def __init__(
        self,
        messaging: StoredMessaging,
        inventory: MessagingInventory,
        evaluator: PolicyEvaluator,
    ) -> None:
        self._messaging = messaging
        self._inventory = inventory
        self._evaluator = evaluator

    def create_topic(self, principal: Principal, params: Params) -> Result:
        name = _required(params, "Name")
        arn = self._messaging.arn("sns", name)
        self._authorize(principal, "CreateTopic", arn)
        if self._config(name) is None:
            raise errors.InvalidParameter(
                f"Topic {name!r} is not declared. The local cloud creates topics from the "
                "services' declarations: add spec.Topic(...) to the service and restart."
            )
        return {"TopicArn": arn}

    def list_topics(self, principal: Principal, params: Params) -> Result:
        self._authorize(principal, "ListTopics", self._messaging.arn("sns", "*"))
        topics = _port(self._inventory.topics)
        return {"Topics": [{"TopicArn": topic.arn} for topic in topics]}

    def get_topic_attributes(self, principal: Principal, params: Params) -> Result:
        config = self._topic_config(principal, "GetTopicAttributes", params)
        subscriptions = _port(lambda: self._inventory.subscriptions(config.name))
        attributes = {
            "TopicArn": config.arn,
            "Owner": self._messaging.account_id,
            "DisplayName": "",
            "SubscriptionsConfirmed": str(len(subscriptions)),
            "SubscriptionsPending": "0",
            "SubscriptionsDeleted": "0",
        }
        if config.fifo:
            attributes["FifoTopic"] = "true"
            deduplication = config.content_based_deduplication
            attributes["ContentBasedDeduplication"] = str(deduplication).lower()
        return {"Attributes": XmlMap(attributes)}

    def list_subscriptions(self, principal: Principal, params: Params) -> Result:
        self._authorize(principal, "ListSubscriptions", self._messaging.arn("sns", "*"))
        return {"Subscriptions": self._subscriptions(None)}

    def list_subscriptions_by_topic(self, principal: Principal, params: Params) -> Result:
        config = self._topic_config(principal, "ListSubscriptionsByTopic", params)
        return {"Subscriptions": self._subscriptions(config.name)}

    def publish(self, principal: Principal, params: Params) -> Result:
        arn = params.get("TopicArn") or params.get("TargetArn") or ""
        topic = self._topic(principal, arn)
        message_id = _port(lambda: _publish(topic, params))
        return {"MessageId": message_id}

    def publish_batch(self, principal: Principal, params: Params) -> Result:
        topic = self._topic(principal, _required(params, "TopicArn"))
        entries = _entries(params)
        total = sum(_entry_size(entry) for entry in entries)
        if total > MAX_PUBLISH_BYTES:
            raise errors.BatchRequestTooLong(
                f"The batch is {total} bytes; SNS allows {MAX_PUBLISH_BYTES} in all."
            )
        successful: list[XmlValue] = []
        failed: list[XmlValue] = []
        for entry in entries:
            try:
                message_id = _port(lambda e=entry: _publish(topic, e))  # type: ignore[misc]
                successful.append({"Id": entry["Id"], "MessageId": message_id})
            except errors.SnsError as error:
                failed.append(
                    {"Id": entry["Id"], "Code": error.code, "Message": error.message,
                     "SenderFault": str(error.fault == "Sender").lower()}
                )  # fmt: skip
        return {"Successful": successful, "Failed": failed}

    # --- helpers ----------------------------------------------------------------

    def _subscriptions(self, topic: str | None) -> list[XmlValue]:
        return [
            {
                "SubscriptionArn": subscription.arn,
                "Owner": self._messaging.account_id,
                "Protocol": "sqs",
                "Endpoint": self._messaging.arn("sqs", subscription.queue),
                "TopicArn": self._messaging.arn("sns", subscription.topic),
            }
            for subscription in _port(lambda: self._inventory.subscriptions(topic))
        ]

    def _topic(self, principal: Principal, arn: str) -> MessageTopic:
        name = self._name(arn)
        self._authorize(principal, "Publish", arn)
        return _port(lambda: self._messaging.topic(name))

    def _topic_config(self, principal: Principal, operation: str, params: Params) -> TopicConfig:
        arn = _required(params, "TopicArn")
        name = self._name(arn)
        self._authorize(principal, operation, arn)
        config = self._config(name)
        if config is None:
            raise errors.NotFound()
        return config

    def _config(self, name: str) -> TopicConfig | None:
        return next((t for t in _port(self._inventory.topics) if t.name == name), None)

    def _name(self, arn: str) -> str:
        parts = arn.split(":")
        if len(parts) != 6 or parts[:3] != ["arn", "aws", "sns"] or not parts[5]:
            raise errors.InvalidParameter("Invalid parameter: TopicArn")
        if parts[3] != self._messaging.region or parts[4] != self._messaging.account_id:
            raise errors.NotFound()
        return parts[5]

    def _authorize(self, principal: Principal, operation: str, resource: str) -> None:
        action = f"sns:{operation}"
        if not self._evaluator.allowed(AuthorizationRequest(principal, action, resource)):
            caller = principal.session_arn or principal.arn
            raise errors.AuthorizationError(
                f"User: {caller} is not authorized to perform: {action} on resource: {resource}"
            )


def _publish(topic: MessageTopic, params: Params) -> str:
    return topic.publish(
        _message(params),
        attributes_in(params),
        subject=params.get("Subject"),
        group_id=params.get("MessageGroupId"),
        deduplication_id=params.get("MessageDeduplicationId"),
    )


def _message(params: Params) -> str:
    message = params.get("Message")
    if message is None:
        raise errors.InvalidParameter("Invalid parameter: Message")
    if params.get("MessageStructure") != "json":
        return message
    try:
        document = json.loads(message)
    except ValueError:
        document = None
    if not isinstance(document, dict) or not isinstance(document.get("default"), str):
        raise errors.InvalidParameter(
            "Invalid parameter: Message Structure - JSON message body failed to parse, or "
            "has no default entry"
        )
    chosen = document.get("sqs", document["default"])
    return chosen if isinstance(chosen, str) else document["default"]


def _entry_size(entry: Params) -> int:
    """What one ``PublishBatch`` entry counts towards the batch's 256 KiB: its message and
    its attributes' names, types and values (SNS's message size)."""
    texts = [entry.get("Message", "")]
    texts += [
        value for field, value in entry.items() if field.startswith("MessageAttributes.entry.")
    ]
    return sum(len(text.encode()) for text in texts)


def _port(call: Callable[[], T]) -> T:
    """Run a port (or store) call; its exceptions become SNS's."""
    try:
        return call()
    except TopicNotFound:
        raise errors.NotFound() from None
    except InvalidPublish as error:
        raise errors.InvalidParameter(f"Invalid parameter: {error}") from None
    except QueueUnavailable as error:
        raise errors.ServiceUnavailable(str(error)) from None
    except QueueError as error:
        raise errors.InvalidParameter(f"Invalid parameter: {error}") from None


def _required(params: Params, name: str) -> str:
    value = params.get(name)
    if not value:
        raise errors.InvalidParameter(f"Invalid parameter: {name}")
    return value


def _entries(params: Params) -> list[dict[str, str]]:
    entries = members(params, "PublishBatchRequestEntries")
    if not entries:
        raise errors.EmptyBatchRequest()
    if len(entries) > MAX_BATCH:
        raise errors.TooManyEntriesInBatchRequest(
            f"The batch request contains more entries than permissible ({MAX_BATCH})."
        )
    seen: set[str] = set()
    for entry in entries:
        entry_id = entry.get("Id", "")
        if not _ENTRY_ID.match(entry_id):
            raise errors.InvalidBatchEntryId(
                "A batch entry id can only contain alphanumeric characters, hyphens and "
                "underscores. It can be at most 80 letters long."
            )
        if entry_id in seen:
            raise errors.BatchEntryIdsNotDistinct(f"Id {entry_id} repeated.")
        seen.add(entry_id)
    return entries
