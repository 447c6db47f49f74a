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

from overcast.local.aws_errors import AwsError, SignatureErrors, error_class


class StsError(AwsError):
    """An STS error response; subclasses fix ``code`` and ``status``."""


def _error(code: str, status: int, message: str = "", fault: str = "Sender") -> type[StsError]:
    return error_class(StsError, code, status, message, fault)


ValidationError = _error("ValidationError", 400)
InvalidAction = _error("InvalidAction", 400)
InvalidIdentityToken = _error("InvalidIdentityToken", 400)
ExpiredTokenException = _error("ExpiredTokenException", 400)
AccessDenied = _error(
    "AccessDenied", 403, "Not authorized to perform sts:AssumeRoleWithWebIdentity"
)
RequestEntityTooLarge = _error("RequestEntityTooLarge", 413, "The request body is too large.")
InternalFailure = _error(
    "InternalFailure",
    500,
    "The request processing has failed because of an unknown error, exception or failure.",
    fault="Receiver",
)


signature_errors = SignatureErrors(StsError)
MissingAuthenticationTokenError = signature_errors.missing
IncompleteSignatureError = signature_errors.incomplete
InvalidClientTokenId = signature_errors.unrecognized
SignatureDoesNotMatch = signature_errors.mismatch
ExpiredToken = signature_errors.expired
from_signature_error = signature_errors.from_signature_error
