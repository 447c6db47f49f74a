"""A service's OpenAPI document, asked of its own API function, offline.

The convention, the same for Overcast's apps and a project's services: a service
that has a document declares the route ``GET /openapi.json`` on its API, and the
function behind that route answers it (with Powertools, ``app.get_openapi_json_schema()``:
generated from the handlers' routes and models, with their security schemes). What
``overcast openapi`` prints is therefore exactly what the running API serves.

To ask without a running cloud, the function's handler runs once in a process of its
own (``overcast.toolkit.invoke``: its cold start may open tables, and module state
must not leak into the caller) on the event API Gateway would send it — a REST proxy
event (format 1.0) built by the local gateway's own :class:`EventBuilder`. Its
environment is the one the local cloud would give it, on a temporary data
directory, with placeholder names for its resources (tables, pools, buckets,
queues, topics, called services' APIs), and an AWS endpoint (``AWS_ENDPOINT_URL``
too) and an SMTP server that answer nothing: a handler that reaches for a backend
while serving the document fails rather than touching a real one. The handler is the
default stage's (a stage may run code of its own), as the API's URL serves.

The document's ``servers`` are the API's URL when a local cloud is running on the
project's data directory, else the stage path (``/v1``), as API Gateway serves a
stage under its name.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from overcast import spec
from overcast.local.aws_services import ServiceResources
from overcast.local.federation.provider import RegisteredIdentityPool
from overcast.local.function_resources import called_apis, function_resources
from overcast.local.functions.environment import base_variables
from overcast.local.gateway.events import EventBuilder, GatewayRequest
from overcast.local.gateway.routes import Resource, RouteMatch
from overcast.local.identity.provider import RegisteredPool
from overcast.runtime.config import RuntimeConfig, resource_variable

DOCUMENT_PATH = "/openapi.json"
# Nothing listens on the discard port: a handler that calls AWS while serving the
# document gets "connection refused" instead of reaching a real account.
NOWHERE_HOST, NOWHERE_PORT = "127.0.0.1", 9
NOWHERE = f"http://{NOWHERE_HOST}:{NOWHERE_PORT}"
_TIMEOUT_SECONDS = 60.0


class OpenApiError(Exception):
    """The document cannot be had: the service serves none, or its function failed."""


def document_route(service: spec.Service) -> spec.Route:
    """The service's ``GET /openapi.json`` route; :class:`OpenApiError` if it has none."""
    api = service.api
    for route in api.routes if api else ():
        if route.method == "GET" and route.path == DOCUMENT_PATH:
            return route
    raise OpenApiError(
        f"Service {service.name!r} serves no OpenAPI document: "
        + ("it declares no API. " if api is None else f"its API declares no GET {DOCUMENT_PATH}. ")
        + f"Declare spec.Route('GET', '{DOCUMENT_PATH}', <function>) and answer it from the "
        "function (with Powertools: app.get_openapi_json_schema())."
    )


def document_event(api: spec.Api, *, now: float) -> dict[str, Any]:
    """The REST proxy event API Gateway sends for ``GET /<stage>/openapi.json``."""
    request = GatewayRequest(
        method="GET",
        path=DOCUMENT_PATH,
        query_string=b"",
        headers={"host": "localhost", "accept": "application/json"},
        multi_headers={"host": ["localhost"], "accept": ["application/json"]},
        body=b"",
        source_ip="127.0.0.1",
        protocol="HTTP/1.1",
        scheme="https",
        server_port=443,
        request_id="openapi-offline",
        extended_request_id="openapi-offline",
        trace_id="Root=1-00000000-000000000000000000000000",
        time=now,
    )
    match = RouteMatch(None, Resource(DOCUMENT_PATH, "openapi"), None)
    builder = EventBuilder(api, account_id="000000000000", api_id="offline")
    return builder.build(request, match, None)


def function_variables(
    service: spec.Service, function: spec.Function, data_dir: Path
) -> dict[str, str]:
    """The local cloud's variables for ``function``, with placeholder resource names."""
    config = RuntimeConfig(
        service=service.name,
        backend="local",
        data_dir=data_dir,
        smtp_host=NOWHERE_HOST,
        smtp_port=NOWHERE_PORT,
        aws_endpoint=NOWHERE,
        resources=_placeholder_resources(service, function),
    )
    offline = {
        "AWS_ACCESS_KEY_ID": "offline",
        "AWS_SECRET_ACCESS_KEY": "offline",
        "AWS_SESSION_TOKEN": "offline",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": NOWHERE,  # SDK clients the handler builds itself
    }
    return {**base_variables(), **offline, **config.to_environ()}


