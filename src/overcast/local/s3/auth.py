"""Who sent an S3 request, checked as S3 checks AWS Signature Version 4.

A request is signed in the ``Authorization`` header, or in the query string (a
presigned URL), or not at all (anonymous; bucket policies decide). Both signed
forms share one recomputation (:mod:`overcast.local.auth.signature`); what S3 adds:

- The canonical URI is the path exactly as sent: S3 neither normalizes nor
  double-encodes it. Every ``x-amz-*`` header present, and ``host``, must be
  signed, else ``AccessDenied`` with ``HeadersNotSigned``.
- Header form: ``x-amz-content-sha256`` is required ("Missing required header for
  this request: x-amz-content-sha256"); the request time is within 15 minutes of
  the server's (``RequestTimeTooSkewed`` with ``RequestTime``, ``ServerTime`` and
  ``MaxAllowedSkewMilliseconds``); the scope names this region and ``s3``
  (``AuthorizationHeaderMalformed``: "the region 'x' is wrong; expecting 'y'").
  A scheme other than ``AWS4-HMAC-SHA256`` is ``InvalidArgument`` "Unsupported
  Authorization Type"; SigV2 (``AWS key:sig``) is ``InvalidRequest``.
- Query form: ``X-Amz-Algorithm``, ``-Credential``, ``-Date``, ``-Expires``,
  ``-SignedHeaders`` and ``-Signature`` are all required, ``X-Amz-Expires`` is
  1..604800 seconds (``AuthorizationQueryParametersError``); the payload is
  ``UNSIGNED-PAYLOAD`` unless ``x-amz-content-sha256`` was signed along; past
  ``X-Amz-Date + X-Amz-Expires`` the URL is ``AccessDenied`` "Request has expired",
  more than 15 minutes before ``X-Amz-Date`` "Request is not yet valid".
- An unknown access key is ``InvalidAccessKeyId``, and so is a temporary key sent
  without its session token (S3 cannot resolve it); a wrong token, or one sent
  with long-term keys, is ``InvalidToken``; a session past its expiry is
  ``ExpiredToken``. A wrong signature is ``SignatureDoesNotMatch`` with
  ``AWSAccessKeyId``, ``StringToSign``, ``SignatureProvided``, ``CanonicalRequest``
  and their ``...Bytes`` forms, so a client author can see what was signed.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from overcast.local.auth import canonical
from overcast.local.auth.chunked import ChunkChain
from overcast.local.auth.signature import (
    AuthorizationHeader,
    Calculation,
    Credential,
    MalformedAuthorization,
    SignatureClaim,
    SignedParts,
    calculate,
    first_header,
    parse_amz_date,
    parse_authorization,
    parse_credential,
    request_time,
)
from overcast.local.iam.principals import Session
from overcast.local.s3 import sigv2
from overcast.local.s3.errors import (
    AccessDenied,
    AuthorizationHeaderMalformed,
    AuthorizationQueryParametersError,
    ExpiredToken,
    InvalidAccessKeyId,
    InvalidArgument,
    InvalidRequest,
    InvalidToken,
    RequestTimeTooSkewed,
    S3Error,
    SignatureDoesNotMatch,
)
from overcast.local.s3.payload import (
    SIGNED_STREAMING,
    UNSIGNED_PAYLOAD,
    Payload,
    check_content_sha256,
    payload_from_headers,
)

SERVICE = "s3"
MAX_SKEW = timedelta(minutes=15)
MAX_EXPIRES = 604800  # seven days, the longest a SigV4 presigned URL lives
QUERY_PARAMETERS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)
_SERVER_TIME = "%Y-%m-%dT%H:%M:%SZ"
# SigV2 in the Authorization header ("AWS key:signature"): no current SDK signs
# requests so, and S3 refuses it for every bucket created since June 2020.
_SIGV2 = (
    "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
)
_EXPECTED_CREDENTIAL = 'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
_HEADER_PREFIX = "The authorization header is malformed; "
_QUERY_PREFIX = "Error parsing the X-Amz-Credential parameter; "


@dataclass(frozen=True)
class S3Request:
    """The parts of an HTTP request that authenticate it, as the ASGI server received them."""

    method: str
    raw_path: str  # percent-encoded path exactly as sent (ASGI scope["raw_path"])
    raw_query: str  # scope["query_string"].decode("latin-1")
    headers: Sequence[tuple[str, str]]  # names lower-case, values as sent (latin-1 decoded)
    secure: bool  # over TLS (aws:SecureTransport)

    def header(self, name: str) -> str | None:
        """The first value of header ``name``, if sent."""
        return first_header(self.headers, name)


SessionLookup = Callable[[str], Session | None]


@dataclass(frozen=True)
class Authentication:
    """Who sent a request (``None``: anonymous) and how to check and decode its body."""

    session: Session | None
    payload: Payload
    presigned: bool


@dataclass(frozen=True)
class _Wording:
    """Where a scope problem is reported: the header form or the query form."""

    error: type[S3Error]
    prefix: str


_HEADER = _Wording(AuthorizationHeaderMalformed, _HEADER_PREFIX)
_QUERY = _Wording(AuthorizationQueryParametersError, _QUERY_PREFIX)


class S3Authenticator:
    """Authenticates S3 requests for one region; ``lookup`` finds sessions by access key id."""

    def __init__(
        self, lookup: SessionLookup, *, region: str, clock: Callable[[], datetime]
    ) -> None:
        self._lookup = lookup
        self._region = region
        self._clock = clock

    def authenticate(self, request: S3Request) -> Authentication:
        """The request's session and payload rules, or an :class:`S3Error`."""
        params = dict(canonical.query_pairs(request.raw_query))
        header = request.header("authorization")
        presigned = any(name in params for name in QUERY_PARAMETERS[:3])
        if header is not None and presigned:
            raise InvalidArgument(
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                "Signature query string parameter or the Authorization header should be specified",
                ArgumentName="Authorization",
                ArgumentValue=header,
            )
        if header is not None:
            return self._from_header(request, header)
        if presigned:
            return self._from_query(request, params)
        if "Signature" in params or "AWSAccessKeyId" in params:
            return self._from_sigv2_query(request, params)
        content_sha256 = request.header("x-amz-content-sha256")
        return Authentication(None, payload_from_headers(request.headers, content_sha256), False)

    def _from_header(self, request: S3Request, header: str) -> Authentication:
        parsed = _parse_header(header)
        content_sha256 = request.header("x-amz-content-sha256")
        if content_sha256 is None:
            raise InvalidRequest("Missing required header for this request: x-amz-content-sha256")
        check_content_sha256(content_sha256)
        try:
            moment, timestamp = request_time(request.headers)
        except MalformedAuthorization:
            raise AccessDenied(
                "AWS authentication requires a valid Date or x-amz-date header"
            ) from None
        claim = SignatureClaim(
            parsed.credential, parsed.signed_headers, parsed.signature, timestamp
        )
        self._check_scope(claim, _HEADER)
        _check_signed_headers(request, claim)
        session = self._session(
            claim.credential.access_key_id, request.header("x-amz-security-token")
        )
        now = self._clock()
        self._check_skew(request, moment, now)
        return self._finish(request, claim, session, now, content_sha256, presigned=False)

    def _from_query(self, request: S3Request, params: Mapping[str, str]) -> Authentication:
        claim, expires = self._query_claim(params)
        moment = parse_amz_date(claim.timestamp)
        assert moment is not None  # checked by _query_claim
        self._check_scope(claim, _QUERY)
        _check_signed_headers(request, claim)
        session = self._session(claim.credential.access_key_id, params.get("X-Amz-Security-Token"))
        now = self._clock()
        _check_validity(moment, expires, now)
        content_sha256 = request.header("x-amz-content-sha256") or UNSIGNED_PAYLOAD
        check_content_sha256(content_sha256)
        return self._finish(request, claim, session, now, content_sha256, presigned=True)

    def _finish(
        self,
        request: S3Request,
        claim: SignatureClaim,
        session: Session,
        now: datetime,
        content_sha256: str,
        *,
        presigned: bool,
    ) -> Authentication:
        if session.expired(now):
            token = session.credentials.session_token or ""
            raise ExpiredToken(**{"Token-0": token})
        credential = claim.credential
        key = canonical.signing_key(
            session.credentials.secret_access_key, credential.date, credential.region, SERVICE
        )
        parts = SignedParts(request.method, request.raw_path, request.raw_query, request.headers)
        calculation = calculate(
            claim, parts, content_sha256, key, double_encode_path=False, presigned=presigned
        )
        if not calculation.matches(claim.signature):
            raise _mismatch(credential.access_key_id, claim.signature, calculation)
        chain = None
        if content_sha256 in SIGNED_STREAMING:
            chain = ChunkChain(key, claim.timestamp, credential.scope, claim.signature)
        payload = payload_from_headers(request.headers, content_sha256, chain)
        return Authentication(session, payload, presigned)

    def _from_sigv2_query(self, request: S3Request, params: Mapping[str, str]) -> Authentication:
        """A Signature Version 2 presigned URL, as botocore makes by default (see sigv2)."""
        claim = sigv2.read_claim(params)
        session = self._session(claim.access_key_id, claim.security_token)
        now = self._clock()
        sigv2.check_expiry(claim, now)
        if session.expired(now):
            raise ExpiredToken(**{"Token-0": session.credentials.session_token or ""})
        to_sign = sigv2.string_to_sign(
            request.method,
            request.raw_path,
            canonical.query_pairs(request.raw_query),
            request.headers,
            claim.expires,
        )
        expected = sigv2.signature(session.credentials.secret_access_key, to_sign)
        if not sigv2.matches(expected, claim.signature):
            raise SignatureDoesNotMatch(
                AWSAccessKeyId=claim.access_key_id,
                StringToSign=to_sign,
                SignatureProvided=claim.signature,
                StringToSignBytes=_hex_bytes(to_sign),
            )
        return Authentication(
            session, payload_from_headers(request.headers, UNSIGNED_PAYLOAD), True
        )

    def _query_claim(self, params: Mapping[str, str]) -> tuple[SignatureClaim, int]:
        if any(name not in params for name in QUERY_PARAMETERS):
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
                f"{_QUERY_PREFIX}the Credential is mal-formed; {_EXPECTED_CREDENTIAL}"
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

    def _check_scope(self, claim: SignatureClaim, wording: _Wording) -> None:
        problem = self._scope_problem(claim.credential, claim.timestamp)
        if problem is not None:
            reason, details = problem
            raise wording.error(wording.prefix + reason, **details)

    def _scope_problem(
        self, credential: Credential, timestamp: str
    ) -> tuple[str, dict[str, str]] | None:
        if credential.date != timestamp[:8]:
            return (
                f'Invalid credential date "{credential.date}". This date is not the same as '
                f'X-Amz-Date: "{timestamp[:8]}".',
                {},
            )
        if credential.region != self._region:
            return (
                f"the region '{credential.region}' is wrong; expecting '{self._region}'",
                {"Region": self._region},
            )
        if credential.service != SERVICE:
            return (f'incorrect service "{credential.service}". This endpoint belongs to "s3".', {})
        if credential.terminator != canonical.TERMINATOR:
            return (
                f'incorrect terminal "{credential.terminator}". This endpoint uses "aws4_request".',
                {},
            )
        return None

    def _session(self, access_key_id: str, token: str | None) -> Session:
        session = self._lookup(access_key_id)
        expected = None if session is None else session.credentials.session_token
        if session is None or (expected is not None and token is None):
            # A temporary key is known only together with its token.
            raise InvalidAccessKeyId(AWSAccessKeyId=access_key_id)
        if token is not None and (
            expected is None or not hmac.compare_digest(token.encode(), expected.encode())
        ):
            raise InvalidToken(**{"Token-0": token})
        return session

    def _check_skew(self, request: S3Request, moment: datetime, now: datetime) -> None:
        if abs(moment - now) <= MAX_SKEW:
            return
        sent = request.header("x-amz-date") or request.header("date") or ""
        raise RequestTimeTooSkewed(
            RequestTime=sent,
            ServerTime=now.strftime(_SERVER_TIME),
            MaxAllowedSkewMilliseconds=str(int(MAX_SKEW.total_seconds() * 1000)),
        )


