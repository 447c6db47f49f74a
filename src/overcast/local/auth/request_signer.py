"""Who signed a request: SigV4 verified for one service, then the session behind the key.

Shared by the DynamoDB, SQS, SNS and Lambda APIs (STS and CloudFront do it inline): the signature is
checked for the service's name in the endpoint's region; temporary credentials past
their expiration stop at :class:`ExpiredCredentials` before the signature is checked,
as AWS reads the token first; a key revoked between the check and the lookup is
:class:`~overcast.local.auth.sigv4.UnrecognizedClient`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.types import Scope

from overcast.local.auth.sigv4 import (
    Credentials,
    SignatureError,
    SigV4Verifier,
    UnrecognizedClient,
)
from overcast.local.iam.principals import Principal, Session

if TYPE_CHECKING:
    from overcast.local.aws_errors import SignatureErrors

SessionLookup = Callable[[str], Session | None]


class ExpiredCredentials(Exception):
    """Temporary credentials past their expiration (AWS's ``ExpiredToken``)."""


class RequestSigner:
    """The principal whose credentials signed a request for ``service``."""

    def __init__(
        self,
        sessions: SessionLookup,
        *,
        service: str,
        region: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._verifier = SigV4Verifier(
            self._credentials, service=service, region=region, clock=clock
        )

    def authenticate(self, scope: Scope, body: bytes, errors: SignatureErrors[Any]) -> Principal:
        """The signer's principal, or the API's own error (``errors``) for a signature that
        does not check out or expired credentials."""
        try:
            return self.principal(scope, body)
        except SignatureError as error:
            raise errors.from_signature_error(error) from None
        except ExpiredCredentials:
            raise errors.expired() from None

    def principal(self, scope: Scope, body: bytes) -> Principal:
        """Raises :class:`~overcast.local.auth.sigv4.SignatureError` or
        :class:`ExpiredCredentials`."""
        from overcast.local.wire import signed_request  # wire imports identity, which imports wire

        verified = self._verifier.verify(signed_request(scope, body))
        session = self._sessions(verified.credentials.access_key_id)
        if session is None:
            raise UnrecognizedClient("The security token included in the request is invalid.")
        return session.principal

    def _credentials(self, access_key_id: str) -> Credentials | None:
        session = self._sessions(access_key_id)
        if session is None:
            return None
        if session.expired(self._clock()):
            raise ExpiredCredentials("The security token included in the request is expired")
        return session.credentials
