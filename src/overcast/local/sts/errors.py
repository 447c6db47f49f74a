"""STS's errors: a code, an HTTP status and a message, rendered as the query protocol's XML.

Codes and statuses are STS's (botocore's ``sts`` model for the modelled ones,
AWS's common errors for the rest):

StsError
├── ValidationError (400)            a parameter is missing or breaks its constraint
├── InvalidAction (400)              no such Action (or Version)
├── InvalidIdentityToken (400)       the web identity token is not a valid token
├── ExpiredTokenException (400)      the web identity token is past its exp
├── AccessDenied (403)               the role does not exist or does not trust the caller
├── MissingAuthenticationToken (403) an unsigned request to a signed action
├── IncompleteSignature (400)        a malformed Authorization header
├── InvalidClientTokenId (403)       unknown access key, wrong or missing session token
├── SignatureDoesNotMatch (403)      the signature (or its time) does not check out
├── ExpiredToken (403)               temporary credentials past their expiration
├── RequestEntityTooLarge (413)
└── InternalFailure (500, Receiver)  a bug
"""

from __future__ import annotations

from typing import ClassVar

from overcast.local.auth.sigv4 import (
    IncompleteSignature,
    MissingAuthenticationToken,
    SignatureError,
    UnrecognizedClient,
)


class StsError(Exception):
    """An STS error response; subclasses fix ``code`` and ``status``."""

    code: ClassVar[str] = "InternalFailure"
    status: ClassVar[int] = 400
    fault: ClassVar[str] = "Sender"
    default_message: ClassVar[str] = ""

    def __init__(self, message: str | None = None) -> None:
        self.message = message if message is not None else self.default_message
        super().__init__(self.message)


def _error(code: str, status: int, message: str = "", fault: str = "Sender") -> type[StsError]:
    attributes = {"code": code, "status": status, "default_message": message, "fault": fault}
    return type(code, (StsError,), attributes)


ValidationError = _error("ValidationError", 400)
InvalidAction = _error("InvalidAction", 400)
InvalidIdentityToken = _error("InvalidIdentityToken", 400)
ExpiredTokenException = _error("ExpiredTokenException", 400)
AccessDenied = _error(
    "AccessDenied", 403, "Not authorized to perform sts:AssumeRoleWithWebIdentity"
)
MissingAuthenticationTokenError = _error(
    "MissingAuthenticationToken", 403, "Request is missing Authentication Token"
)
IncompleteSignatureError = _error("IncompleteSignature", 400)
InvalidClientTokenId = _error(
    "InvalidClientTokenId", 403, "The security token included in the request is invalid."
)
SignatureDoesNotMatch = _error("SignatureDoesNotMatch", 403)
ExpiredToken = _error("ExpiredToken", 403, "The security token included in the request is expired")
RequestEntityTooLarge = _error("RequestEntityTooLarge", 413, "The request body is too large.")
InternalFailure = _error(
    "InternalFailure",
    500,
    "The request processing has failed because of an unknown error, exception or failure.",
    fault="Receiver",
)


def from_signature_error(error: SignatureError) -> StsError:
    """The STS error for a request whose SigV4 signature did not check out."""
    if isinstance(error, MissingAuthenticationToken):
        return MissingAuthenticationTokenError()
    if isinstance(error, IncompleteSignature):
        return IncompleteSignatureError(error.message)
    if isinstance(error, UnrecognizedClient):
        return InvalidClientTokenId()
    return SignatureDoesNotMatch(error.message)
