"""What each SQS call does, apart from HTTP: authorize, find the queue, call the port.

Mirrored from SQS ("Amazon SQS API permissions", "ReceiveMessage", the batch actions):

- Every call is authorized with IAM first, as ``sqs:<Operation>`` on the queue's ARN
  (``ListQueues``: on ``arn:aws:sqs:<region>:<account>:*``), so a caller without the
  permission learns nothing, not even whether the queue exists. Batch calls need the
  permission of their single call ("The permissions for SendMessageBatch ... are the
  same as for SendMessage").
- Batches hold 1-10 entries with distinct ``Id``s of up to 80 alphanumerics, ``-`` and
  ``_``; each entry succeeds or fails on its own (``Successful``/``Failed``), except
  when all the messages together pass the size limit (``BatchRequestTooLong``).
- ``PurgeQueue``: "Only one PurgeQueue operation on <queue> is allowed every 60 seconds"
  (``PurgeQueueInProgress``, remembered by this process); a purge that failed does not
  count, and two purges at once cannot both pass the check.
- ``ReceiveMessage`` without ``WaitTimeSeconds`` waits the queue's
  ``ReceiveMessageWaitTimeSeconds`` ("The length of time, in seconds, for which a
  ReceiveMessage action waits for a message to arrive", the queue's default). The wait
  itself is the caller's (:mod:`overcast.local.sqs.app` waits on its event loop):
  :meth:`SqsOperations.receive_request` checks the call once, then each
  :meth:`SqsOperations.receive_now` is one short look.
- A store that fails (``QueueUnavailable``) is 503 ``ServiceUnavailable``, for every
  call, whether it reads a queue, a listing or the counts.
- ``CreateQueue`` does not create: queues are declared in the services (their source
  of truth). Of a declared queue it returns the URL, as SQS does for an existing queue
  with the same attributes (other attributes: ``QueueNameExists``); of any other name it
  is ``UnsupportedOperation``, saying to declare the queue.

SQS's semantics (visibility, redrive, FIFO, validation, MD5s) are the port's:
:class:`~overcast.ports.queues.messaging.StoredMessaging` and its queues.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from overcast.local.iam.evaluation import AuthorizationRequest, PolicyEvaluator
from overcast.local.iam.principals import Principal
from overcast.local.sqs import errors, messages, queues
from overcast.local.sqs.inventory import MessagingInventory
from overcast.ports.queues import validation
from overcast.ports.queues.base import MAX_BATCH, OutgoingMessage
from overcast.ports.queues.exceptions import QueueError, QueueNotFound
from overcast.ports.queues.messaging import StoredMessaging
from overcast.ports.queues.store import QueueConfig
from overcast.ports.queues.stored import StoredQueue

PURGE_INTERVAL_SECONDS = 60
_ENTRY_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
Params = Mapping[str, Any]
Result = dict[str, Any]
T = TypeVar("T")


@dataclass(frozen=True)
class ReceiveRequest:
    """A checked ``ReceiveMessage``: the queue, how many, how long to wait, what to show."""

    queue: StoredQueue
    count: int
    wait_seconds: int
    visibility_timeout: int | None
    attribute_names: list[str]
    system_names: list[str]


class SqsOperations:
    """The SQS calls, for an authenticated ``principal``; each returns the JSON result."""

    def __init__(
        self,
        messaging: StoredMessaging,
        inventory: MessagingInventory,
        evaluator: PolicyEvaluator,
        *,
        endpoint: str,
        clock: Callable[[], float],
    ) -> None:
        self._messaging = messaging
        self._inventory = inventory
        self._evaluator = evaluator
        self._endpoint = endpoint
        self._clock = clock
        self._purged: dict[str, float] = {}
        self._purging = threading.Lock()

    @property
    def account_id(self) -> str:
        return self._messaging.account_id

    # --- queues -----------------------------------------------------------------

    def get_queue_url(self, principal: Principal, params: Params) -> Result:
        name = _required(params, "QueueName")
        self._queue(principal, "GetQueueUrl", name)
        return {"QueueUrl": self._url(name)}

    def create_queue(self, principal: Principal, params: Params) -> Result:
        name = _required(params, "QueueName")
        self._authorize(principal, "CreateQueue", self._messaging.arn("sqs", name))
        config = self._config(
            name,
            undeclared=errors.UnsupportedOperation(
                f"Queue {name!r} is not declared. The local cloud creates queues from the "
                "services' declarations: add spec.Queue(...) to the service and restart."
            ),
        )
        if not queues.matches_declaration(config, dict(params.get("Attributes") or {})):
            raise errors.QueueNameExists(
                f"A queue already exists with the same name ({name}) and different attributes."
            )
        return {"QueueUrl": self._url(name)}

    def list_queues(self, principal: Principal, params: Params) -> Result:
        resource = self._messaging.arn("sqs", "*")
        self._authorize(principal, "ListQueues", resource)
        prefix = str(params.get("QueueNamePrefix") or "")
        names = [config.name for config in _port(lambda: self._inventory.queues(prefix))]
        limit = params.get("MaxResults")
        start = _start(params.get("NextToken"))
        if limit is None:
            return {"QueueUrls": [self._url(n) for n in names[:1000]]} if names else {}
        size = _integer(limit, "MaxResults", 1, 1000)
        page = names[start : start + size]
        result: Result = {"QueueUrls": [self._url(n) for n in page]} if page else {}
        if start + size < len(names):
            result["NextToken"] = str(start + size)
        return result

    def get_queue_attributes(self, principal: Principal, params: Params) -> Result:
        name = self._named(params)
        self._queue(principal, "GetQueueAttributes", name)
        config = self._config(name)
        counts = _port(lambda: self._inventory.counts(name, self._clock()))
        dead_letter = self._config(config.dead_letter).arn if config.dead_letter else None
        wanted = [str(n) for n in params.get("AttributeNames") or ()]
        found = queues.attributes(config, counts, dead_letter, wanted)
        return {"Attributes": found} if found else {}

    def purge_queue(self, principal: Principal, params: Params) -> Result:
        name = self._named(params)
        self._queue(principal, "PurgeQueue", name)
        with self._purging:  # check, purge and record as one step
            now = self._clock()
            if now - self._purged.get(name, -PURGE_INTERVAL_SECONDS) < PURGE_INTERVAL_SECONDS:
                raise errors.PurgeQueueInProgress(
                    f"Only one PurgeQueue operation on {name} is allowed every 60 seconds."
                )
            _port(lambda: self._inventory.purge(name))
            self._purged[name] = now  # only a purge that happened starts the interval
        return {}

    # --- messages ---------------------------------------------------------------

    def send_message(self, principal: Principal, params: Params) -> Result:
        queue = self._queue(principal, "SendMessage", self._named(params))
        message = _outgoing(params)
        message_id = _port(lambda: queue.send(message))
        return _sent(message, message_id)

    def send_message_batch(self, principal: Principal, params: Params) -> Result:
        queue = self._queue(principal, "SendMessage", self._named(params))
        entries = _entries(params, "Send")
        # SQS: "the length of all the messages put together" (every entry, valid or not).
        size = sum(messages.entry_size(entry) for entry in entries)
        if size > validation.MAX_MESSAGE_BYTES:
            raise errors.BatchRequestTooLong(
                f"Batch requests cannot be longer than {validation.MAX_MESSAGE_BYTES} bytes. "
                f"You have sent {size} bytes."
            )
        checked: list[tuple[str, OutgoingMessage]] = []
        failed: list[Result] = []
        for entry in entries:
            try:
                message = _outgoing(entry)
                _port(lambda m=message: queue.check(m))  # type: ignore[misc]
                checked.append((entry["Id"], message))
            except errors.SqsError as error:
                failed.append(_failure(entry["Id"], error))
        ids = _port(lambda: queue.send_batch([m for _, m in checked])) if checked else []
        successful = [
            {"Id": entry_id, **_sent(message, message_id)}
            for (entry_id, message), message_id in zip(checked, ids, strict=True)
        ]
        return {"Successful": successful, "Failed": failed}

    def receive_request(self, principal: Principal, params: Params) -> ReceiveRequest:
        """Authorize and check a ``ReceiveMessage``; the wait defaults to the queue's."""
        queue = self._queue(principal, "ReceiveMessage", self._named(params))
        count = _integer(params.get("MaxNumberOfMessages", 1), "MaxNumberOfMessages", 1, 10)
        wait = params.get("WaitTimeSeconds")
        timeout = params.get("VisibilityTimeout")
        system = [str(n) for n in params.get("MessageSystemAttributeNames") or ()]
        return ReceiveRequest(
            queue=queue,
            count=count,
            wait_seconds=queue.config.receive_wait_seconds
            if wait is None
            else _integer(wait, "WaitTimeSeconds", 0, 20),
            visibility_timeout=None
            if timeout is None
            else _integer(timeout, "VisibilityTimeout", 0, 43_200),
            attribute_names=[str(n) for n in params.get("MessageAttributeNames") or ()],
            system_names=system + [str(n) for n in params.get("AttributeNames") or ()],
        )

    def receive_now(self, request: ReceiveRequest) -> Result:
        """One look at the queue, without waiting: ``ReceiveMessage``'s result."""
        taken = _port(
            lambda: request.queue.receive(
                request.count, visibility_timeout=request.visibility_timeout
            )
        )
        rendered = [
            messages.received(message, request.attribute_names, request.system_names)
            for message in taken
        ]
        return {"Messages": rendered} if rendered else {}

    def delete_message(self, principal: Principal, params: Params) -> Result:
        queue = self._queue(principal, "DeleteMessage", self._named(params))
        handle = _required(params, "ReceiptHandle")
        _port(lambda: queue.delete(handle))
        return {}

    def delete_message_batch(self, principal: Principal, params: Params) -> Result:
        queue = self._queue(principal, "DeleteMessage", self._named(params))
        successful: list[Result] = []
        failed: list[Result] = []
        for entry in _entries(params, "Delete"):
            try:
                handle = _required(entry, "ReceiptHandle")
                _port(lambda h=handle: queue.delete(h))  # type: ignore[misc]
                successful.append({"Id": entry["Id"]})
            except errors.SqsError as error:
                failed.append(_failure(entry["Id"], error))
        return {"Successful": successful, "Failed": failed}

    def change_message_visibility(self, principal: Principal, params: Params) -> Result:
        queue = self._queue(principal, "ChangeMessageVisibility", self._named(params))
        handle = _required(params, "ReceiptHandle")
        seconds = _integer(params.get("VisibilityTimeout"), "VisibilityTimeout", 0, 43_200)
        _port(lambda: queue.change_visibility(handle, seconds))
        return {}

    # --- helpers ----------------------------------------------------------------

    def _named(self, params: Params) -> str:
        return queues.queue_name(params.get("QueueUrl"), self.account_id)

    def _url(self, name: str) -> str:
        return queues.queue_url(self._endpoint, self.account_id, name)

    def _queue(self, principal: Principal, operation: str, name: str) -> StoredQueue:
        self._authorize(principal, operation, self._messaging.arn("sqs", name))
        return _port(lambda: self._messaging.queue(name))

    def _config(self, name: str, undeclared: errors.SqsError | None = None) -> QueueConfig:
        listed = _port(lambda: self._inventory.queues(name))
        found = [config for config in listed if config.name == name]
        if not found:
            raise undeclared or errors.QueueDoesNotExist()
        return found[0]

    def _authorize(self, principal: Principal, operation: str, resource: str) -> None:
        action = f"sqs:{operation}"
        if not self._evaluator.allowed(AuthorizationRequest(principal, action, resource)):
            caller = principal.session_arn or principal.arn
            raise errors.AccessDenied(
                f"User: {caller} is not authorized to perform: {action} on resource: {resource}"
            )


