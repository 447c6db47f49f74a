"""Signing the edge's origin requests to a bucket with SigV4, as origin access control does.

With OAC, CloudFront signs each request it sends to an S3 origin with SigV4 as the
service principal ``cloudfront.amazonaws.com`` ("Restrict access to an Amazon S3
origin"); the bucket's policy allows ``s3:GetObject`` to that principal only for the
distribution named by ``aws:SourceArn``. The signature is computed with the same
canonical-request and signing-key code the local endpoints verify with
(:mod:`overcast.local.auth.signature`), so the two cannot drift apart.

What the signer does, from "Create a signed AWS API request":

- ``x-amz-date`` is the request time (ISO 8601 basic); the credential scope is
  ``<yyyymmdd>/<region>/s3/aws4_request``.
- ``x-amz-content-sha256`` is ``UNSIGNED-PAYLOAD`` for bodiless reads (S3 accepts it),
  else the hex SHA-256 of the body.
- Signed headers: ``host``, every ``x-amz-*`` header and the extra headers the caller
  names (the OAC source-ARN header), lowercased and sorted.
- S3's canonical URI is the path exactly as sent, encoded once (no normalisation).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from overcast.local.auth import canonical
from overcast.local.auth.signature import (
    ISO_BASIC,
    Credential,
    SignatureClaim,
    SignedParts,
    calculate,
)
from overcast.local.auth.sigv4 import UNSIGNED_PAYLOAD, Credentials

Headers = list[tuple[str, str]]


def sign_headers(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Sequence[tuple[str, str]],
    credentials: Credentials,
    *,
    region: str,
    now: datetime,
    service: str = "s3",
    body: bytes | None = None,
    also_sign: Sequence[str] = (),
) -> Headers:
    """The headers to add to a request so it carries a SigV4 signature.

    ``headers`` must hold ``host`` as it will be sent; ``raw_path``/``raw_query`` are
    the request target exactly as it goes on the wire. ``body`` None signs
    ``UNSIGNED-PAYLOAD``. Returns ``x-amz-date``, ``x-amz-content-sha256``,
    ``x-amz-security-token`` (temporary credentials) and ``Authorization``.
    """
    timestamp = now.strftime(ISO_BASIC)
    payload_hash = UNSIGNED_PAYLOAD if body is None else hashlib.sha256(body).hexdigest()
    added: Headers = [("x-amz-date", timestamp), ("x-amz-content-sha256", payload_hash)]
    if credentials.session_token:
        added.append(("x-amz-security-token", credentials.session_token))
    every = [*headers, *added]
    signed = _signed_names(every, also_sign)
    scope = Credential(credentials.access_key_id, timestamp[:8], region, service, "aws4_request")
    claim = SignatureClaim(scope, signed, "", timestamp)
    key = canonical.signing_key(credentials.secret_access_key, scope.date, region, service)
    parts = SignedParts(method, raw_path, raw_query, every)
    calculation = calculate(claim, parts, payload_hash, key, double_encode_path=False)
    authorization = (
        f"{canonical.ALGORITHM} Credential={credentials.access_key_id}/{scope.scope}, "
        f"SignedHeaders={';'.join(signed)}, Signature={calculation.signature}"
    )
    return [*added, ("Authorization", authorization)]


def _signed_names(headers: Sequence[tuple[str, str]], also_sign: Sequence[str]) -> tuple[str, ...]:
    extra = {name.lower() for name in also_sign}
    names = {
        name.lower()
        for name, _ in headers
        if name.lower() == "host" or name.lower().startswith("x-amz-") or name.lower() in extra
    }
    return tuple(sorted(names))