def _placeholder_resources(service: spec.Service, function: spec.Function) -> dict[str, str]:
    """The variables the local cloud would give ``function`` (the same keys, from
    :func:`function_resources`), with placeholder values."""
    pools = {*function.user_pools, *(ids.user_pool for ids in function.identity_pools)}
    offline = ServiceResources(
        user_pools={pool.name: _offline_pool(service.name, pool) for pool in pools},
        identity_pools={
            ids.name: RegisteredIdentityPool("us-east-1:offline", ids.name, "offline")
            for ids in function.identity_pools
        },
        buckets={bucket.name: service.bucket_name(bucket) for bucket in function.buckets},
    )
    names = function_resources(service.name, function, offline)
    for pool in pools:
        for client in pool.clients:
            variable = resource_variable("USER_POOL_CLIENT", f"{pool.name}-{client.name}")
            names[variable] = "offline"
    names |= called_apis(function, {called: f"{NOWHERE}/{called}" for called in function.calls})
    if service.api is not None:
        names[resource_variable("API", service.name)] = f"{NOWHERE}/{service.api.stage}"
    return names


def _offline_pool(service: str, pool: spec.UserPool) -> RegisteredPool:
    return RegisteredPool(
        service=service,
        name=pool.name,
        pool_id="us-east-1_offline",
        arn="offline",
        issuer=NOWHERE,
        client_ids={client.name: "offline" for client in pool.clients},
        jwks={"keys": []},
    )


def fetch_document(service: spec.Service, python_path: Iterable[Path] = ()) -> dict[str, Any]:
    """Ask the service's API function for its document, in a process of its own."""
    route = document_route(service)
    assert service.api is not None  # document_route found a route
    with tempfile.TemporaryDirectory(prefix="overcast-openapi-") as data_dir:
        variables = function_variables(service, route.function, Path(data_dir))
        import_path = [*(str(entry) for entry in python_path), *(e for e in sys.path if e)]
        variables["PYTHONPATH"] = ":".join(dict.fromkeys(import_path))
        request = {
            # The default stage's code: the document the API's URL serves.
            "handler": service.api.default_stage.handler_of(route.function),
            "function": f"{service.name}-{route.function.name}",
            "event": document_event(service.api, now=time.time()),
            "timeout_seconds": route.function.timeout_seconds,
        }
        answer = _run(request, variables, cwd=Path(data_dir))
    return _document_of(service.name, answer)


def _run(request: Mapping[str, Any], variables: Mapping[str, str], cwd: Path) -> Any:
    try:
        done = subprocess.run(
            [sys.executable, "-m", "overcast.toolkit.invoke"],
            input=json.dumps(request).encode(),
            capture_output=True,
            env=dict(variables),
            cwd=cwd,
            timeout=_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise OpenApiError(f"The function did not answer in {_TIMEOUT_SECONDS:.0f} s.") from exc
    if done.returncode != 0:
        output = done.stderr.decode(errors="replace").strip()
        raise OpenApiError(f"The function failed to answer GET {DOCUMENT_PATH}:\n{output}")
    return json.loads(done.stdout)


def _document_of(service: str, answer: Any) -> dict[str, Any]:
    """The document in a proxy integration's answer, or what went wrong."""
    if not isinstance(answer, dict) or "statusCode" not in answer:
        raise OpenApiError(f"The {service} function's answer is not an API Gateway response.")
    body = answer.get("body") or ""
    if answer.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8")
    if answer["statusCode"] != 200:
        raise OpenApiError(
            f"The {service} function answered GET {DOCUMENT_PATH} with "
            f"{answer['statusCode']}: {body[:500]}"
        )
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise OpenApiError(f"The {service} function's document is not JSON: {exc}") from exc
    if not isinstance(document, dict) or "openapi" not in document:
        raise OpenApiError(f"The {service} function's answer is not an OpenAPI document.")
    return document


def with_server(document: Mapping[str, Any], url: str) -> dict[str, Any]:
    """``document`` whose one server is ``url`` (the running API, or the stage path)."""
    return {**document, "servers": [{"url": url}]}


def server_url(service: spec.Service, running_api: str | None) -> str:
    """The running API's URL (stage included), else the stage path API Gateway serves."""
    if running_api:
        return running_api
    stage = service.api.stage if service.api else ""
    return f"/{stage}"
