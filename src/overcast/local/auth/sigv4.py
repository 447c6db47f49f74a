"""Verify AWS Signature Version 4 on an incoming request, as an AWS endpoint does.

The verifier recomputes the signature from the request with the secret found for
the access key id and compares it in constant time; the parsing and the
recomputation live in :mod:`overcast.local.auth.signature`, shared with S3's
header and query-string (presigned) forms. What it mirrors from AWS:

- The ``Authorization`` header ``AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/
  <service>/aws4_request, SignedHeaders=<a;b;c>, Signature=<hex>``; a missing
  header is ``MissingAuthenticationTokenException``, a malformed one
  ``IncompleteSignatureException``.
- The request time comes from ``X-Amz-Date`` (ISO 8601 basic), else ``Date``; it
  must be within 15 minutes of the server's clock ("Signature expired" /
  "Signature not yet current"), and its day must be the credential scope's day.
- The scope must name this endpoint's region and service and end in
  ``aws4_request``; ``host`` must be a signed header.
- An unknown access key id, or a session token that does not belong to the key,
  is ``UnrecognizedClientException``.
- The payload hash is ``X-Amz-Content-SHA256`` when sent (and checked against the
  body when it is a hash), else the SHA-256 of the body. ``UNSIGNED-PAYLOAD`` and
  ``STREAMING-*`` are accepted only where the endpoint allows them (S3).

Errors carry AWS's code and message; the JSON services answer them with HTTP 400.
S3 renders the same errors in its own XML dialect (``SignatureDoesNotMatch``,
``RequestTimeTooSkewed``), mapping by exception class.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from overcast.local.auth import canonical
from overcast.local.auth.signature import (
    ISO_BASIC,
    MalformedAuthorization,
    SignatureClaim,
    SignedParts,
    calculate,
    first_header,
    parse_authorization,
    request_time,
)

MAX_SKEW = timedelta(minutes=15)
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_PREFIX = "STREAMING-"
_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)


@dataclass(frozen=True)
class Credentials:
    """An access key pair, and the session token of temporary credentials."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


CredentialsLookup = Callable[[str], Credentials | None]


@dataclass(frozen=True)
class SignedRequest:
    """What the signature covers: ``path`` and ``query`` raw, exactly as sent."""

    method: str
    path: str
    query: str
    headers: Sequence[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), if any."""
        return first_header(self.headers, name)


@dataclass(frozen=True)
class VerifiedSignature:
    """A request whose signature checked out, and what it was signed with."""

    credentials: Credentials
    timestamp: datetime
    date: str
    region: str
    service: str
    signature: str
    payload_hash: str
    signing_key: bytes  # for checking aws-chunked payload signatures that chain on this one


class SignatureError(Exception):
    """A request is unsigned or its signature is not valid; ``code`` is AWS's."""

    code: ClassVar[str] = "InvalidSignatureException"
    status: ClassVar[int] = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MissingAuthenticationToken(SignatureError):
    code = "MissingAuthenticationTokenException"


class IncompleteSignature(SignatureError):
    code = "IncompleteSignatureException"


class UnrecognizedClient(SignatureError):
    code = "UnrecognizedClientException"


class InvalidSignature(SignatureError):
    code = "InvalidSignatureException"


class SignatureExpired(InvalidSignature):
    """The request time is more than 15 minutes away (S3: ``RequestTimeTooSkewed``)."""


class PayloadHashMismatch(SignatureError):
    code = "XAmzContentSHA256Mismatch"


