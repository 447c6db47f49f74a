"""The error scaffolding the local AWS APIs share: a base, a class factory, SigV4 failures.

Every AWS API answers an error with a code, an HTTP status, a fault (``Sender`` or
``Receiver``, the query protocol's ``<Type>``) and a message; each API's
``errors`` module declares its own tree under its own base (``StsError``,
``SqsError``, ...), so ``except SqsError`` catches SQS's errors only, and renders
it in its own protocol. This module holds what those trees share:

AwsError                          ``code``, ``status``, ``fault``, ``default_message``
├── StsError / SnsError / CloudFrontError   query-protocol XML
├── SqsError / DynamoDbError      JSON ``__type`` (+ a namespace)
├── CognitoError                  JSON 1.1 (user pools and identity pools)
└── S3Error                       S3's own XML (+ ``details``)

:func:`error_class` makes one error class of a base, named after its code, and
:class:`SignatureErrors` makes the five classes every signed API answers a failed
SigV4 check with, and maps
:mod:`overcast.local.auth.sigv4`'s ``SignatureError`` to them. AWS names them two
ways: the query protocol's codes (``InvalidClientTokenId``) and the JSON
protocols' coral shapes (``UnrecognizedClientException``); the statuses are 403
except ``IncompleteSignature``'s 400, and DynamoDB answers all of them with 400.
"""

from __future__ import annotations

from typing import ClassVar, Generic, NamedTuple, TypeVar

from overcast.local.auth.sigv4 import (
    IncompleteSignature,
    MissingAuthenticationToken,
    SignatureError,
    UnrecognizedClient,
)

# AWS's wording, as its endpoints answer (and clients show) these failures.
MISSING_TOKEN_MESSAGE = "Request is missing Authentication Token"
INVALID_TOKEN_MESSAGE = "The security token included in the request is invalid."
EXPIRED_TOKEN_MESSAGE = "The security token included in the request is expired"


class AwsError(Exception):
    """An AWS error response; subclasses fix ``code``, ``status`` and ``fault``."""

    code: ClassVar[str] = "InternalFailure"
    status: ClassVar[int] = 400
    fault: ClassVar[str] = "Sender"
    default_message: ClassVar[str] = ""

    def __init__(self, message: str | None = None) -> None:
        self.message = message if message is not None else self.default_message
        super().__init__(self.message)


E = TypeVar("E", bound=AwsError)


def error_class(
    base: type[E],
    code: str,
    status: int,
    message: str = "",
    fault: str = "Sender",
    **extra: object,
) -> type[E]:
    """A subclass of ``base`` named ``code``; ``extra`` sets further class attributes
    the base declares (SQS's ``query_code``, a JSON namespace, ...)."""
    attributes = {"code": code, "status": status, "default_message": message, "fault": fault}
    return type(code, (base,), {**attributes, **extra})


class SignatureCodes(NamedTuple):
    """The codes of the five SigV4 failures, in one protocol's spelling."""

    missing: str
    incomplete: str
    unrecognized: str
    mismatch: str
    expired: str


QUERY_CODES = SignatureCodes(
    "MissingAuthenticationToken",
    "IncompleteSignature",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
)
JSON_CODES = SignatureCodes(
    "MissingAuthenticationTokenException",
    "IncompleteSignatureException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
)


class SignatureErrors(Generic[E]):
    """The five SigV4 failures of one API, as subclasses of its ``base``.

    ``codes`` picks the spelling (:data:`QUERY_CODES` or :data:`JSON_CODES`);
    ``status`` overrides every status (DynamoDB's 400); ``query_compatible`` also sets
    each class's ``query_code`` to the query protocol's code (SQS's
    ``x-amzn-query-error``); ``extra`` sets further attributes on all five.
    """

    def __init__(
        self,
        base: type[E],
        codes: SignatureCodes = QUERY_CODES,
        *,
        missing_message: str = MISSING_TOKEN_MESSAGE,
        status: int | None = None,
        query_compatible: bool = False,
        **extra: object,
    ) -> None:
        def make(code: str, query_code: str, default_status: int, message: str = "") -> type[E]:
            attributes = {**extra, "query_code": query_code} if query_compatible else extra
            return error_class(
                base, code, status or default_status, message, "Sender", **attributes
            )

        query = QUERY_CODES
        self.missing = make(codes.missing, query.missing, 403, missing_message)
        self.incomplete = make(codes.incomplete, query.incomplete, 400)
        self.unrecognized = make(codes.unrecognized, query.unrecognized, 403, INVALID_TOKEN_MESSAGE)
        self.mismatch = make(codes.mismatch, query.mismatch, 403)
        self.expired = make(codes.expired, query.expired, 403, EXPIRED_TOKEN_MESSAGE)

    def from_signature_error(self, error: SignatureError) -> E:
        """The API's error for a request whose SigV4 signature did not check out."""
        if isinstance(error, MissingAuthenticationToken):
            return self.missing()
        if isinstance(error, IncompleteSignature):
            return self.incomplete(error.message)
        if isinstance(error, UnrecognizedClient):
            return self.unrecognized()
        return self.mismatch(error.message)
