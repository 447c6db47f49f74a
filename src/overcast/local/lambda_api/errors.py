"""Lambda's errors, as its REST-JSON protocol renders them.

An error is its HTTP status, the header ``x-amzn-ErrorType: <Shape>`` (botocore's
rest-json parser takes the code from it and raises the modelled exception,
``client.exceptions.ResourceNotFoundException``) and a body
``{"Type": "User", "message": ...}`` (``Type`` is ``User`` for a caller's fault,
``Service`` for Lambda's). Lambda's shapes spell the message ``message`` or
``Message``; botocore reads either, so every body carries ``message``.

LambdaError
├── ResourceNotFoundException (404)      no such function, or alias
├── InvalidRequestContentException (400) the payload is not JSON
├── InvalidParameterValueException (400) a bad header or parameter
├── RequestTooLargeException (413)       over the Invoke payload quota
├── AccessDeniedException (403)          IAM does not allow the action
├── UnknownOperationException (404)      a path this endpoint does not serve
├── MissingAuthenticationTokenException / IncompleteSignatureException /
│   UnrecognizedClientException / InvalidSignatureException / ExpiredTokenException
└── ServiceException (500)               a bug
"""

from __future__ import annotations

from overcast.local.aws_errors import JSON_CODES, AwsError, SignatureErrors, error_class


class LambdaError(AwsError):
    """A Lambda error response; subclasses fix ``code`` (the shape) and ``status``."""

    code = "ServiceException"

    @property
    def type(self) -> str:
        return "User" if self.fault == "Sender" else "Service"


ResourceNotFoundException = error_class(LambdaError, "ResourceNotFoundException", 404)
InvalidRequestContentException = error_class(
    LambdaError, "InvalidRequestContentException", 400, "Could not parse request body into json"
)
InvalidParameterValueException = error_class(LambdaError, "InvalidParameterValueException", 400)
RequestTooLargeException = error_class(
    LambdaError, "RequestTooLargeException", 413, "Request payload is too large"
)
AccessDeniedException = error_class(LambdaError, "AccessDeniedException", 403)
UnknownOperationException = error_class(
    LambdaError, "UnknownOperationException", 404, "Unknown operation"
)
ServiceException = error_class(
    LambdaError, "ServiceException", 500, "An internal error occurred.", fault="Receiver"
)

signature_errors = SignatureErrors(LambdaError, JSON_CODES)
ExpiredTokenException = signature_errors.expired
from_signature_error = signature_errors.from_signature_error
