"""Who signed a request: SigV4 verified for one service, then the session behind the key.

Shared by the SQS and SNS APIs (as STS and CloudFront do it inline): the signature is
checked for the service's name in the endpoint's region; temporary credentials past
their expiration stop at :class:`ExpiredCredentials` before the signature is checked,
as AWS reads the token first; a key revoked between the check and the lookup is
:class:`~overcast.local.auth.sigv4.UnrecognizedClient`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from starlette.types import Scope

from overcast.local.auth.sigv4 import Credentials, SigV4Verifier, UnrecognizedClient
from overcast.local.iam.principals import Principal, Session

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
