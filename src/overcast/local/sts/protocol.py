"""STS's query protocol, served as an ASGI app.

``POST /`` with form parameters (see ``query.py``). ``AssumeRoleWithWebIdentity``
is unsigned, as on AWS. ``GetCallerIdentity`` must be SigV4-signed (service
``sts``) with any credentials the local cloud knows: the root user's or
temporary ones, with their session token. Temporary credentials past their
expiration are ``ExpiredToken`` (403), checked before the signature as STS
reads the token first; a revoked or unknown key is ``InvalidClientTokenId``.

An unknown ``Action``, or a ``Version`` other than 2011-06-15, is
``InvalidAction``. Bodies over 1 MiB are refused with 413 before parsing.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from overcast.local.auth.sigv4 import Credentials, SignatureError, SigV4Verifier
from overcast.local.iam.principals import Session
from overcast.local.iam.sessions import SessionStore
from overcast.local.sts import errors, query
from overcast.local.sts.operations import SecurityTokenService
from overcast.local.wire import BodyTooLarge, read_body, signed_request

SERVICE = "sts"
_log = logging.getLogger(__name__)


class StsProtocol:
    """ASGI app: STS's query protocol over a :class:`SecurityTokenService`."""

    def __init__(
        self,
        service: SecurityTokenService,
        sessions: SessionStore,
        *,
        region: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._service = service
        self._sessions = sessions
        self._clock = clock
        self._verifier = SigV4Verifier(
            self._credentials, service=SERVICE, region=region, clock=clock
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request_id = str(uuid.uuid4())
        try:
            status, body = 200, await self._operate(Request(scope, receive), request_id)
        except errors.StsError as error:
            status = error.status
            body = query.error_document(error.fault, error.code, error.message, request_id)
        except Exception:
            _log.exception("Internal error in STS (request %s)", request_id)
            fault = errors.InternalFailure()
            status = fault.status
            body = query.error_document(fault.fault, fault.code, fault.message, request_id)
        headers = {"x-amzn-RequestId": request_id}
        response = Response(body, status, headers, media_type=query.CONTENT_TYPE)
        await response(scope, receive, send)

    async def _operate(self, request: Request, request_id: str) -> bytes:
        try:
            body = await read_body(request)
        except BodyTooLarge:
            raise errors.RequestEntityTooLarge() from None
        params = query.parameters(request.scope.get("query_string", b""), body)
        action = params.get("Action", "")
        version = params.get("Version", query.VERSION)
        if action == "AssumeRoleWithWebIdentity" and version == query.VERSION:
            result = await asyncio.to_thread(self._service.assume_role_with_web_identity, params)
        elif action == "GetCallerIdentity" and version == query.VERSION:
            session = await asyncio.to_thread(self._signer, request, body)
            result = self._service.get_caller_identity(session)
        else:
            raise errors.InvalidAction(
                f"Could not find operation {action or '(none)'} for version {version}"
            )
        return query.result_document(action, result, request_id)

    def _signer(self, request: Request, body: bytes) -> Session:
        """The session whose credentials signed the request."""
        try:
            verified = self._verifier.verify(signed_request(request.scope, body))
        except SignatureError as error:
            raise errors.from_signature_error(error) from None
        session = self._sessions.lookup(verified.credentials.access_key_id)
        if session is None:  # revoked between the signature check and now
            raise errors.InvalidClientTokenId()
        return session

    def _credentials(self, access_key_id: str) -> Credentials | None:
        """The verifier's lookup: expired temporary credentials stop here."""
        session = self._sessions.lookup(access_key_id)
        if session is None:
            return None
        if session.expired(self._clock()):
            raise errors.ExpiredToken()
        return session.credentials
