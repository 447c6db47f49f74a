"""A plain Lambda handler: no framework, the REST proxy event as AWS sends it."""

import json
import time
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    path = event["resource"]
    if path == "/slow":
        time.sleep(2)
    body = {
        "resource": path,
        "path": event["path"],
        "pathParameters": event["pathParameters"],
        "stage": event["requestContext"]["stage"],
        "claims": (event["requestContext"].get("authorizer") or {}).get("claims"),
        "function": context.function_name,
    }
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }
