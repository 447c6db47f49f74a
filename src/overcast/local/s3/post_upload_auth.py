"""Who sent an S3 POST upload: the form's SigV4 signature over its policy.

What it mirrors ("Authenticating Requests in Browser-Based Uploads Using POST (AWS
Signature Version 4)"):

- The form carries ``x-amz-algorithm`` (``AWS4-HMAC-SHA256``), ``x-amz-credential``
  (``<key id>/<date>/<region>/s3/aws4_request``), ``x-amz-date``, ``x-amz-signature``
  and, for temporary credentials, ``x-amz-security-token``. The string to sign is the
  ``policy`` field exactly as sent (its base64); the signature is its hex HMAC-SHA256
  under the SigV4 signing key of the credential's date, region and service.
- A form without ``x-amz-signature`` and ``policy`` is anonymous (bucket policies
  decide). A signature without a policy, or a policy without a signature, is
  ``InvalidArgument``; another algorithm is ``InvalidArgument``; SigV2 fields
  (``AWSAccessKeyId``, ``signature``) are refused, as S3 refuses SigV2 for new buckets.
- Unknown key, temporary key without its token, wrong token, expired session and a
  wrong signature: the same errors as the header form (``InvalidAccessKeyId``,
  ``InvalidToken``, ``ExpiredToken``, ``SignatureDoesNotMatch``), found by the
  endpoint's :class:`~overcast.local.s3.auth.S3Authenticator`.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import datetime

from overcast.local.auth import canonical
from overcast.local.auth.signature import Credential, parse_amz_date, parse_credential
from overcast.local.iam.principals import Session
from overcast.local.s3.auth import SERVICE, S3Authenticator
from overcast.local.s3.errors import (
    ExpiredToken,
    InvalidArgument,
    InvalidRequest,
    SignatureDoesNotMatch,
)
from overcast.local.s3.signing import SIGV4

_SIGV2_FIELDS = ("awsaccesskeyid", "signature")


class PostAuthenticator:
    """Checks a POST form's signature with the endpoint's sessions and region."""

    def __init__(self, authenticator: S3Authenticator) -> None:
        self._authenticator = authenticator

    def authenticate(self, fields: Mapping[str, str], now: datetime) -> Session | None:
        """The session that signed the form (``None``: anonymous), or S3's error."""
        if any(name in fields for name in _SIGV2_FIELDS):
            raise InvalidRequest(
                "The authorization mechanism you have provided is not supported. "
                "Please use AWS4-HMAC-SHA256."
            )
        signature, policy = fields.get("x-amz-signature"), fields.get("policy")
        if signature is None and policy is None:
            return None
        if signature is None or policy is None:
            missing = "x-amz-signature" if signature is None else "policy"
            raise InvalidArgument(
                f"Bucket POST must contain a field named '{missing}'.", ArgumentName=missing
            )
        credential = self._credential(fields)
        session = self._session(credential, fields.get("x-amz-security-token"), now)
        key = canonical.signing_key(
            session.credentials.secret_access_key, credential.date, credential.region, SERVICE
        )
        expected = canonical.signature(key, policy)
        if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
            raise SignatureDoesNotMatch(
                AWSAccessKeyId=credential.access_key_id,
                StringToSign=policy,
                SignatureProvided=signature,
            )
        return session

    def _credential(self, fields: Mapping[str, str]) -> Credential:
        algorithm = fields.get("x-amz-algorithm")
        if algorithm != SIGV4:
            raise InvalidArgument(
                "POST form's x-amz-algorithm must be AWS4-HMAC-SHA256",
                ArgumentName="x-amz-algorithm",
                ArgumentValue=algorithm or "",
            )
        credential = parse_credential(fields.get("x-amz-credential", ""))
        date = fields.get("x-amz-date", "")
        if credential is None or parse_amz_date(date) is None:
            raise InvalidArgument(
                "POST form's x-amz-credential or x-amz-date is malformed",
                ArgumentName="x-amz-credential",
                ArgumentValue=fields.get("x-amz-credential", ""),
            )
        region = self._authenticator.region
        if (
            credential.date != date[:8]
            or credential.region != region
            or credential.service != SERVICE
            or credential.terminator != canonical.TERMINATOR
        ):
            raise InvalidArgument(
                f"POST form's x-amz-credential must be scoped to {date[:8]}/{region}/s3/"
                "aws4_request",
                ArgumentName="x-amz-credential",
                ArgumentValue=fields.get("x-amz-credential", ""),
            )
        return credential

    def _session(self, credential: Credential, token: str | None, now: datetime) -> Session:
        # The header form's key and token checks (S3Authenticator.session), reused so
        # both forms refuse the same credentials with the same errors.
        session = self._authenticator.session(credential.access_key_id, token)
        if session.expired(now):
            raise ExpiredToken(**{"Token-0": session.credentials.session_token or ""})
        return session
