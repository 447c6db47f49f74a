"""SQS's errors, as its JSON protocol renders them.

SQS moved from the query protocol to JSON and stays "query compatible": an error is
``{"__type": "com.amazonaws.sqs#<Shape>", "message": ...}`` plus the header
``x-amzn-query-error: <query code>;<Sender|Receiver>``. botocore raises the modelled
exception named by the shape (``client.exceptions.QueueDoesNotExist``) and reports the
query code as ``Error.Code`` (``AWS.SimpleQueueService.NonExistentQueue``), as with AWS.

SqsError
├── QueueDoesNotExist (400)            AWS.SimpleQueueService.NonExistentQueue
├── ReceiptHandleIsInvalid (400)
├── MessageNotInflight (400)           AWS.SimpleQueueService.MessageNotInflight
├── InvalidParameterValue (400)        a parameter or message SQS refuses
├── InvalidAttributeName (400)         an unknown queue attribute
├── MissingParameter (400)
├── EmptyBatchRequest / TooManyEntriesInBatchRequest / BatchEntryIdsNotDistinct /
│   InvalidBatchEntryId / BatchRequestTooLong (400)
├── QueueNameExists (400)              QueueAlreadyExists: CreateQueue with other attributes
├── UnsupportedOperation (400)         e.g. CreateQueue of an undeclared queue
├── PurgeQueueInProgress (403)
├── AccessDenied (403)                 IAM does not allow the action
├── InvalidAction (400)                an operation this endpoint does not serve
├── MissingAuthenticationToken / InvalidClientTokenId / SignatureDoesNotMatch /
│   IncompleteSignature / ExpiredToken  SigV4 failures
├── RequestEntityTooLarge (413)
├── ServiceUnavailable (503)           the store failed; retry
└── InternalFailure (500)              a bug
"""

from __future__ import annotations

from typing import ClassVar

from overcast.local.aws_errors import JSON_CODES, AwsError, SignatureErrors, error_class
from overcast.ports.queues import exceptions as port
from overcast.ports.queues.exceptions import (
    InvalidRequest,
    QueueError,
    QueueNotFound,
    QueueUnavailable,
    ReceiptHandleInvalid,
    TooManyEntries,
)

SQS_NAMESPACE = "com.amazonaws.sqs#"
CORAL_NAMESPACE = "com.amazon.coral.service#"


class SqsError(AwsError):
    """An SQS error response; subclasses fix ``code`` (the JSON shape), ``query_code``,
    ``status`` and ``namespace``."""

    code = "InternalFailure"
    namespace: ClassVar[str] = CORAL_NAMESPACE
    query_code: ClassVar[str] = "InternalFailure"

    @property
    def shape(self) -> str:
        return self.code

    @property
    def type(self) -> str:
        return self.namespace + self.code


def _error(
    shape: str,
    query_code: str | None = None,
    *,
    status: int = 400,
    message: str = "",
    modelled: bool = True,
    fault: str = "Sender",
) -> type[SqsError]:
    namespace = SQS_NAMESPACE if modelled else CORAL_NAMESPACE
    return error_class(
        SqsError, shape, status, message, fault, query_code=query_code or shape, namespace=namespace
    )


QueueDoesNotExist = _error(
    "QueueDoesNotExist",
    "AWS.SimpleQueueService.NonExistentQueue",
    message="The specified queue does not exist.",
)
ReceiptHandleIsInvalid = _error("ReceiptHandleIsInvalid")
MessageNotInflight = _error("MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight")
InvalidParameterValue = _error("InvalidParameterValue", modelled=False)
InvalidAttributeName = _error("InvalidAttributeName")
MissingParameter = _error("MissingParameter", modelled=False)
EmptyBatchRequest = _error("EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest")
TooManyEntriesInBatchRequest = _error(
    "TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"
)
BatchEntryIdsNotDistinct = _error(
    "BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"
)
InvalidBatchEntryId = _error("InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId")
BatchRequestTooLong = _error("BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong")
QueueNameExists = _error("QueueNameExists", "QueueAlreadyExists")
UnsupportedOperation = _error("UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation")
PurgeQueueInProgress = _error(
    "PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress", status=403
)
AccessDenied = _error("AccessDeniedException", "AccessDenied", status=403, modelled=False)
InvalidAction = _error("UnknownOperationException", "InvalidAction", modelled=False)
RequestEntityTooLarge = _error(
    "RequestEntityTooLarge", status=413, message="The request body is too large.", modelled=False
)
ServiceUnavailable = _error("ServiceUnavailable", status=503, modelled=False, fault="Receiver")
InternalFailure = _error(
    "InternalFailure",
    status=500,
    message="The request processing has failed because of an unknown error, exception or failure.",
    modelled=False,
    fault="Receiver",
)


signature_errors = SignatureErrors(
    SqsError,
    JSON_CODES,
    missing_message="Missing Authentication Token",
    query_compatible=True,
    namespace=CORAL_NAMESPACE,
)
MissingAuthenticationTokenError = signature_errors.missing
IncompleteSignatureError = signature_errors.incomplete
InvalidClientTokenId = signature_errors.unrecognized
SignatureDoesNotMatch = signature_errors.mismatch
ExpiredToken = signature_errors.expired
from_signature_error = signature_errors.from_signature_error


def from_port_error(error: QueueError) -> SqsError:
    """The SQS error for the queue port's exception (the port's message kept)."""
    if isinstance(error, QueueNotFound):
        return QueueDoesNotExist()
    if isinstance(error, ReceiptHandleInvalid):
        return ReceiptHandleIsInvalid(str(error))
    if isinstance(error, port.MessageNotInflight):
        return MessageNotInflight(str(error))
    if isinstance(error, TooManyEntries):
        return TooManyEntriesInBatchRequest(str(error))
    if isinstance(error, InvalidRequest):
        return InvalidParameterValue(str(error))
    if isinstance(error, QueueUnavailable):
        return ServiceUnavailable(str(error))
    return InternalFailure()
