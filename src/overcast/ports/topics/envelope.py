"""The JSON document SNS delivers to an SQS queue when raw delivery is off.

Its shape is SNS's ("Fanout to Amazon SQS queues"), e.g.::

    {"Type": "Notification", "MessageId": "63a3f6b6-d533-4a47-aef9-fcf5cf758c76",
     "TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic",
     "Subject": "Testing publish to subscribed queues", "Message": "Hello world!",
     "Timestamp": "2012-03-29T05:12:16.901Z", "SignatureVersion": "1",
     "Signature": "EXAMPLEnTrFPa3...",
     "SigningCertURL": "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
     "UnsubscribeURL": "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-west-2:123456789012:MyTopic:c7fe3a54-ab0e-4ec2-88e0-db410a0f2bee"}

``Subject`` appears only when the publisher gave one ("If no Subject was specified,
then this name-value pair does not appear"); ``MessageAttributes`` (``{name: {"Type",
"Value"}}``, binary values in base64) only when there are attributes; FIFO topics add
``SequenceNumber``. Locally there is no AWS signing key: ``Signature`` is the base64
SHA-1 digest of the string SNS signs (``Message``, ``MessageId``, ``Subject``,
``Timestamp``, ``TopicArn``, ``Type``, each as "name\\nvalue\\n"), which tells
deliveries apart but cannot be verified against an AWS certificate.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from overcast.ports.queues.base import MessageAttribute

CERTIFICATE = "SimpleNotificationService-0000000000000000000000000000000000.pem"


def timestamp(epoch: float) -> str:
    """SNS's ``Timestamp``: UTC with milliseconds, e.g. ``2012-03-29T05:12:16.901Z``."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def envelope(
    *,
    message_id: str,
    topic_arn: str,
    subscription_arn: str,
    message: str,
    published_at: float,
    subject: str | None = None,
    attributes: Mapping[str, MessageAttribute] | None = None,
    sequence_number: str | None = None,
) -> str:
    """The notification SNS puts in the queue, as JSON text."""
    region = topic_arn.split(":")[3]
    document: dict[str, Any] = {"Type": "Notification", "MessageId": message_id}
    if sequence_number is not None:
        document["SequenceNumber"] = sequence_number
    document["TopicArn"] = topic_arn
    if subject is not None:
        document["Subject"] = subject
    document |= {"Message": message, "Timestamp": timestamp(published_at)}
    document |= {
        "SignatureVersion": "1",
        "Signature": _signature(document),
        "SigningCertURL": f"https://sns.{region}.amazonaws.com/{CERTIFICATE}",
        "UnsubscribeURL": (
            f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe"
            f"&SubscriptionArn={subscription_arn}"
        ),
    }
    if attributes:
        document["MessageAttributes"] = {
            name: {"Type": value.data_type, "Value": _value(value)}
            for name, value in attributes.items()
        }
    return json.dumps(document)


def _value(attribute: MessageAttribute) -> str:
    if attribute.binary_value is not None:
        return base64.b64encode(attribute.binary_value).decode()
    return attribute.string_value or ""


def _signature(document: Mapping[str, Any]) -> str:
    fields = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
    signed = "".join(f"{name}\n{document[name]}\n" for name in fields if name in document)
    return base64.b64encode(hashlib.sha1(signed.encode(), usedforsecurity=False).digest()).decode()
