"""S3 event notification records, of AWS's exact shape (event structure version 2.1).

From S3's "Event message structure": each record carries ``eventVersion``,
``eventSource`` ``aws:s3``, ``awsRegion``, ``eventTime`` (ISO 8601, milliseconds,
``Z``), ``eventName`` (without the ``s3:`` prefix, e.g. ``ObjectCreated:Put``),
``userIdentity.principalId`` (the requester), ``requestParameters.sourceIPAddress``,
``responseElements`` (``x-amz-request-id``, ``x-amz-id-2``) and ``s3``:
``s3SchemaVersion`` ``1.0``, ``configurationId``, ``bucket`` (``name``,
``ownerIdentity.principalId``, ``arn``) and ``object`` (``key``, ``size``, ``eTag``,
``sequencer``; ``versionId`` only in versioned buckets, which local buckets are not).

S3: "The s3 key provides information about the bucket and object involved in the
event. The object key name value is URL encoded. For example, 'red flower.jpg'
becomes 'red+flower.jpg'" — form encoding, ``/`` kept. ``sequencer``: "a way to
determine the sequence of events", hexadecimal, comparable for one key as strings of
equal length; here the catalog's event number, 16 upper-case hex digits.

A Lambda function invoked by S3 gets one record per event.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from datetime import UTC
from typing import Any

from overcast.ports.objects.filesystem_events import ObjectEvent

EVENT_VERSION = "2.1"


def encoded_key(key: str) -> str:
    """The key as S3 writes it in notifications: form-encoded, ``/`` kept."""
    return urllib.parse.quote_plus(key, safe="/")


def owner_principal(account_id: str) -> str:
    """A stable S3 owner id for the account (S3's are opaque upper-case strings)."""
    return hashlib.sha256(account_id.encode()).hexdigest()[:14].upper()


def notification_event(
    event: ObjectEvent, *, bucket: str, region: str, account_id: str
) -> dict[str, Any]:
    """The event a function receives for ``event``: ``{"Records": [<one record>]}``."""
    moment = event.event_time.astimezone(UTC)
    creation = event.creation
    return {
        "Records": [
            {
                "eventVersion": EVENT_VERSION,
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": moment.strftime("%Y-%m-%dT%H:%M:%S.")
                + f"{moment.microsecond // 1000:03d}Z",
                "eventName": event.event_name,
                "userIdentity": {"principalId": creation.principal_id or "AWS:local"},
                "requestParameters": {"sourceIPAddress": creation.source_ip},
                "responseElements": {
                    "x-amz-request-id": creation.request_id or f"{event.sequence:016X}",
                    "x-amz-id-2": creation.host_id or "local",
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": event.configuration,
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": owner_principal(account_id)},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": {
                        "key": encoded_key(event.key),
                        "size": event.size,
                        "eTag": event.etag,
                        "sequencer": f"{event.sequence:016X}",
                    },
                },
            }
        ]
    }
