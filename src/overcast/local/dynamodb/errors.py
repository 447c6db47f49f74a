"""DynamoDB's errors, as its JSON 1.0 protocol renders them.

An error is ``{"__type": "<namespace>#<Shape>", "message": ...}`` with the status;
botocore takes the code after ``#`` and raises the modelled exception of that name
(``client.exceptions.ConditionalCheckFailedException``,
``client.exceptions.ResourceNotFoundException``). ``ValidationException`` is not in
DynamoDB's model: boto3 raises a ``ClientError`` whose ``Error.Code`` is
``ValidationException``, as with AWS. Authentication errors use the coral namespace,
as AWS's do.

DynamoDbError
├── ValidationException (400)              a parameter, expression or value DynamoDB refuses
├── ConditionalCheckFailedException (400)  "The conditional request failed" (+ ``Item``)
├── ResourceNotFoundException (400)        an undeclared table or index
├── AccessDeniedException (400)            IAM does not allow the action
├── UnknownOperationException (400)        an operation this endpoint does not serve
├── SerializationException (400)           a body that is not a JSON object
├── MissingAuthenticationTokenException / UnrecognizedClientException /
│   InvalidSignatureException / IncompleteSignatureException / ExpiredTokenException
├── RequestEntityTooLarge (413)
├── ServiceUnavailable (503)               the table file failed; retry
└── InternalServerError (500)              a bug
"""

from __future__ import annotations

from typing import Any, ClassVar

from overcast.local.aws_errors import JSON_CODES, AwsError, SignatureErrors, error_class

DYNAMODB_NAMESPACE = "com.amazonaws.dynamodb.v20120810#"
CORAL_NAMESPACE = "com.amazon.coral.service#"


class DynamoDbError(AwsError):
    """A DynamoDB error response; subclasses fix ``code`` (the shape), ``status`` and
    namespace."""

    code = "InternalServerError"
    namespace: ClassVar[str] = DYNAMODB_NAMESPACE

    def __init__(self, message: str | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.extra = extra or {}  # members of the error's shape beyond the message

    @property
    def shape(self) -> str:
        return self.code

    @property
    def type(self) -> str:
        return self.namespace + self.code


def _error(
    shape: str, *, status: int = 400, message: str = "", coral: bool = False
) -> type[DynamoDbError]:
    namespace = CORAL_NAMESPACE if coral else DYNAMODB_NAMESPACE
    return error_class(DynamoDbError, shape, status, message, namespace=namespace)


ValidationException = _error("ValidationException")
ConditionalCheckFailed = _error(
    "ConditionalCheckFailedException", message="The conditional request failed"
)
ResourceNotFound = _error("ResourceNotFoundException", message="Requested resource not found")
AccessDenied = _error("AccessDeniedException", coral=True)
UnknownOperation = _error("UnknownOperationException", coral=True)
Serialization = _error("SerializationException", coral=True)
RequestEntityTooLarge = _error(
    "RequestEntityTooLarge", status=413, message="Request entity too large.", coral=True
)
ServiceUnavailable = _error("ServiceUnavailable", status=503, coral=True)
InternalServerError = _error("InternalServerError", status=500, message="Internal server error")


# DynamoDB answers every SigV4 failure with 400, in the coral namespace.
signature_errors = SignatureErrors(DynamoDbError, JSON_CODES, status=400, namespace=CORAL_NAMESPACE)
MissingAuthenticationTokenError = signature_errors.missing
IncompleteSignatureError = signature_errors.incomplete
UnrecognizedClientError = signature_errors.unrecognized
InvalidSignature = signature_errors.mismatch
ExpiredToken = signature_errors.expired
from_signature_error = signature_errors.from_signature_error