def _parse_header(header: str) -> AuthorizationHeader:
    try:
        return parse_authorization(header)
    except MalformedAuthorization as error:
        raise _header_error(header, error) from None


def _header_error(header: str, error: MalformedAuthorization) -> S3Error:
    if error.problem == "algorithm":
        if header.startswith("AWS "):
            return InvalidRequest(_SIGV2)
        return InvalidArgument(
            "Unsupported Authorization Type", ArgumentName="Authorization", ArgumentValue=header
        )
    if error.problem == "credential":
        reason = f"the Credential is mal-formed; {_EXPECTED_CREDENTIAL}"
    else:
        reason = (
            "the authorization header requires three components: "
            "Credential, SignedHeaders, and Signature."
        )
    return AuthorizationHeaderMalformed(_HEADER_PREFIX + reason)


def _check_signed_headers(request: S3Request, claim: SignatureClaim) -> None:
    """Every ``x-amz-*`` header sent, and ``host``, must be covered by the signature."""
    signed = set(claim.signed_headers)
    sent = {name.lower() for name, _ in request.headers}
    unsigned = {name for name in sent if name.startswith("x-amz-")} | {"host"}
    missing = sorted(unsigned - signed)
    if missing:
        raise AccessDenied(
            "There were headers present in the request which were not signed",
            HeadersNotSigned=", ".join(missing),
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


def _check_validity(signed_at: datetime, expires: int, now: datetime) -> None:
    expiry = signed_at + timedelta(seconds=expires)
    if now > expiry:
        raise AccessDenied(
            "Request has expired",
            **{
                "X-Amz-Expires": str(expires),
                "Expires": expiry.strftime(_SERVER_TIME),
                "ServerTime": now.strftime(_SERVER_TIME),
            },
        )
    if signed_at > now + MAX_SKEW:
        # S3 reports X-Amz-Date here in epoch milliseconds.
        raise AccessDenied(
            "Request is not yet valid",
            **{
                "X-Amz-Date": str(int(signed_at.timestamp() * 1000)),
                "Expires": expiry.strftime(_SERVER_TIME),
                "ServerTime": now.strftime(_SERVER_TIME),
            },
        )


def _mismatch(access_key_id: str, provided: str, calculation: Calculation) -> S3Error:
    return SignatureDoesNotMatch(
        AWSAccessKeyId=access_key_id,
        StringToSign=calculation.string_to_sign,
        SignatureProvided=provided,
        StringToSignBytes=_hex_bytes(calculation.string_to_sign),
        CanonicalRequest=calculation.canonical_request,
        CanonicalRequestBytes=_hex_bytes(calculation.canonical_request),
    )


def _hex_bytes(text: str) -> str:
    return " ".join(f"{byte:02x}" for byte in text.encode("utf-8"))
