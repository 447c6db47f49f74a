"""How an S3 request says it is signed, and what S3's policies see of its signature.

A request is signed in the ``Authorization`` header, in the query string with SigV4
(``X-Amz-Algorithm``, ``X-Amz-Credential``, ``X-Amz-Signature``...), in the query string
with SigV2 (``AWSAccessKeyId``, ``Signature``, ``Expires``), or not at all.
:func:`signing_form` tells which. The request reader asks it (a SigV2 URL's query-borne
headers count as headers, see :mod:`.sigv2`) and so does the authenticator, the same
way, so both read one request alike. Both forms at once are ``InvalidArgument`` ("Only
one auth mechanism allowed").

What a signature tells a policy (S3 API reference, "Amazon S3 Signature Version 4
Authentication Specific Policy Keys"), as :meth:`Signing.condition_keys`:

- ``s3:authType``: ``REST-HEADER`` or ``REST-QUERY-STRING``. (S3's third value,
  ``POST``, is for browser form uploads, which the local endpoint does not serve.)
- ``s3:signatureversion``: ``"AWS4-HMAC-SHA256" identifies Signature Version 4``,
  ``"AWS" identifies Signature Version 2``.
- ``s3:signatureAge``: "The length of time, in milliseconds, that a signature is valid
  in an authenticated request. This condition works for: Presigned URLs ... In
  Signature Version 2, this value is always set to 0." So: milliseconds since
  ``X-Amz-Date`` for a SigV4 presigned URL, ``0`` for SigV2, absent in the header form.
- ``s3:x-amz-content-sha256``: the payload hash a SigV4 signature covers (the header's
  value, or ``UNSIGNED-PAYLOAD``), so a policy can refuse unsigned bodies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum, StrEnum

from overcast.local.s3.errors import InvalidArgument

SIGV4 = "AWS4-HMAC-SHA256"
SIGV2 = "AWS"
# Any of these in the query makes it a SigV4 presigned request.
SIGV4_QUERY_MARKERS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature")
# Either of these (and none of the above) makes it a SigV2 presigned request.
SIGV2_QUERY_MARKERS = ("Signature", "AWSAccessKeyId")
_ONE_MILLISECOND = timedelta(milliseconds=1)


class Form(Enum):
    """Where a request carries its signature."""

    ANONYMOUS = "anonymous"
    HEADER = "header"  # Authorization: AWS4-HMAC-SHA256 ... (or a refused scheme)
    QUERY_V4 = "query-v4"
    QUERY_V2 = "query-v2"


class AuthType(StrEnum):
    """S3's ``s3:authType`` values for the forms the local endpoint serves."""

    REST_HEADER = "REST-HEADER"
    REST_QUERY_STRING = "REST-QUERY-STRING"


def signing_form(params: Mapping[str, str], authorization: str | None) -> Form:
    """The form of a request with these query parameters and ``Authorization`` header."""
    presigned_v4 = any(name in params for name in SIGV4_QUERY_MARKERS)
    if authorization is not None and presigned_v4:
        raise InvalidArgument(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
            "Signature query string parameter or the Authorization header should be specified",
            ArgumentName="Authorization",
            ArgumentValue=authorization,
        )
    if authorization is not None:
        return Form.HEADER
    if presigned_v4:
        return Form.QUERY_V4
    if any(name in params for name in SIGV2_QUERY_MARKERS):
        return Form.QUERY_V2
    return Form.ANONYMOUS


@dataclass(frozen=True)
class Signing:
    """How a request was signed: what its signature tells the policies."""

    auth_type: AuthType
    version: str  # SIGV4 or SIGV2
    age: timedelta | None = None  # since the signing time (presigned URLs only)
    content_sha256: str | None = None  # the payload hash a SigV4 signature covers

    @property
    def presigned(self) -> bool:
        return self.auth_type is AuthType.REST_QUERY_STRING

    def condition_keys(self) -> dict[str, str]:
        """The condition keys S3 gives a request signed so."""
        keys = {"s3:authType": self.auth_type.value, "s3:signatureversion": self.version}
        if self.age is not None:
            # A URL signed up to 15 minutes ahead of this clock is valid; its age is 0.
            keys["s3:signatureAge"] = str(max(0, self.age // _ONE_MILLISECOND))
        if self.content_sha256 is not None:
            keys["s3:x-amz-content-sha256"] = self.content_sha256
        return keys


def header_signing(content_sha256: str) -> Signing:
    """A SigV4 signature in the ``Authorization`` header."""
    return Signing(AuthType.REST_HEADER, SIGV4, content_sha256=content_sha256)


def query_signing(age: timedelta, content_sha256: str) -> Signing:
    """A SigV4 presigned URL signed ``age`` ago."""
    return Signing(AuthType.REST_QUERY_STRING, SIGV4, age, content_sha256)


def sigv2_query_signing() -> Signing:
    """A SigV2 presigned URL: its age is always 0 (it has no signing time)."""
    return Signing(AuthType.REST_QUERY_STRING, SIGV2, timedelta(0))