def _port(call: Callable[[], T]) -> T:
    """Run a port call, its exceptions become SQS's."""
    try:
        return call()
    except QueueNotFound:
        raise errors.QueueDoesNotExist() from None
    except QueueError as error:
        raise errors.from_port_error(error) from None


def _required(params: Params, name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise errors.MissingParameter(f"The request must contain the parameter {name}.")
    return value


def _integer(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise errors.InvalidParameterValue(
            f"Value {value} for parameter {name} is invalid. Reason: it must be {low}-{high}."
        )
    return value


def _start(token: Any) -> int:
    if token is None:
        return 0
    if not isinstance(token, str) or not token.isdigit():
        raise errors.InvalidParameterValue("Invalid NextToken value.")
    return int(token)


def _outgoing(params: Params) -> OutgoingMessage:
    body = params.get("MessageBody")
    if not isinstance(body, str):
        raise errors.MissingParameter("The request must contain the parameter MessageBody.")
    delay = params.get("DelaySeconds")
    return OutgoingMessage(
        body=body,
        attributes=messages.attributes_in(params.get("MessageAttributes")),
        delay_seconds=None if delay is None else _integer(delay, "DelaySeconds", 0, 900),
        group_id=params.get("MessageGroupId"),
        deduplication_id=params.get("MessageDeduplicationId"),
    )


def _sent(message: OutgoingMessage, message_id: str) -> Result:
    result: Result = {
        "MessageId": message_id,
        "MD5OfMessageBody": validation.md5_of_body(message.body),
    }
    digest = validation.md5_of_attributes(message.attributes)
    if digest is not None:
        result["MD5OfMessageAttributes"] = digest
    return result


def _entries(params: Params, action: str) -> list[Mapping[str, Any]]:
    entries = params.get("Entries")
    if not isinstance(entries, list) or not entries:
        raise errors.EmptyBatchRequest(
            f"There should be at least one {action}MessageBatchRequestEntry in the request."
        )
    if len(entries) > MAX_BATCH:
        raise errors.TooManyEntriesInBatchRequest(
            f"Maximum number of entries per request are {MAX_BATCH}. You have sent {len(entries)}."
        )
    seen: set[str] = set()
    for entry in entries:
        entry_id = entry.get("Id") if isinstance(entry, Mapping) else None
        if not isinstance(entry_id, str) or not _ENTRY_ID.match(entry_id):
            raise errors.InvalidBatchEntryId(
                "A batch entry id can only contain alphanumeric characters, hyphens and "
                "underscores. It can be at most 80 letters long."
            )
        if entry_id in seen:
            raise errors.BatchEntryIdsNotDistinct(f"Id {entry_id} repeated.")
        seen.add(entry_id)
    return entries


def _failure(entry_id: str, error: errors.SqsError) -> Result:
    return {
        "Id": entry_id,
        "SenderFault": error.fault == "Sender",
        "Code": error.query_code,
        "Message": error.message,
    }
