"""One access-log line per request, in API Gateway's CLF-like access log format.

The API Gateway console's "CLF" format is::

    $context.identity.sourceIp $context.identity.caller $context.identity.user
    [$context.requestTime] "$context.httpMethod $context.resourcePath $context.protocol"
    $context.status $context.responseLength $context.requestId

We write the same fields (``-`` for the caller and user, which a Cognito-authorized
request does not have) and append the latency in milliseconds
(``$context.responseLatency``), e.g.::

    127.0.0.1 - - [09/Apr/2015:12:34:56 +0000] "GET /todos/{id} HTTP/1.1" 200 42 3b4c... 3ms

For a request that matched no resource the request path stands in for the resource
path, which is what one wants to see when hunting a 403.
"""

from __future__ import annotations

from typing import NamedTuple


class AccessRecord(NamedTuple):
    """The facts one access-log line reports."""

    request_id: str
    source_ip: str
    request_time: str
    method: str
    resource_path: str
    protocol: str
    status: int
    response_length: int
    latency_ms: int


def format_access_line(record: AccessRecord) -> str:
    """The CLF-like line for ``record``."""
    return (
        f"{record.source_ip} - - [{record.request_time}] "
        f'"{record.method} {record.resource_path} {record.protocol}" '
        f"{record.status} {record.response_length} {record.request_id} {record.latency_ms}ms"
    )
