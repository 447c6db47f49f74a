"""``GET /todos`` of the pinboard: the caller's to-dos, read from the to-do API.

The pinboard owns no to-do data and has no access to the to-do table: it calls the
to-do API through its gateway with its own caller's token (``calls=("todo",)``), so the
to-do service decides who sees what. Its refusal (401 without a valid token) is passed
on as is.
"""

import functools
import json
from typing import Any

from overcast.runtime.config import RuntimeConfig
from overcast.runtime.services import ServiceCaller, ServiceRefused, ServiceUnavailable


@functools.cache
def _todo_api() -> ServiceCaller:
    return ServiceCaller(RuntimeConfig.from_environ(), "todo", timeout_seconds=4)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        answer = _todo_api().get("/todos", caller_event=event)
    except ServiceRefused as refused:
        return _json(refused.status, {"message": "The to-do API refused the call."})
    except ServiceUnavailable:
        return _json(502, {"message": "The to-do API is unavailable."})
    todos = [{"id": item["id"], "title": item["title"]} for item in answer.json()["items"]]
    return _json(200, {"todos": todos})


def _json(status: int, body: object) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }
