"""CloudFront's REST-XML API (version 2020-05-31) as an ASGI app, for unmodified SDKs.

Served under ``/2020-05-31/`` of the local AWS endpoint:

    POST /2020-05-31/distribution/{Id}/invalidation         CreateInvalidation (201, Location)
    GET  /2020-05-31/distribution/{Id}/invalidation         ListInvalidations
    GET  /2020-05-31/distribution/{Id}/invalidation/{Inv}   GetInvalidation
    GET  /2020-05-31/distribution/{Id}                      GetDistribution (ETag)
    GET  /2020-05-31/distribution                           ListDistributions

Every call must be SigV4-signed for service ``cloudfront`` with credentials the local
cloud knows (the root user's, a function role's session). CloudFront is global and
SDKs sign its calls in ``us-east-1``; an SDK pointed at a custom endpoint signs in its
own region instead, so the cloud's own region is accepted too. Temporary credentials
past their expiration are ``ExpiredToken``. Bodies over 1 MiB are ``BatchTooLarge``.

Calls run on the event loop that serves the endpoint, which is also the edges' loop:
an edge's ``invalidate`` is never called from another thread.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from overcast.local.auth.sigv4 import Credentials, SignatureError, SigV4Verifier
from overcast.local.cloudfront import distributions, errors, xml
from overcast.local.cloudfront.operations import DEFAULT_MAX_ITEMS, CloudFrontOperations
from overcast.local.iam.principals import Principal, Session

SERVICE = "cloudfront"
GLOBAL_REGION = "us-east-1"
PREFIX = "/2020-05-31/"
CONTENT_TYPE = "text/xml"
_SCOPE_REGION = re.compile(r"Credential=[^/,]*/[^/,]*/([^/,]*)/")
_log = logging.getLogger(__name__)

SessionLookup = Callable[[str], Session | None]
Answer = tuple[int, dict[str, str], bytes]


class CloudFrontApi:
    """ASGI app: CloudFront's invalidation and distribution calls (module docstring)."""

    def __init__(
        self,
        operations: CloudFrontOperations,
        sessions: SessionLookup,
        *,
        region: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._operations = operations
        self._sessions = sessions
        self._clock = clock
        self._started = clock()
        self._verifiers = {
            name: SigV4Verifier(self._credentials, service=SERVICE, region=name, clock=clock)
            for name in {GLOBAL_REGION, region}
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request_id = str(uuid.uuid4())
        try:
            status, headers, body = await self._answer(Request(scope, receive))
        except errors.CloudFrontError as error:
            status, headers, body = error.status, {}, xml.error_document(error, request_id)
        except Exception:
            _log.exception("Internal error in CloudFront (request %s)", request_id)
            fault = errors.InternalFailure()
            status, headers, body = fault.status, {}, xml.error_document(fault, request_id)
        headers["x-amzn-RequestId"] = request_id
        await Response(body, status, headers, media_type=CONTENT_TYPE)(scope, receive, send)

    async def _answer(self, request: Request) -> Answer:
        # Imported here: wire imports the identity package, which imports wire, so a
        # module-level import would fail whenever this module is imported first.
        from overcast.local.wire import BodyTooLarge, read_body

        try:
            body = await read_body(request)
        except BodyTooLarge:
            raise errors.BatchTooLarge() from None
        principal = self._signer(request, body)
        parts = request.scope["path"].removeprefix(PREFIX).split("/")
        method = request.scope["method"]
        query = dict(parse_qsl(request.scope.get("query_string", b"").decode("latin-1")))
        match parts:
            case ["distribution"] if method == "GET":
                return self._list_distributions(principal, query)
            case ["distribution", ident] if method == "GET":
                return self._get_distribution(principal, ident)
            case ["distribution", ident, "invalidation"] if method == "POST":
                return self._create_invalidation(principal, ident, body, request)
            case ["distribution", ident, "invalidation"] if method == "GET":
                return self._list_invalidations(principal, ident, query)
            case ["distribution", ident, "invalidation", invalidation] if method == "GET":
                found = self._operations.get_invalidation(principal, ident, invalidation)
                return 200, {}, xml.invalidation_document(found)
        raise errors.UnknownOperation()

    def _create_invalidation(
        self, principal: Principal, ident: str, body: bytes, request: Request
    ) -> Answer:
        created = self._operations.create_invalidation(
            principal, ident, lambda: xml.parse_batch(body)
        )
        invalidation = created.invalidation
        host = request.headers.get("host", "cloudfront.amazonaws.com")
        location = f"{request.url.scheme}://{host}{PREFIX}distribution/{ident}/invalidation/"
        headers = {"Location": location + invalidation.id}
        return 201, headers, xml.invalidation_document(invalidation)

    def _list_invalidations(
        self, principal: Principal, ident: str, query: dict[str, str]
    ) -> Answer:
        marker, max_items = query.get("Marker", ""), _max_items(query)
        page = self._operations.list_invalidations(principal, ident, marker, max_items)
        return 200, {}, xml.invalidation_list_document(page, marker, max_items)

    def _get_distribution(self, principal: Principal, ident: str) -> Answer:
        record = self._operations.get_distribution(principal, ident)
        declaration = self._operations.directory.declaration(record)
        members = distributions.distribution(record, declaration, self._started)
        body = xml.document("Distribution", members)
        etag = "E" + hashlib.sha256(body).hexdigest()[:13].upper()
        return 200, {"ETag": etag}, body

    def _list_distributions(self, principal: Principal, query: dict[str, str]) -> Answer:
        marker, max_items = query.get("Marker", ""), _max_items(query)
        records, next_marker = self._operations.list_distributions(principal, marker, max_items)
        directory = self._operations.directory
        items = [
            distributions.summary(record, directory.declaration(record), self._started)
            for record in records
        ]
        body = xml.list_document("DistributionList", marker, next_marker, max_items, items)
        return 200, {}, body

    def _signer(self, request: Request, body: bytes) -> Principal:
        """The principal whose credentials signed the request."""
        from overcast.local.wire import signed_request

        signed = signed_request(request.scope, body)
        found = _SCOPE_REGION.search(signed.header("authorization") or "")
        verifier = self._verifiers.get(found.group(1) if found else GLOBAL_REGION)
        try:
            verified = (verifier or self._verifiers[GLOBAL_REGION]).verify(signed)
        except SignatureError as error:
            raise errors.from_signature_error(error) from None
        session = self._sessions(verified.credentials.access_key_id)
        if session is None:  # revoked between the signature check and now
            raise errors.InvalidClientTokenId()
        return session.principal

    def _credentials(self, access_key_id: str) -> Credentials | None:
        """The verifiers' lookup: expired temporary credentials stop here."""
        session = self._sessions(access_key_id)
        if session is None:
            return None
        if session.expired(self._clock()):
            raise errors.ExpiredToken()
        return session.credentials


def _max_items(query: dict[str, str]) -> int:
    """``MaxItems``: 1-1000 (CloudFront's bound for list calls), 100 when absent."""
    raw = query.get("MaxItems")
    if raw is None:
        return DEFAULT_MAX_ITEMS
    if not re.fullmatch(r"[0-9]{1,4}", raw) or not 1 <= int(raw) <= 1000:
        raise errors.InvalidArgument("MaxItems must be an integer from 1 to 1000.")
    return int(raw)
