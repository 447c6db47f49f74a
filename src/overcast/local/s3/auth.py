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
- Query form: its parameters and validity window are :mod:`.sigv4_query`'s; the
  payload is ``UNSIGNED-PAYLOAD`` unless ``x-amz-content-sha256`` was signed along.
  A SigV2 presigned URL (``AWSAccessKeyId``, ``Signature``, ``Expires``) is checked
  as :mod:`.sigv2` says.
- The query is the one the request reader decoded (:func:`.requests.decode_query`):
  the signature covers exactly the parameters the operation is served with.
- What the signature tells the policies (``s3:authType``, ``s3:signatureversion``,
  ``s3:signatureAge``, ``s3:x-amz-content-sha256``) comes out as the
  :class:`~.signing.Signing` of the :class:`Authentication`.
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
from datetime import datetime

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
    request_time,
)
from overcast.local.iam.principals import Session
from overcast.local.s3 import sigv2, sigv4_query
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
from overcast.local.s3.requests import decode_query, single_valued
from overcast.local.s3.signing import (
    Form,
    Signing,
    header_signing,
    query_signing,
    signing_form,
    sigv2_query_signing,
)

SERVICE = "s3"
MAX_SKEW = sigv4_query.MAX_SKEW
_SERVER_TIME = sigv4_query.SERVER_TIME
# SigV2 in the Authorization header ("AWS key:signature"): no current SDK signs
# requests so, and S3 refuses it for every bucket created since June 2020.
_SIGV2 = (
    "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
)
_EXPECTED_CREDENTIAL = sigv4_query.EXPECTED_CREDENTIAL
_HEADER_PREFIX = "The authorization header is malformed; "
_QUERY_PREFIX = sigv4_query.CREDENTIAL_PREFIX


@dataclass(frozen=True)
class S3Request:
    """The parts of an HTTP request that authenticate it, as the ASGI server received them."""

    method: str
    raw_path: str  # percent-encoded path exactly as sent (ASGI scope["raw_path"])
    raw_query: str  # scope["query_string"].decode("latin-1")
    headers: Sequence[tuple[str, str]]  # names lower-case, values as sent (latin-1 decoded)
    secure: bool  # over TLS (aws:SecureTransport)
    # The query as the endpoint decoded it to serve the request (S3Call.query_pairs);
    # None: decoded here, the same way.
    query: Sequence[tuple[str, str]] | None = None

    def header(self, name: str) -> str | None:
        """The first value of header ``name``, if sent."""
        return first_header(self.headers, name)

    def query_pairs(self) -> Sequence[tuple[str, str]]:
        return decode_query(self.raw_query) if self.query is None else self.query


SessionLookup = Callable[[str], Session | None]


@dataclass(frozen=True)
class Authentication:
    """Who sent a request (``None``: anonymous), how to check and decode its body, and
    how it was signed (``None``: not at all)."""

    session: Session | None
    payload: Payload
    signing: Signing | None = None

    @property
    def presigned(self) -> bool:
        return self.signing is not None and self.signing.presigned


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
        self.region = region
        self._clock = clock

    def authenticate(self, request: S3Request) -> Authentication:
        """The request's session and payload rules, or an :class:`S3Error`."""
        pairs = request.query_pairs()
        params = single_valued(pairs)
        header = request.header("authorization")
        form = signing_form(params, header)
        if header is not None:
            return self._from_header(request, header)
        if form is Form.QUERY_V4:
            return self._from_query(request, params)
        if form is Form.QUERY_V2:
            return self._from_sigv2_query(request, params)
        content_sha256 = request.header("x-amz-content-sha256")
        return Authentication(None, payload_from_headers(request.headers, content_sha256))

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
        session = self.session(
            claim.credential.access_key_id, request.header("x-amz-security-token")
        )
        now = self._clock()
        self._check_skew(request, moment, now)
        return self._finish(request, claim, session, now, header_signing(content_sha256))

    def _from_query(self, request: S3Request, params: Mapping[str, str]) -> Authentication:
        claim, expires = sigv4_query.read_claim(params)
        moment = parse_amz_date(claim.timestamp)
        assert moment is not None  # checked by read_claim
        self._check_scope(claim, _QUERY)
        _check_signed_headers(request, claim)
        session = self.session(claim.credential.access_key_id, params.get("X-Amz-Security-Token"))
        now = self._clock()
        sigv4_query.check_validity(moment, expires, now)
        content_sha256 = request.header("x-amz-content-sha256") or UNSIGNED_PAYLOAD
        check_content_sha256(content_sha256)
        signing = query_signing(now - moment, content_sha256)
        return self._finish(request, claim, session, now, signing)

    def _finish(
        self,
        request: S3Request,
        claim: SignatureClaim,
        session: Session,
        now: datetime,
        signing: Signing,
    ) -> Authentication:
        content_sha256 = signing.content_sha256 or UNSIGNED_PAYLOAD
        if session.expired(now):
            token = session.credentials.session_token or ""
            raise ExpiredToken(**{"Token-0": token})
        credential = claim.credential
        key = canonical.signing_key(
            session.credentials.secret_access_key, credential.date, credential.region, SERVICE
        )
        parts = SignedParts(
            request.method,
            request.raw_path,
            request.raw_query,
            request.headers,
            request.query_pairs(),
        )
        presigned = signing.presigned
        calculation = calculate(
            claim, parts, content_sha256, key, double_encode_path=False, presigned=presigned
        )
        if not calculation.matches(claim.signature):
            raise _mismatch(credential.access_key_id, claim.signature, calculation)
        chain = None
        if content_sha256 in SIGNED_STREAMING:
            chain = ChunkChain(key, claim.timestamp, credential.scope, claim.signature)
        payload = payload_from_headers(request.headers, content_sha256, chain)
        return Authentication(session, payload, signing)

    def _from_sigv2_query(self, request: S3Request, params: Mapping[str, str]) -> Authentication:
        """A Signature Version 2 presigned URL, as botocore makes by default (see sigv2)."""
        claim = sigv2.read_claim(params)
        session = self.session(claim.access_key_id, claim.security_token)
        now = self._clock()
        sigv2.check_expiry(claim, now)
        if session.expired(now):
            raise ExpiredToken(**{"Token-0": session.credentials.session_token or ""})
        pairs = request.query_pairs()
        headers = sigv2.with_query_headers(request.headers, pairs)
        to_sign = sigv2.string_to_sign(
            request.method, request.raw_path, pairs, headers, claim.expires
        )
        expected = sigv2.signature(session.credentials.secret_access_key, to_sign)
        if not sigv2.matches(expected, claim.signature):
            raise SignatureDoesNotMatch(
                AWSAccessKeyId=claim.access_key_id,
                StringToSign=to_sign,
                SignatureProvided=claim.signature,
                StringToSignBytes=_hex_bytes(to_sign),
            )
        payload = payload_from_headers(headers, UNSIGNED_PAYLOAD)
        return Authentication(session, payload, sigv2_query_signing())

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
        if credential.region != self.region:
            return (
                f"the region '{credential.region}' is wrong; expecting '{self.region}'",
                {"Region": self.region},
            )
        if credential.service != SERVICE:
            return (f'incorrect service "{credential.service}". This endpoint belongs to "s3".', {})
        if credential.terminator != canonical.TERMINATOR:
            return (
                f'incorrect terminal "{credential.terminator}". This endpoint uses "aws4_request".',
                {},
            )
        return None

    def session(self, access_key_id: str, token: str | None) -> Session:
        """The session of ``access_key_id`` presented with ``token`` (S3's errors otherwise)."""
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
