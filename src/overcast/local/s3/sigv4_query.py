"""A SigV4 presigned URL's parameters and validity window, as S3 checks them.

What it mirrors (S3 API reference, "Authenticating Requests: Using Query Parameters
(AWS Signature Version 4)"):

- ``X-Amz-Algorithm``, ``-Credential``, ``-Date``, ``-Expires``, ``-SignedHeaders``
  and ``-Signature`` are all required; the algorithm is ``AWS4-HMAC-SHA256``, the
  credential ``<key>/<date>/<region>/s3/aws4_request``, the date ISO 8601 basic;
  ``X-Amz-Expires`` is 1..604800 seconds ("The minimum value you can set is 1", at
  most seven days). Anything else is ``AuthorizationQueryParametersError``.
- Past ``X-Amz-Date + X-Amz-Expires`` the URL is ``AccessDenied`` "Request has
  expired"; more than 15 minutes before ``X-Amz-Date``, "Request is not yet valid".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from overcast.local.auth import canonical
from overcast.local.auth.signature import SignatureClaim, parse_amz_date, parse_credential
from overcast.local.s3.errors import AccessDenied, AuthorizationQueryParametersError

MAX_SKEW = timedelta(minutes=15)
MAX_EXPIRES = 604800  # seven days, the longest a SigV4 presigned URL lives
PARAMETERS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)
SERVER_TIME = "%Y-%m-%dT%H:%M:%SZ"
EXPECTED_CREDENTIAL = 'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
CREDENTIAL_PREFIX = "Error parsing the X-Amz-Credential parameter; "


def read_claim(params: Mapping[str, str]) -> tuple[SignatureClaim, int]:
    """What a presigned URL's parameters claim, and its ``X-Amz-Expires`` in seconds."""
    if any(name not in params for name in PARAMETERS):
        raise AuthorizationQueryParametersError(
            "Query-string authentication version 4 requires the X-Amz-Algorithm, "
            "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, "
            "and X-Amz-Expires parameters."
        )
    if params["X-Amz-Algorithm"] != canonical.ALGORITHM:
        raise AuthorizationQueryParametersError(
            f'X-Amz-Algorithm only supports "{canonical.ALGORITHM}"'
        )
    credential = parse_credential(params["X-Amz-Credential"])
    if credential is None:
        raise AuthorizationQueryParametersError(
            f"{CREDENTIAL_PREFIX}the Credential is mal-formed; {EXPECTED_CREDENTIAL}"
        )
    if parse_amz_date(params["X-Amz-Date"]) is None:
        raise AuthorizationQueryParametersError(
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
        )
    signed_headers = tuple(params["X-Amz-SignedHeaders"].split(";"))
    claim = SignatureClaim(
        credential, signed_headers, params["X-Amz-Signature"], params["X-Amz-Date"]
    )
    return claim, _expires(params["X-Amz-Expires"])


def check_validity(signed_at: datetime, expires: int, now: datetime) -> None:
    """``AccessDenied`` outside the URL's validity window."""
    expiry = signed_at + timedelta(seconds=expires)
    if now > expiry:
        raise AccessDenied(
            "Request has expired",
            **{
                "X-Amz-Expires": str(expires),
                "Expires": expiry.strftime(SERVER_TIME),
                "ServerTime": now.strftime(SERVER_TIME),
            },
        )
    if signed_at > now + MAX_SKEW:
        # S3 reports X-Amz-Date here in epoch milliseconds.
        raise AccessDenied(
            "Request is not yet valid",
            **{
                "X-Amz-Date": str(int(signed_at.timestamp() * 1000)),
                "Expires": expiry.strftime(SERVER_TIME),
                "ServerTime": now.strftime(SERVER_TIME),
            },
        )


def _expires(value: str) -> int:
    try:
        seconds = int(value)
    except ValueError:
        raise AuthorizationQueryParametersError("X-Amz-Expires should be a number") from None
    if seconds < 0:
        raise AuthorizationQueryParametersError("X-Amz-Expires must be non-negative")
    if seconds == 0:
        # The S3 reference: "The minimum value you can set is 1".
        raise AuthorizationQueryParametersError("X-Amz-Expires must be at least 1 second")
    if seconds > MAX_EXPIRES:
        raise AuthorizationQueryParametersError(
            "X-Amz-Expires must be less than a week (in seconds); that is, the given "
            f"X-Amz-Expires must be less than {MAX_EXPIRES} seconds"
        )
    return seconds