class SigV4Verifier:
    """Checks requests signed for one ``service`` in one ``region``.

    ``lookup`` returns the credentials of an access key id, or ``None`` when the
    key is unknown. ``double_encode_path=False`` and ``allow_unsigned_payload=True``
    give S3's rules.
    """

    def __init__(
        self,
        lookup: CredentialsLookup,
        *,
        service: str,
        region: str,
        clock: Callable[[], datetime],
        double_encode_path: bool = True,
        allow_unsigned_payload: bool = False,
        max_skew: timedelta = MAX_SKEW,
    ) -> None:
        self._lookup = lookup
        self._service = service
        self._region = region
        self._clock = clock
        self._double_encode_path = double_encode_path
        self._allow_unsigned_payload = allow_unsigned_payload
        self._max_skew = max_skew

    def verify(self, request: SignedRequest) -> VerifiedSignature:
        """Return what ``request`` was signed with, or raise :class:`SignatureError`."""
        header = request.header("authorization")
        if header is None:
            raise MissingAuthenticationToken("Missing Authentication Token")
        try:
            parsed = parse_authorization(header)
            moment, timestamp = request_time(request.headers)
        except MalformedAuthorization as error:
            raise IncompleteSignature(error.message) from None
        claim = SignatureClaim(
            parsed.credential, parsed.signed_headers, parsed.signature, timestamp
        )
        self._check_scope(claim)
        credentials = self._credentials(claim.credential.access_key_id, request)
        self._check_time(moment, timestamp)
        payload_hash = self._payload_hash(request)
        key = canonical.signing_key(
            credentials.secret_access_key, claim.credential.date, self._region, self._service
        )
        self._check_signature(request, claim, payload_hash, key)
        return VerifiedSignature(
            credentials=credentials,
            timestamp=moment,
            date=claim.credential.date,
            region=claim.credential.region,
            service=claim.credential.service,
            signature=claim.signature,
            payload_hash=payload_hash,
            signing_key=key,
        )

    def _check_scope(self, claim: SignatureClaim) -> None:
        credential, day = claim.credential, claim.timestamp[:8]
        if credential.date != day:
            raise InvalidSignature(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                f"date from HTTP: '{credential.date}' != '{day}', from '{claim.timestamp}'."
            )
        if credential.region != self._region:
            raise InvalidSignature(
                f"Credential should be scoped to a valid region, not '{credential.region}'."
            )
        if credential.service != self._service:
            raise InvalidSignature(
                f"Credential should be scoped to correct service: '{self._service}'."
            )
        if credential.terminator != canonical.TERMINATOR:
            raise InvalidSignature(
                "Credential should be scoped with a valid terminator: 'aws4_request', "
                f"not '{credential.terminator}'."
            )
        if "host" not in claim.signed_headers:
            raise InvalidSignature(
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
            )

    def _credentials(self, access_key_id: str, request: SignedRequest) -> Credentials:
        credentials = self._lookup(access_key_id)
        token = request.header("x-amz-security-token")
        if credentials is None or not _same(token, credentials.session_token):
            raise UnrecognizedClient("The security token included in the request is invalid.")
        return credentials

    def _check_time(self, moment: datetime, timestamp: str) -> None:
        now = self._clock()
        stamp = now.strftime(ISO_BASIC)
        if moment < now - self._max_skew:
            earliest = (now - self._max_skew).strftime(ISO_BASIC)
            raise SignatureExpired(
                f"Signature expired: {timestamp} is now earlier than {earliest} ({stamp} - 15 min.)"
            )
        if moment > now + self._max_skew:
            latest = (now + self._max_skew).strftime(ISO_BASIC)
            raise SignatureExpired(
                f"Signature not yet current: {timestamp} is still later than {latest} "
                f"({stamp} + 15 min.)"
            )

    def _payload_hash(self, request: SignedRequest) -> str:
        actual = hashlib.sha256(request.body).hexdigest()
        declared = request.header("x-amz-content-sha256")
        if declared is None:
            return actual
        if declared == UNSIGNED_PAYLOAD or declared.startswith(STREAMING_PREFIX):
            if not self._allow_unsigned_payload:
                raise InvalidSignature(f"x-amz-content-sha256 '{declared}' is not accepted here.")
            return declared
        if not hmac.compare_digest(declared.lower().encode(), actual.encode()):
            raise PayloadHashMismatch(
                "The provided 'x-amz-content-sha256' header does not match what was computed."
            )
        return declared

    def _check_signature(
        self, request: SignedRequest, claim: SignatureClaim, payload_hash: str, key: bytes
    ) -> None:
        parts = SignedParts(request.method, request.path, request.query, request.headers)
        calculation = calculate(
            claim, parts, payload_hash, key, double_encode_path=self._double_encode_path
        )
        if not calculation.matches(claim.signature):
            # AWS's JSON services show the canonical request and string to sign, so a
            # client author can see where their signing went wrong; neither is secret.
            raise InvalidSignature(
                f"{_MISMATCH}\n\nThe Canonical String for this request should have been\n"
                f"'{calculation.canonical_request}'\n\nThe String-to-Sign should have been\n"
                f"'{calculation.string_to_sign}'\n"
            )


def _same(given: str | None, expected: str | None) -> bool:
    if given is None or expected is None:
        return given is expected
    return hmac.compare_digest(given.encode(), expected.encode())
