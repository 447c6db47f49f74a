"""S3's legacy query-string authentication (Signature Version 2), for presigned URLs.

botocore still presigns S3 URLs with Signature Version 2 by default "in regions where
S3 supports it" (``generate_presigned_url``, ``aws s3 presign``: ``?AWSAccessKeyId=
&Signature=&Expires=``), and S3 in us-east-1 accepts them; so the local endpoint
does too. What it mirrors (Amazon S3 Developer Guide, "Signing and authenticating
REST requests", "Query string request authentication alternative"):

- ``StringToSign = VERB \\n Content-MD5 \\n Content-Type \\n Expires \\n
  CanonicalizedAmzHeaders CanonicalizedResource``; the signature is the base64 of
  HMAC-SHA1 over it with the secret key.
- ``Expires`` is the expiry in epoch seconds; a request after it is AccessDenied
  "Request has expired".
- ``CanonicalizedAmzHeaders``: every ``x-amz-*`` header, lower-cased, sorted,
  ``name:value`` per line; botocore moves them (and ``Content-Type``/``Content-MD5``)
  into the query string (``HmacV1QueryAuth._inject_signature``), where S3 reads them
  as if sent as headers. So does the endpoint, for the signature and for the operation
  alike (:func:`with_query_headers`): a presigned CopyObject's ``x-amz-copy-source``
  makes it a copy, a PutObject's ``x-amz-meta-*`` are its metadata. A name sent both
  ways with different values is ``InvalidArgument``: which one S3 would take is not
  documented, and taking either could serve what was not signed.
- ``CanonicalizedResource``: the path as sent, plus the sub-resources and
  ``response-*`` overrides of the query, sorted, values decoded.

The body of a SigV2 presigned request is not signed (as in SigV4's UNSIGNED-PAYLOAD).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from overcast.local.s3.errors import (
    AccessDenied,
    AuthorizationQueryParametersError,
    InvalidArgument,
)

QUERY_PARAMETERS = ("AWSAccessKeyId", "Signature", "Expires")
# The query arguments S3 signs in the canonicalized resource (botocore's QSAOfInterest).
SUBRESOURCES = frozenset(
    {
        "accelerate", "acl", "analytics", "cors", "defaultObjectAcl", "delete", "inventory",
        "lifecycle", "location", "logging", "metrics", "notification", "object-lock",
        "partNumber", "policy", "replication", "requestPayment", "response-cache-control",
        "response-content-disposition", "response-content-encoding",
        "response-content-language", "response-content-type", "response-expires", "restore",
        "select", "select-type", "storageClass", "tagging", "torrent", "uploadId", "uploads",
        "versionId", "versioning", "versions", "website",
    }
)  # fmt: skip


@dataclass(frozen=True)
class SigV2Claim:
    """What a SigV2 presigned URL claims: who signed, until when, and the signature."""

    access_key_id: str
    signature: str
    expires: int
    security_token: str | None


def read_claim(params: Mapping[str, str]) -> SigV2Claim:
    """The claim of a query with ``AWSAccessKeyId``, ``Signature`` and ``Expires``."""
    missing = [name for name in QUERY_PARAMETERS if name not in params]
    if missing:
        raise AuthorizationQueryParametersError(
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId "
            "parameters"
        )
    try:
        expires = int(params["Expires"])
    except ValueError:
        raise AuthorizationQueryParametersError("Invalid date (should be seconds since epoch): "
                                                f"{params['Expires']}") from None  # fmt: skip
    return SigV2Claim(
        params["AWSAccessKeyId"],
        params["Signature"],
        expires,
        params.get("x-amz-security-token"),
    )


def check_expiry(claim: SigV2Claim, now: datetime) -> None:
    """AccessDenied "Request has expired" once ``Expires`` has passed."""
    if now.timestamp() > claim.expires:
        expiry = datetime.fromtimestamp(claim.expires, UTC)
        raise AccessDenied(
            "Request has expired",
            Expires=expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
            ServerTime=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )


def is_query_header(name: str) -> bool:
    """Whether a query parameter of a SigV2 URL is a header botocore moved there."""
    lowered = name.lower()
    return lowered.startswith("x-amz-") or lowered in ("content-type", "content-md5")


def with_query_headers(
    headers: Sequence[tuple[str, str]], query: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """``headers`` (names lower-case) plus the headers a SigV2 URL carries in ``query``.

    A header sent both ways with the same value counts once (so this is idempotent);
    with different values it is ``InvalidArgument``.
    """
    merged = list(headers)
    sent: dict[str, str] = {}
    for name, value in headers:
        sent[name] = f"{sent[name]},{value}" if name in sent else value
    for name, value in query:
        if not is_query_header(name):
            continue
        lowered = name.lower()
        known = sent.get(lowered)
        if known is None:
            merged.append((lowered, value))
            sent[lowered] = value
        elif known != value:
            raise InvalidArgument(
                f"The {lowered} header was sent in both the headers and the query string of "
                "this presigned URL, with different values.",
                ArgumentName=lowered,
                ArgumentValue=value,
            )
    return merged


def string_to_sign(
    method: str,
    raw_path: str,
    query: Sequence[tuple[str, str]],
    headers: Sequence[tuple[str, str]],
    expires: int,
) -> str:
    """S3's SigV2 string to sign for a presigned request; ``query`` as decoded to serve
    it (no name twice), ``headers`` with those the query carries
    (:func:`with_query_headers`)."""
    sent = dict(query)
    header_values: dict[str, list[str]] = {}
    for name, value in headers:
        header_values.setdefault(name.lower(), []).append(value.strip())
    amz = "".join(
        f"{name}:{','.join(values)}\n"
        for name, values in sorted(header_values.items())
        if name.startswith("x-amz-")
    )
    resource = raw_path
    signed = sorted((name, value) for name, value in sent.items() if name in SUBRESOURCES)
    if signed:
        resource += "?" + "&".join(f"{name}={value}" if value else name for name, value in signed)
    content_md5 = ",".join(header_values.get("content-md5", []))
    content_type = ",".join(header_values.get("content-type", []))
    return f"{method.upper()}\n{content_md5}\n{content_type}\n{expires}\n{amz}{resource}"


def signature(secret_access_key: str, to_sign: str) -> str:
    digest = hmac.new(secret_access_key.encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def matches(expected: str, provided: str) -> bool:
    return hmac.compare_digest(expected.encode(), provided.encode())
