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

from overcast.local.aws_errors import AwsError, SignatureErrors, error_class


class SnsError(AwsError):
    """An SNS error response; subclasses fix ``code`` and ``status``."""

    code = "InternalError"


def _error(code: str, status: int, message: str = "", fault: str = "Sender") -> type[SnsError]:
    return error_class(SnsError, code, status, message, fault)


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
RequestEntityTooLarge = _error("RequestEntityTooLarge", 413, "The request body is too large.")
ServiceUnavailable = _error("ServiceUnavailable", 503, fault="Receiver")
InternalError = _error("InternalError", 500, "The request processing has failed.", fault="Receiver")


signature_errors = SignatureErrors(SnsError)
MissingAuthenticationTokenError = signature_errors.missing
IncompleteSignatureError = signature_errors.incomplete
InvalidClientTokenId = signature_errors.unrecognized
SignatureDoesNotMatch = signature_errors.mismatch
ExpiredToken = signature_errors.expired
from_signature_error = signature_errors.from_signature_error
