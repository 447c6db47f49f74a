"""What a SigV4 signature claims, and the signature recomputed from the request.

A request carries its signature in one of two forms that differ only in where the
fields travel (AWS IAM user guide, "Signature Version 4"; S3 API reference,
"Authenticating Requests"):

- the **Authorization header**: ``AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/
  <service>/aws4_request, SignedHeaders=<a;b;c>, Signature=<hex>``, with the time in
  ``X-Amz-Date`` (ISO 8601 basic) or ``Date``;
- the **query string** (a presigned URL): ``X-Amz-Algorithm``, ``X-Amz-Credential``,
  ``X-Amz-Date``, ``X-Amz-SignedHeaders``, ``X-Amz-Signature`` (and ``X-Amz-Expires``),
  where "the canonical query string must include all the query parameters except
  ``X-Amz-Signature``".

Both parse into a :class:`SignatureClaim`; :func:`calculate` recomputes the signature
of either one the same way. Parsing problems raise :class:`MalformedAuthorization`
with a ``problem`` tag, so each endpoint words the error in its own dialect (the
JSON services' ``IncompleteSignatureException``, S3's ``AuthorizationHeaderMalformed``).
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal

from overcast.local.auth import canonical

ISO_BASIC = "%Y%m%dT%H%M%SZ"
SIGNATURE_PARAMETER = "X-Amz-Signature"

Problem = Literal["algorithm", "pair", "missing", "credential", "date"]


class MalformedAuthorization(ValueError):
    """The signature fields cannot be parsed; ``problem`` tells which part is wrong."""

    def __init__(self, problem: Problem, message: str, *, missing: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message
        self.missing = tuple(missing)


@dataclass(frozen=True)
class Credential:
    """``<access key id>/<date>/<region>/<service>/<terminator>``."""

    access_key_id: str
    date: str
    region: str
    service: str
    terminator: str

    @property
    def scope(self) -> str:
        """The credential scope, as it appears in the string to sign."""
        return f"{self.date}/{self.region}/{self.service}/{self.terminator}"


def parse_credential(value: str) -> Credential | None:
    """The five slash-separated parts of a credential, or ``None`` when malformed."""
    parts = value.split("/")
    if len(parts) != 5 or not all(parts):
        return None
    return Credential(*parts)


@dataclass(frozen=True)
class SignatureClaim:
    """What a request says it was signed with, whichever form carried it."""

    credential: Credential
    signed_headers: tuple[str, ...]
    signature: str
    timestamp: str  # ISO 8601 basic, as it entered the string to sign


@dataclass(frozen=True)
class AuthorizationHeader:
    """The fields of an ``AWS4-HMAC-SHA256`` Authorization header."""

    credential: Credential
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(header: str) -> AuthorizationHeader:
    """Split an Authorization header into its fields, or raise :class:`MalformedAuthorization`."""
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != canonical.ALGORITHM:
        raise MalformedAuthorization("algorithm", f"Unsupported AWS 'algorithm': '{algorithm}'.")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, equals, value = part.strip().partition("=")
        if not equals:
            raise MalformedAuthorization(
                "pair",
                f"Invalid key=value pair (missing equal-sign) in Authorization header: '{part}'.",
            )
        fields[name] = value
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if name not in fields]
    if missing:
        required = " ".join(
            f"Authorization header requires '{name}' parameter." for name in missing
        )
        raise MalformedAuthorization(
            "missing", f"{required} Authorization={header}", missing=missing
        )
    credential = parse_credential(fields["Credential"])
    if credential is None:
        raise MalformedAuthorization(
            "credential",
            "Credential must have exactly 5 slash-delimited elements, e.g. "
            f"keyid/date/region/service/term, got '{fields['Credential']}'",
        )
    return AuthorizationHeader(
        credential, tuple(fields["SignedHeaders"].split(";")), fields["Signature"]
    )


def parse_amz_date(value: str) -> datetime | None:
    """An ISO 8601 basic timestamp (``20130524T000000Z``), or ``None`` when malformed."""
    try:
        return datetime.strptime(value, ISO_BASIC).replace(tzinfo=UTC)
    except ValueError:
        return None


def first_header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    """The first value of header ``name`` (case-insensitive), if any."""
    wanted = name.lower()
    return next((value for key, value in headers if key.lower() == wanted), None)


def request_time(headers: Sequence[tuple[str, str]]) -> tuple[datetime, str]:
    """The signed request time: ``X-Amz-Date``, else ``Date`` (an HTTP date)."""
    amz_date = first_header(headers, "x-amz-date")
    if amz_date is not None:
        moment = parse_amz_date(amz_date)
        if moment is None:
            raise MalformedAuthorization(
                "date", f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'."
            )
        return moment, amz_date
    http_date = first_header(headers, "date")
    if http_date is None:
        raise MalformedAuthorization(
            "date",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        )
    try:
        moment = parsedate_to_datetime(http_date).astimezone(UTC)
    except (TypeError, ValueError):
        raise MalformedAuthorization(
            "date", f"Date header is not an HTTP date: '{http_date}'."
        ) from None
    return moment, moment.strftime(ISO_BASIC)


@dataclass(frozen=True)
class SignedParts:
    """The parts of a request a signature covers; ``path`` and ``query`` raw, as sent.

    ``pairs`` is the query as the endpoint decoded it (with :func:`canonical.query_pairs`)
    to serve the request, so that the signature covers exactly what is served; ``None``
    decodes ``query`` here.
    """

    method: str
    path: str
    query: str
    headers: Sequence[tuple[str, str]]
    pairs: Sequence[tuple[str, str]] | None = None

    def query_pairs(self) -> Sequence[tuple[str, str]]:
        return canonical.query_pairs(self.query) if self.pairs is None else self.pairs


@dataclass(frozen=True)
class Calculation:
    """The signature recomputed from the request, and how it was computed."""

    canonical_request: str
    string_to_sign: str
    signature: str

    def matches(self, claimed: str) -> bool:
        """Whether ``claimed`` is this signature (compared in constant time)."""
        return hmac.compare_digest(self.signature.encode(), claimed.encode())


def calculate(
    claim: SignatureClaim,
    request: SignedParts,
    payload_hash: str,
    key: bytes,
    *,
    double_encode_path: bool = True,
    presigned: bool = False,
) -> Calculation:
    """Recompute ``claim``'s signature over ``request`` with the derived signing ``key``."""
    pairs = request.query_pairs()
    if presigned:
        pairs = [(name, value) for name, value in pairs if name != SIGNATURE_PARAMETER]
    signed = sorted(claim.signed_headers)
    canonical_request = canonical.canonical_request(
        request.method,
        canonical.canonical_path(request.path, double_encode=double_encode_path),
        canonical.canonical_query(pairs),
        canonical.canonical_headers(request.headers, signed),
        signed,
        payload_hash,
    )
    to_sign = canonical.string_to_sign(claim.timestamp, claim.credential.scope, canonical_request)
    return Calculation(canonical_request, to_sign, canonical.signature(key, to_sign))
