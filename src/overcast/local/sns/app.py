"""SNS's query protocol, served as an ASGI app.

``POST /`` with form parameters ``Action=<Operation>&Version=2010-03-31&...``
(:mod:`overcast.local.sns.query`); the answer is the operation's XML result or SNS's
XML error. Every call must be SigV4-signed for service ``sns`` in the cloud's region
with credentials the local cloud knows. An unknown ``Action``, or a ``Version`` other
than 2010-03-31, is ``InvalidAction``. Operations run in worker threads (a publish is
one SQLite transaction over every subscribed queue).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from overcast.local.auth.request_signer import RequestSigner
from overcast.local.iam.principals import Principal
from overcast.local.sns import errors, query
from overcast.local.sns.operations import Result, SnsOperations

SERVICE = "sns"
_log = logging.getLogger(__name__)

Operation = Callable[[SnsOperations, Principal, query.Params], Result]
OPERATIONS: dict[str, Operation] = {
    "CreateTopic": SnsOperations.create_topic,
    "ListTopics": SnsOperations.list_topics,
    "GetTopicAttributes": SnsOperations.get_topic_attributes,
    "ListSubscriptions": SnsOperations.list_subscriptions,
    "ListSubscriptionsByTopic": SnsOperations.list_subscriptions_by_topic,
    "Publish": SnsOperations.publish,
    "PublishBatch": SnsOperations.publish_batch,
}


class SnsApi:
    """ASGI app: SNS's query protocol over :class:`SnsOperations`."""

    def __init__(self, operations: SnsOperations, signer: RequestSigner) -> None:
        self._operations = operations
        self._signer = signer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request_id = str(uuid.uuid4())
        try:
            status, body = 200, await self._answer(Request(scope, receive), request_id)
        except errors.SnsError as error:
            status = error.status
            body = query.error_document(error.fault, error.code, error.message, request_id)
        except Exception:
            _log.exception("Internal error in SNS (request %s)", request_id)
            fault = errors.InternalError()
            status = fault.status
            body = query.error_document(fault.fault, fault.code, fault.message, request_id)
        headers = {"x-amzn-RequestId": request_id}
        await Response(body, status, headers, media_type=query.CONTENT_TYPE)(scope, receive, send)

    async def _answer(self, request: Request, request_id: str) -> bytes:
        from overcast.local.wire import BodyTooLarge, read_body  # import cycle: see wire

        try:
            body = await read_body(request)
        except BodyTooLarge:
            raise errors.RequestEntityTooLarge() from None
        principal = await asyncio.to_thread(self._principal, request.scope, body)
        params = query.parameters(request.scope.get("query_string", b""), body)
        action = params.get("Action", "")
        version = params.get("Version", query.VERSION)
        operation = OPERATIONS.get(action)
        if operation is None or version != query.VERSION:
            raise errors.InvalidAction(
                f"Could not find operation {action or '(none)'} for version {version}"
            )
        result = await asyncio.to_thread(operation, self._operations, principal, params)
        return query.result_document(action, result, request_id)

    def _principal(self, scope: Scope, body: bytes) -> Principal:
        return self._signer.authenticate(scope, body, errors.signature_errors)
