"""SNS's errors, rendered in the query protocol's XML (``<ErrorResponse><Error><Type/>
<Code/><Message/></Error><RequestId/></ErrorResponse>``). Codes and statuses are
botocore's ``sns`` model's, so boto3 raises the modelled exception
(``client.exceptions.NotFoundException`` for ``NotFound``):

SnsError
├── NotFound (404)                      no such topic
├── InvalidParameter (400)              a parameter or message SNS refuses
├── AuthorizationError (403)            IAM does not allow the action
├── EmptyBatchRequest / TooManyEntriesInBatchRequest / BatchEntryIdsNotDistinct /
│   InvalidBatchEntryId / BatchRequestTooLong (400)
├── InvalidAction (400)                 an action this endpoint does not serve
├── MissingAuthenticationToken / InvalidClientTokenId / SignatureDoesNotMatch /
│   IncompleteSignature / ExpiredToken  SigV4 failures, as every query API answers them
├── RequestEntityTooLarge (413)
├── ServiceUnavailable (503)            the store failed; retry
└── InternalError (500)                 a bug
"""

from __future__ import annotations

from typing import ClassVar

from overcast.local.auth.sigv4 import (
    IncompleteSignature,
    MissingAuthenticationToken,
    SignatureError,
    UnrecognizedClient,
)


class SnsError(Exception):
    """An SNS error response; subclasses fix ``code`` and ``status``."""

    code: ClassVar[str] = "InternalError"
    status: ClassVar[int] = 400
    fault: ClassVar[str] = "Sender"
    default_message: ClassVar[str] = ""

    def __init__(self, message: str | None = None) -> None:
        self.message = message if message is not None else self.default_message
        super().__init__(self.message)


def _error(code: str, status: int, message: str = "", fault: str = "Sender") -> type[SnsError]:
    attributes = {"code": code, "status": status, "default_message": message, "fault": fault}
    return type(code, (SnsError,), attributes)


NotFound = _error("NotFound", 404, "Topic does not exist")
InvalidParameter = _error("InvalidParameter", 400)
AuthorizationError = _error("AuthorizationError", 403)
EmptyBatchRequest = _error(
    "EmptyBatchRequest", 400, "The batch request doesn't contain any entries."
)
TooManyEntriesInBatchRequest = _error("TooManyEntriesInBatchRequest", 400)
BatchEntryIdsNotDistinct = _error("BatchEntryIdsNotDistinct", 400)
InvalidBatchEntryId = _error("InvalidBatchEntryId", 400)
BatchRequestTooLong = _error("BatchRequestTooLong", 400)
InvalidAction = _error("InvalidAction", 400)
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
ServiceUnavailable = _error("ServiceUnavailable", 503, fault="Receiver")
InternalError = _error("InternalError", 500, "The request processing has failed.", fault="Receiver")


def from_signature_error(error: SignatureError) -> SnsError:
    """The SNS error for a request whose SigV4 signature did not check out."""
    if isinstance(error, MissingAuthenticationToken):
        return MissingAuthenticationTokenError()
    if isinstance(error, IncompleteSignature):
        return IncompleteSignatureError(error.message)
    if isinstance(error, UnrecognizedClient):
        return InvalidClientTokenId()
    return SignatureDoesNotMatch(error.message)
