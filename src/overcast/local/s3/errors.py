"""S3's errors: each a code, an HTTP status and a message, rendered as S3's XML.

S3 answers every failed request with ``<Error><Code/><Message/><RequestId/>...``
(https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html); the codes and
statuses below are S3's. Extra fields (``Key``, ``BucketName``, ``Condition``,
``StringToSign``, ...) go into ``details``, rendered as further elements.
"""

from __future__ import annotations

from collections.abc import Mapping

from overcast.local.aws_errors import AwsError, error_class


class S3Error(AwsError):
    """An S3 error response; subclasses fix ``code`` and ``status``."""

    code = "InternalError"
    status = 500
    default_message = "We encountered an internal error. Please try again."

    def __init__(self, message: str | None = None, **details: str) -> None:
        super().__init__(message or self.default_message)  # S3: an empty message is none
        self.details: Mapping[str, str] = details


def _error(code: str, status: int, message: str) -> type[S3Error]:
    return error_class(S3Error, code, status, message)


AccessDenied = _error("AccessDenied", 403, "Access Denied")
AuthorizationHeaderMalformed = _error(
    "AuthorizationHeaderMalformed", 400, "The authorization header is malformed."
)
AuthorizationQueryParametersError = _error(
    "AuthorizationQueryParametersError", 400, "Error parsing the X-Amz-Credential parameter."
)
BadDigest = _error(
    "BadDigest", 400, "The Content-MD5 you specified did not match what we received."
)
BucketAlreadyOwnedByYou = _error(
    "BucketAlreadyOwnedByYou",
    409,
    "Your previous request to create the named bucket succeeded and you already own it.",
)
BucketNotEmpty = _error("BucketNotEmpty", 409, "The bucket you tried to delete is not empty")
EntityTooLarge = _error(
    "EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size"
)
EntityTooSmall = _error(
    "EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed size"
)
ExpiredToken = _error("ExpiredToken", 400, "The provided token has expired.")
IncompleteBody = _error(
    "IncompleteBody",
    400,
    "You did not provide the number of bytes specified by the Content-Length HTTP header.",
)
InvalidAccessKeyId = _error(
    "InvalidAccessKeyId",
    403,
    "The AWS Access Key Id you provided does not exist in our records.",
)
InvalidArgument = _error("InvalidArgument", 400, "Invalid Argument")
InvalidBucketName = _error("InvalidBucketName", 400, "The specified bucket is not valid.")
InvalidChunkSizeError = _error(
    "InvalidChunkSizeError",
    403,
    "Only the last chunk is allowed to have a size less than 8192 bytes",
)
InvalidDigest = _error("InvalidDigest", 400, "The Content-MD5 you specified is not valid.")
InvalidPart = _error(
    "InvalidPart",
    400,
    "One or more of the specified parts could not be found. The part may not have been "
    "uploaded, or the specified entity tag may not match the part's entity tag.",
)
InvalidPartOrder = _error(
    "InvalidPartOrder",
    400,
    "The list of parts was not in ascending order. The parts list must be specified in "
    "order by part number.",
)
InvalidRange = _error("InvalidRange", 416, "The requested range is not satisfiable")
InvalidRequest = _error("InvalidRequest", 400, "Invalid Request")
InvalidToken = _error("InvalidToken", 400, "The provided token is malformed or otherwise invalid.")
KeyTooLongError = _error("KeyTooLongError", 400, "Your key is too long")
MalformedXML = _error(
    "MalformedXML",
    400,
    "The XML you provided was not well-formed or did not validate against our published schema",
)
MethodNotAllowed = _error(
    "MethodNotAllowed", 405, "The specified method is not allowed against this resource."
)
MissingContentLength = _error(
    "MissingContentLength", 411, "You must provide the Content-Length HTTP header."
)
MissingSecurityHeader = _error(
    "MissingSecurityHeader", 400, "Your request was missing a required header"
)
NoSuchBucket = _error("NoSuchBucket", 404, "The specified bucket does not exist")
NoSuchKey = _error("NoSuchKey", 404, "The specified key does not exist.")
NoSuchUpload = _error(
    "NoSuchUpload",
    404,
    "The specified upload does not exist. The upload ID may be invalid, or the upload may "
    "have been aborted or completed.",
)
NotImplementedError_ = _error(
    "NotImplemented", 501, "A header you provided implies functionality that is not implemented"
)
PreconditionFailed = _error(
    "PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold"
)
RequestTimeTooSkewed = _error(
    "RequestTimeTooSkewed",
    403,
    "The difference between the request time and the current time is too large.",
)
SignatureDoesNotMatch = _error(
    "SignatureDoesNotMatch",
    403,
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method.",
)
XAmzContentSHA256Mismatch = _error(
    "XAmzContentSHA256Mismatch",
    400,
    "The provided 'x-amz-content-sha256' header does not match what was computed.",
)
AccessControlListNotSupported = _error(
    "AccessControlListNotSupported", 400, "The bucket does not allow ACLs"
)
IllegalLocationConstraintException = _error(
    "IllegalLocationConstraintException",
    400,
    "The unspecified location constraint is incompatible for the region specific endpoint "
    "this request was sent to.",
)
InvalidLocationConstraint = _error(
    "InvalidLocationConstraint", 400, "The specified location-constraint is not valid"
)
InvalidURI = _error("InvalidURI", 400, "Couldn't parse the specified URI.")
MetadataTooLarge = _error(
    "MetadataTooLarge", 400, "Your metadata headers exceed the maximum allowed metadata size."
)
NoSuchVersion = _error(
    "NoSuchVersion",
    404,
    "The specified version does not exist.",
)
MalformedTrailerError = _error(
    "MalformedTrailerError",
    400,
    "The request contained trailing data that was not well-formed or did not conform to our "
    "published schema.",
)
