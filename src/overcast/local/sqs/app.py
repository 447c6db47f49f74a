"""SQS's AWS JSON 1.0 protocol, served as an ASGI app.

``POST /`` with ``X-Amz-Target: AmazonSQS.<Operation>`` and a JSON body
(``application/x-amz-json-1.0``); the answer is the operation's JSON output, or SQS's
error (:mod:`overcast.local.sqs.errors`). Every call must be SigV4-signed for service
``sqs`` in the cloud's region with credentials the local cloud knows. Operations run
in worker threads, each one short: a long poll (``WaitTimeSeconds`` up to 20 s) waits
on the event loop, looking at the queue every ``poll_seconds`` in a short worker-thread
call, so any number of long polls holds neither the event loop nor the worker threads
that serve every other API. A long poll ends when a message is there ("returns as
soon as a message is available"), when its wait is over, or when its client has gone
(no message is then taken for nobody). Parameters of the wrong JSON type are refused
first (:mod:`overcast.local.sqs.shapes`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from overcast.local.auth.request_signer import RequestSigner
from overcast.local.iam.principals import Principal
from overcast.local.sqs import errors, shapes
from overcast.local.sqs.operations import Params, Result, SqsOperations

SERVICE = "sqs"
TARGET_PREFIX = "AmazonSQS."
CONTENT_TYPE = "application/x-amz-json-1.0"
# A 1 MiB message grows in JSON (escapes, base64 attributes): room for a full batch.
MAX_BODY_BYTES = 4 * 1024 * 1024
_log = logging.getLogger(__name__)

Operation = Callable[[SqsOperations, Principal, Params], Result]
OPERATIONS: dict[str, Operation] = {
    "GetQueueUrl": SqsOperations.get_queue_url,
    "CreateQueue": SqsOperations.create_queue,
    "ListQueues": SqsOperations.list_queues,
    "GetQueueAttributes": SqsOperations.get_queue_attributes,
    "PurgeQueue": SqsOperations.purge_queue,
    "SendMessage": SqsOperations.send_message,
    "SendMessageBatch": SqsOperations.send_message_batch,
    "DeleteMessage": SqsOperations.delete_message,
    "DeleteMessageBatch": SqsOperations.delete_message_batch,
    "ChangeMessageVisibility": SqsOperations.change_message_visibility,
}


class SqsApi:
    """ASGI app: SQS's JSON protocol over :class:`SqsOperations`."""

    def __init__(
        self, operations: SqsOperations, signer: RequestSigner, *, poll_seconds: float = 0.05
    ) -> None:
        self._operations = operations
        self._signer = signer
        self._poll_seconds = poll_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request_id = str(uuid.uuid4())
        headers: dict[str, str] = {}
        try:
            status, body = 200, await self._answer(Request(scope, receive))
        except errors.SqsError as error:
            status, body, headers = _error(error)
        except Exception:
            _log.exception("Internal error in SQS (request %s)", request_id)
            status, body, headers = _error(errors.InternalFailure())
        headers["x-amzn-RequestId"] = request_id
        await Response(body, status, headers, media_type=CONTENT_TYPE)(scope, receive, send)

    async def _answer(self, request: Request) -> bytes:
        from overcast.local.wire import BodyTooLarge, read_body  # import cycle: see wire

        try:
            body = await read_body(request, MAX_BODY_BYTES)
        except BodyTooLarge:
            raise errors.RequestEntityTooLarge() from None
        target = request.headers.get("x-amz-target", "")
        name = target.removeprefix(TARGET_PREFIX)
        operation = OPERATIONS.get(name)
        principal = await asyncio.to_thread(self._principal, request.scope, body)
        known = operation is not None or name == "ReceiveMessage"
        if not known or not target.startswith(TARGET_PREFIX):
            raise errors.InvalidAction(f"The action {target or '(none)'} is not valid.")
        params = _params(body)
        shapes.check(name, params)
        if operation is None:
            result = await self._receive(request, principal, params)
        else:
            result = await asyncio.to_thread(operation, self._operations, principal, params)
        return json.dumps(result, separators=(",", ":")).encode()

    async def _receive(self, request: Request, principal: Principal, params: Params) -> Result:
        """``ReceiveMessage``: short looks in worker threads, the waits on the event loop."""
        ask = await asyncio.to_thread(self._operations.receive_request, principal, params)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ask.wait_seconds
        while True:
            result = await asyncio.to_thread(self._operations.receive_now, ask)
            remaining = deadline - loop.time()
            if result or remaining <= 0:
                return result
            await asyncio.sleep(min(self._poll_seconds, remaining))
            if await request.is_disconnected():
                return {}

    def _principal(self, scope: Scope, body: bytes) -> Principal:
        return self._signer.authenticate(scope, body, errors.signature_errors)


def _params(body: bytes) -> dict[str, Any]:
    try:
        params = json.loads(body or b"{}")
    except ValueError:
        raise errors.InvalidParameterValue("The request body is not valid JSON.") from None
    if not isinstance(params, dict):
        raise errors.InvalidParameterValue("The request body must be a JSON object.")
    return params


def _error(error: errors.SqsError) -> tuple[int, bytes, dict[str, str]]:
    body = json.dumps({"__type": error.type, "message": error.message}).encode()
    headers = {"x-amzn-query-error": f"{error.query_code};{error.fault}"}
    return error.status, body, headers
