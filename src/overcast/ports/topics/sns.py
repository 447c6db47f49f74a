"""The topic port over Amazon SNS (boto3), for functions deployed to AWS.

The function learns its topic's ARN (``OVERCAST_RESOURCE_TOPIC_<NAME>``); its name is
the ARN's last part. ``publish`` is SNS's ``Publish`` with the message attributes
(``String``, ``Number``, ``Binary``, ``String.Array``), the subject, and on FIFO
topics the ``MessageGroupId`` and ``MessageDeduplicationId``. SNS then fans the
message out to the topic's subscriptions, filtered by their filter policies.

Errors (botocore's ``ClientError`` codes) become the port's exceptions: ``NotFound`` →
:class:`TopicNotFound`; ``InvalidParameter``, ``InvalidParameterValue`` and
``ParameterValueInvalid`` → :class:`InvalidPublish`; anything else (throttling,
KMS, network, 5xx) → :class:`TopicUnavailable`.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from overcast.ports.queues.sqs import sqs_attributes
from overcast.ports.topics.base import MessageTopic, Publication
from overcast.ports.topics.exceptions import (
    InvalidPublish,
    TopicError,
    TopicNotFound,
    TopicUnavailable,
)

_ERRORS: dict[str, type[TopicError]] = {
    "NotFound": TopicNotFound,
    "NotFoundException": TopicNotFound,
    "InvalidParameter": InvalidPublish,
    "InvalidParameterException": InvalidPublish,
    "InvalidParameterValue": InvalidPublish,
    "InvalidParameterValueException": InvalidPublish,
    "ParameterValueInvalid": InvalidPublish,
}


class SnsTopic(MessageTopic):
    """One SNS topic, by its ARN, through a boto3 SNS client."""

    def __init__(self, topic_arn: str, client: Any) -> None:
        if not topic_arn.startswith("arn:") or topic_arn.count(":") != 5:
            raise ValueError(f"{topic_arn!r} is not an SNS topic ARN.")
        self.arn = topic_arn
        self.name = topic_arn.rsplit(":", 1)[1]
        self._client = client

    def _publish(self, message: Publication) -> str:
        request: dict[str, Any] = {"TopicArn": self.arn, "Message": message.body}
        if message.attributes:
            request["MessageAttributes"] = sqs_attributes(message.attributes)
        if message.subject is not None:
            request["Subject"] = message.subject
        if message.group_id is not None:
            request["MessageGroupId"] = message.group_id
        if message.deduplication_id is not None:
            request["MessageDeduplicationId"] = message.deduplication_id
        try:
            answer = self._client.publish(**request)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code, reason = str(error.get("Code", "")), str(error.get("Message", exc))
            raise _ERRORS.get(code, TopicUnavailable)(f"SNS: {reason}") from exc
        except BotoCoreError as exc:
            raise TopicUnavailable(f"SNS could not be reached: {exc}") from exc
        return str(answer["MessageId"])
