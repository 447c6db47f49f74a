"""The errors of the user pool, named and worded as Cognito's.

Each class carries Cognito's error ``code`` (the ``__type`` of the JSON error body)
and its HTTP ``status`` as class attributes; the protocol renders them in one place.
Messages are Cognito's where a client may show or match them (``Incorrect username
or password.``, ``Invalid verification code provided, please try again.``, ...).

CognitoError
├── InvalidParameter          a parameter is missing, malformed or not allowed here
├── SerializationError        the body is not JSON, or a member has the wrong JSON type
├── UnknownOperation          X-Amz-Target names no operation
├── ResourceNotFound          no such user pool or app client
├── NotAuthorized             wrong credentials, bad/expired/revoked token or session
├── UserNotConfirmed          right password, but the sign-up is not confirmed yet
├── UserNotFound              (operator operations only: the others never reveal it)
├── UsernameExists            the email address is already registered
├── InvalidPassword           the password breaks the pool's policy
├── CodeMismatch / ExpiredCode     confirmation codes
├── LimitExceeded             too many wrong codes for one code; request a new one
├── UnsupportedUserState      e.g. RESEND for a user who is not waiting for a password
├── CodeDeliveryFailure       the mail could not be sent; nothing was changed
└── InternalError             a bug: HTTP 500
"""

from __future__ import annotations

from overcast.local.aws_errors import AwsError


class CognitoError(AwsError):
    """An error Cognito would answer: ``code`` is its ``__type``."""

    code = "InternalErrorException"


class InvalidParameter(CognitoError):
    code = "InvalidParameterException"


class SerializationError(CognitoError):
    code = "SerializationException"


class UnknownOperation(CognitoError):
    code = "UnknownOperationException"


class ResourceNotFound(CognitoError):
    code = "ResourceNotFoundException"


class NotAuthorized(CognitoError):
    code = "NotAuthorizedException"
    default_message = "Incorrect username or password."


class UserNotConfirmed(CognitoError):
    code = "UserNotConfirmedException"
    default_message = "User is not confirmed."


class UserNotFound(CognitoError):
    code = "UserNotFoundException"
    default_message = "User does not exist."


class UsernameExists(CognitoError):
    code = "UsernameExistsException"
    default_message = "An account with the given email already exists."


class InvalidPassword(CognitoError):
    code = "InvalidPasswordException"


class CodeMismatch(CognitoError):
    code = "CodeMismatchException"
    default_message = "Invalid verification code provided, please try again."


class ExpiredCode(CognitoError):
    code = "ExpiredCodeException"
    default_message = "Invalid code provided, please request a code again."


class LimitExceeded(CognitoError):
    code = "LimitExceededException"
    default_message = "Attempt limit exceeded, please try after some time."


class UnsupportedUserState(CognitoError):
    code = "UnsupportedUserStateException"


class CodeDeliveryFailure(CognitoError):
    code = "CodeDeliveryFailureException"
    default_message = "Unable to deliver the message; nothing was changed."


class InternalError(CognitoError):
    code = "InternalErrorException"
    status = 500
    default_message = "An internal error occurred."
