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

from overcast.local.auth.sigv4 import (
    IncompleteSignature,
    MissingAuthenticationToken,
    SignatureError,
    UnrecognizedClient,
)

DYNAMODB_NAMESPACE = "com.amazonaws.dynamodb.v20120810#"
CORAL_NAMESPACE = "com.amazon.coral.service#"


class DynamoDbError(Exception):
    """A DynamoDB error response; subclasses fix ``shape``, ``status`` and namespace."""

    shape: ClassVar[str] = "InternalServerError"
    namespace: ClassVar[str] = DYNAMODB_NAMESPACE
    status: ClassVar[int] = 400
    default_message: ClassVar[str] = ""

    def __init__(self, message: str | None = None, extra: dict[str, Any] | None = None) -> None:
        self.message = message if message is not None else self.default_message
        self.extra = extra or {}  # members of the error's shape beyond the message
        super().__init__(self.message)

    @property
    def type(self) -> str:
        return self.namespace + self.shape


def _error(
    shape: str, *, status: int = 400, message: str = "", coral: bool = False
) -> type[DynamoDbError]:
    attributes = {
        "shape": shape,
        "status": status,
        "default_message": message,
        "namespace": CORAL_NAMESPACE if coral else DYNAMODB_NAMESPACE,
    }
    return type(shape, (DynamoDbError,), attributes)


ValidationException = _error("ValidationException")
ConditionalCheckFailed = _error(
    "ConditionalCheckFailedException", message="The conditional request failed"
)
ResourceNotFound = _error("ResourceNotFoundException", message="Requested resource not found")
AccessDenied = _error("AccessDeniedException", coral=True)
UnknownOperation = _error("UnknownOperationException", coral=True)
Serialization = _error("SerializationException", coral=True)
MissingAuthenticationTokenError = _error(
    "MissingAuthenticationTokenException",
    status=400,
    message="Request is missing Authentication Token",
    coral=True,
)
UnrecognizedClientError = _error(
    "UnrecognizedClientException",
    message="The security token included in the request is invalid.",
    coral=True,
)
InvalidSignature = _error("InvalidSignatureException", coral=True)
IncompleteSignatureError = _error("IncompleteSignatureException", coral=True)
ExpiredToken = _error(
    "ExpiredTokenException",
    message="The security token included in the request is expired",
    coral=True,
)
RequestEntityTooLarge = _error(
    "RequestEntityTooLarge", status=413, message="Request entity too large.", coral=True
)
ServiceUnavailable = _error("ServiceUnavailable", status=503, coral=True)
InternalServerError = _error("InternalServerError", status=500, message="Internal server error")


def from_signature_error(error: SignatureError) -> DynamoDbError:
    """The DynamoDB error for a request whose SigV4 signature did not check out."""
    if isinstance(error, MissingAuthenticationToken):
        return MissingAuthenticationTokenError()
    if isinstance(error, IncompleteSignature):
        return IncompleteSignatureError(error.message)
    if isinstance(error, UnrecognizedClient):
        return UnrecognizedClientError()
    return InvalidSignature(error.message)
