"""The CDN port on CloudFront's CreateInvalidation (locally, the local CloudFront API).

Each call sends one InvalidationBatch with a fresh ``CallerReference`` (a UUID): a
retry of the same call by botocore reuses the request, so CloudFront's idempotency on
the reference keeps one batch; a second call is a second batch. Throttling and
transient failures are retried by botocore (the client's retry mode); what is left
is mapped to the port's errors (no botocore type escapes):

- ``NoSuchDistribution``: :class:`DistributionNotFound`;
- ``AccessDenied``: :class:`InvalidationDenied`;
- ``InvalidArgument``, ``InconsistentQuantities``, ``BatchTooLarge``: :class:`InvalidPaths`
  (sending the batch again will not help);
- anything else, ``TooManyInvalidationsInProgress`` included (it clears as invalidations
  in progress complete), throttling left after retries, network and service failures:
  :class:`CdnUnavailable`.
"""

from __future__ import annotations

import uuid
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from overcast.ports.cdn.base import Invalidator
from overcast.ports.cdn.exceptions import (
    CdnError,
    CdnUnavailable,
    DistributionNotFound,
    InvalidationDenied,
    InvalidPaths,
)

_ERRORS: dict[str, type[CdnError]] = {
    "NoSuchDistribution": DistributionNotFound,
    "AccessDenied": InvalidationDenied,
    "InvalidArgument": InvalidPaths,
    "InconsistentQuantities": InvalidPaths,
    "BatchTooLarge": InvalidPaths,
}


class CloudFrontInvalidator(Invalidator):
    """Invalidates paths of the distribution ``distribution_id`` with ``client``, a boto3
    ``cloudfront`` client (typed ``Any``: the project installs no CloudFront stubs)."""

    def __init__(self, distribution_id: str, client: Any) -> None:
        self.distribution_id = distribution_id
        self._client = client

    def _invalidate(self, paths: list[str]) -> str:
        batch = {
            "Paths": {"Quantity": len(paths), "Items": paths},
            "CallerReference": str(uuid.uuid4()),
        }
        try:
            answer = self._client.create_invalidation(
                DistributionId=self.distribution_id, InvalidationBatch=batch
            )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            message = str(exc.response.get("Error", {}).get("Message", "")) or code
            raise _ERRORS.get(code, CdnUnavailable)(message) from exc
        except BotoCoreError as exc:
            raise CdnUnavailable(str(exc)) from exc
        return str(answer["Invalidation"]["Id"])
