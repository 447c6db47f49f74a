"""The errors of Cognito Identity (identity pools), named and worded as AWS's.

They share the user pools' base class and JSON rendering (``{"__type": code,
"message": ...}``, HTTP 400): both services speak the same JSON 1.1 protocol.
The codes come from botocore's ``cognito-identity`` model; the messages are the
ones Cognito answers, which clients show and match:

CognitoError
├── InvalidParameter              a member is missing or breaks its constraint
├── SerializationError            the body is not JSON, or a member has the wrong type
├── UnknownOperation              X-Amz-Target names no operation
├── ResourceNotFound              no such identity pool or identity
├── NotAuthorized                 bad, expired or foreign login token; guest access
├── InvalidIdentityPoolConfiguration   the pool's role does not trust the pool
└── InternalError                 a bug: HTTP 500
"""

from __future__ import annotations

from overcast.local.identity.errors import (
    CognitoError,
    InternalError,
    InvalidParameter,
    NotAuthorized,
    ResourceNotFound,
    SerializationError,
    UnknownOperation,
)

# Cognito's wording for each way a login can fail (seen in its NotAuthorizedException).
UNAUTHENTICATED = "Unauthenticated access is not supported for this identity pool."
UNSUPPORTED_PROVIDER = "Token is not from a supported provider of this identity pool."
NOT_A_TOKEN = "Invalid login token. Not a valid OpenId Connect identity token."
WRONG_ISSUER = "Invalid login token. Issuer doesn't match providerName"
BAD_SIGNATURE = "Invalid login token. Couldn't verify signed token."
MISSING_AUDIENCE = "Invalid login token. Missing a required claim: aud"
LOGINS_MISMATCH = (
    "Logins don't match. Please include at least one valid login for this identity or "
    "identity pool."
)


def token_expired(now: int, expires: int) -> str:
    """Cognito's message for a login token past its ``exp``."""
    return f"Invalid login token. Token expired: {now} >= {expires}"


def identity_forbidden(identity_id: str) -> str:
    """An authenticated identity asked for without any of its logins."""
    return f"Access to Identity '{identity_id}' is forbidden."


class InvalidIdentityPoolConfiguration(CognitoError):
    code = "InvalidIdentityPoolConfigurationException"
    default_message = "Invalid identity pool configuration. Check assigned IAM roles for this pool."


__all__ = [
    "CognitoError",
    "InternalError",
    "InvalidIdentityPoolConfiguration",
    "InvalidParameter",
    "NotAuthorized",
    "ResourceNotFound",
    "SerializationError",
    "UnknownOperation",
]
