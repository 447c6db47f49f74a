"""Request authentication for the local AWS endpoints: AWS Signature Version 4."""

from overcast.local.auth.sigv4 import (
    Credentials,
    CredentialsLookup,
    IncompleteSignature,
    InvalidSignature,
    MissingAuthenticationToken,
    PayloadHashMismatch,
    SignatureError,
    SignatureExpired,
    SignedRequest,
    SigV4Verifier,
    UnrecognizedClient,
    VerifiedSignature,
)

__all__ = [
    "Credentials",
    "CredentialsLookup",
    "IncompleteSignature",
    "InvalidSignature",
    "MissingAuthenticationToken",
    "PayloadHashMismatch",
    "SigV4Verifier",
    "SignatureError",
    "SignatureExpired",
    "SignedRequest",
    "UnrecognizedClient",
    "VerifiedSignature",
]
