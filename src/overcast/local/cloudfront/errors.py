"""CloudFront's errors: a code, an HTTP status and a message, in CloudFront's XML.

Codes and statuses are botocore's ``cloudfront`` 2020-05-31 model where it has them,
the AWS documentation's otherwise; every error is rendered as CloudFront does::

    <ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">
      <Error><Type>Sender</Type><Code>NoSuchDistribution</Code><Message>...</Message></Error>
      <RequestId>...</RequestId>
    </ErrorResponse>

CloudFrontError
├── AccessDenied (403)                     IAM does not allow the action
├── NoSuchDistribution (404)               no distribution of that id
├── NoSuchInvalidation (404)               no invalidation of that id
├── InvalidArgument (400)                  a bad path, MaxItems, or a missing element
├── InconsistentQuantities (400)           ``Quantity`` is not the number of ``Items``
├── MissingBody (400)                      CreateInvalidation without a body
├── MalformedInput (400)                   a body that is not the expected XML
├── BatchTooLarge (413)                    a body over 1 MiB
├── TooManyInvalidationsInProgress (400)   over 3000 paths, or over 15 wildcard paths
├── InvalidationBatchAlreadyExists (409)   a CallerReference reused with other paths
├── UnknownOperation (404)                 a path no operation serves
├── MissingAuthenticationToken (403)       an unsigned request
├── IncompleteSignature (400)              a malformed Authorization header
├── InvalidClientTokenId (403)             unknown access key, wrong or missing session token
├── SignatureDoesNotMatch (403)            the signature (or its time) does not check out
├── ExpiredToken (403)                     temporary credentials past their expiration
└── InternalFailure (500, Receiver)        a bug
"""

from __future__ import annotations

from overcast.local.aws_errors import AwsError, SignatureErrors, error_class

NAMESPACE = "http://cloudfront.amazonaws.com/doc/2020-05-31/"


class CloudFrontError(AwsError):
    """A CloudFront error response; subclasses fix ``code`` and ``status``."""


def _error(
    code: str, status: int, message: str = "", fault: str = "Sender"
) -> type[CloudFrontError]:
    return error_class(CloudFrontError, code, status, message, fault)


AccessDenied = _error("AccessDenied", 403, "Access denied.")
NoSuchDistribution = _error("NoSuchDistribution", 404, "The specified distribution does not exist.")
NoSuchInvalidation = _error("NoSuchInvalidation", 404, "The specified invalidation does not exist.")
InvalidArgument = _error("InvalidArgument", 400)
InconsistentQuantities = _error(
    "InconsistentQuantities", 400, "The value of Quantity and the size of Items don't match."
)
MissingBody = _error(
    "MissingBody",
    400,
    "This operation requires a body. Ensure that the body is present and the Content-Type "
    "header is set.",
)
MalformedInput = _error("MalformedInput", 400, "The request body is not well-formed XML.")
BatchTooLarge = _error("BatchTooLarge", 413, "The request body is too large.")
TooManyInvalidationsInProgress = _error("TooManyInvalidationsInProgress", 400)
InvalidationBatchAlreadyExists = _error(
    "InvalidationBatchAlreadyExists",
    409,
    "An invalidation batch with this CallerReference already exists, with other paths.",
)
UnknownOperation = _error("UnknownOperationException", 404, "No operation is served at this path.")
InternalFailure = _error(
    "InternalFailure",
    500,
    "The request processing has failed because of an unknown error, exception or failure.",
    fault="Receiver",
)


signature_errors = SignatureErrors(CloudFrontError, missing_message="Missing Authentication Token")
MissingAuthenticationTokenError = signature_errors.missing
IncompleteSignatureError = signature_errors.incomplete
InvalidClientTokenId = signature_errors.unrecognized
SignatureDoesNotMatch = signature_errors.mismatch
ExpiredToken = signature_errors.expired
from_signature_error = signature_errors.from_signature_error
