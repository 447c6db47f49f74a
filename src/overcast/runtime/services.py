"""Calls from one service's function to another service's API: through its gateway, as
the caller.

Microservices own their data: a function never reads another service's table or
invokes its functions. It calls the other service's REST API, through that API's
gateway, *with the credentials of whoever called it*: the ``Authorization`` header of
the API Gateway event it is handling, and nothing else. So the other service's
authorizer checks the end user, and the other service answers with that user's data
and none of anyone else's; the calling function's own role grants nothing there.

- The function declares the call (``spec.Function(calls=("todo",))``) and learns the
  other API's stage URL as ``OVERCAST_RESOURCE_API_TODO`` (locally from the local
  cloud; on AWS from the deployer, see :mod:`overcast.aws.service_calls`).
- :class:`ServiceCaller` sends ``GET/POST/PUT/DELETE <URL><path>`` with the caller's
  ``Authorization`` (API Gateway REST events keep header names as the client sent them,
  so it is found case-insensitively), never AWS credentials, and never follows a
  redirect (which would carry the token elsewhere). Locally it trusts the local CA
  (``AWS_CA_BUNDLE``); on Lambda, the system's roots.
- Errors, drawn as httpx draws its tree::

      ServiceCallError
      ├── ServiceRefused      4xx: the other service said no (status and body kept,
      │                       e.g. 401 when the caller's token is missing or invalid)
      └── ServiceUnavailable  5xx, timeout, connection or TLS failure

- A path is the caller's own choice, so a bad one is a :class:`ValueError` (a bug in
  the calling function, not the other service being down): it must start with one
  ``/`` and hold no ``..`` segment (plain or percent-encoded: it would climb out of
  the resource the code means), no ``?`` or ``#``, no whitespace or control
  character.
- Given the invocation's Lambda ``context``, the call's timeout is at most the time
  the invocation has left (``context.get_remaining_time_in_millis()``): Lambda ends
  the invocation at its timeout whatever the function is waiting for.

Standard library only (``urllib``): it is part of every Lambda bundle.
"""

from __future__ import annotations

import json as jsonlib
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from overcast.runtime.config import RuntimeConfig, resource_variable

DEFAULT_TIMEOUT_SECONDS = 10.0
USER_AGENT = "overcast-service-caller"


class LambdaContext(Protocol):
    """The part of Lambda's context object a call uses."""

    def get_remaining_time_in_millis(self) -> int: ...


class ServiceCallError(Exception):
    """A call to another service's API did not succeed."""

    def __init__(self, service: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.service = service
        self.status = status


class ServiceRefused(ServiceCallError):
    """The other service answered 4xx; ``status`` and ``body`` are its answer's."""

    def __init__(self, service: str, status: int, body: bytes) -> None:
        super().__init__(service, f"The {service} API answered {status}.", status)
        self.body = body

    def json(self) -> Any:
        return jsonlib.loads(self.body)


class ServiceUnavailable(ServiceCallError):
    """The other service failed (5xx), or could not be reached in time."""


@dataclass(frozen=True)
class OutgoingRequest:
    """What is sent: method, full URL, headers and body."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None = None
    # At most this long (the invocation's remaining time); None: the transport's own.
    timeout_seconds: float | None = None


@dataclass(frozen=True)
class ServiceResponse:
    """A 2xx or 3xx answer of the other service."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.body)


# Sends a request and returns the answer, whatever its status; raises
# ServiceUnavailable when there is no answer (timeout, connection, TLS).
Transport = Callable[[OutgoingRequest], ServiceResponse]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is answered as is: the caller's token goes nowhere else


@dataclass(frozen=True)
class UrllibTransport:
    """:data:`Transport` over ``urllib``, with a timeout, trusting ``ca_bundle`` if given."""

    service: str
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    ca_bundle: str | None = None
    _opener: urllib.request.OpenerDirector = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        context = ssl.create_default_context(cafile=self.ca_bundle)
        opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context), _NoRedirects()
        )
        object.__setattr__(self, "_opener", opener)

    def __call__(self, request: OutgoingRequest) -> ServiceResponse:
        outgoing = urllib.request.Request(
            request.url, data=request.body, headers=dict(request.headers), method=request.method
        )
        try:
            timeout = min(self.timeout_seconds, request.timeout_seconds or self.timeout_seconds)
            with self._opener.open(outgoing, timeout=timeout) as answer:
                return ServiceResponse(answer.status, dict(answer.headers), answer.read())
        except urllib.error.HTTPError as error:
            with error:
                return ServiceResponse(error.code, dict(error.headers), error.read())
        except (OSError, ValueError) as error:  # URLError, timeouts, TLS, refused
            raise ServiceUnavailable(
                self.service, f"The {self.service} API could not be reached: {error}"
            ) from error


def caller_authorization(event: Mapping[str, Any]) -> str | None:
    """The ``Authorization`` header of an API Gateway REST (v1) proxy event, if any."""
    for headers in (event.get("headers"), event.get("multiValueHeaders")):
        for name, value in (headers or {}).items():
            if name.lower() == "authorization" and value:
                return value if isinstance(value, str) else str(value[0])
    return None


class ServiceCaller:
    """Calls ``service``'s API as the caller of the current invocation.

    ``config`` must hold the other API's URL (``OVERCAST_RESOURCE_API_<SERVICE>``): the
    function declares ``calls=(service,)``. ``transport`` defaults to
    :class:`UrllibTransport`.
    """

    def __init__(
        self,
        config: RuntimeConfig,
        service: str,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        transport: Transport | None = None,
    ) -> None:
        variable = resource_variable("API", service)
        if variable not in config.resources:
            raise ValueError(
                f"This function does not call service {service!r}: {variable} is not set. "
                f"Declare it on the function: spec.Function(..., calls=({service!r},))."
            )
        self.service = service
        self.base_url = config.resources[variable].rstrip("/")
        self._timeout = timeout_seconds
        self._send = transport or UrllibTransport(service, timeout_seconds, config.ca_bundle)

    def get(
        self,
        path: str,
        *,
        caller_event: Mapping[str, Any],
        query: Mapping[str, str] | None = None,
        context: LambdaContext | None = None,
    ) -> ServiceResponse:
        return self.request("GET", path, caller_event=caller_event, query=query, context=context)

    def delete(
        self,
        path: str,
        *,
        caller_event: Mapping[str, Any],
        query: Mapping[str, str] | None = None,
        context: LambdaContext | None = None,
    ) -> ServiceResponse:
        return self.request("DELETE", path, caller_event=caller_event, query=query, context=context)

    def post(
        self,
        path: str,
        *,
        caller_event: Mapping[str, Any],
        json: Any = None,
        context: LambdaContext | None = None,
    ) -> ServiceResponse:
        return self.request("POST", path, caller_event=caller_event, json=json, context=context)

    def put(
        self,
        path: str,
        *,
        caller_event: Mapping[str, Any],
        json: Any = None,
        context: LambdaContext | None = None,
    ) -> ServiceResponse:
        return self.request("PUT", path, caller_event=caller_event, json=json, context=context)

    def request(
        self,
        method: str,
        path: str,
        *,
        caller_event: Mapping[str, Any],
        json: Any = None,
        query: Mapping[str, str] | None = None,
        context: LambdaContext | None = None,
    ) -> ServiceResponse:
        """Send ``method path`` as the event's caller; raise :class:`ServiceCallError`
        unless the answer is 2xx or 3xx, :class:`ValueError` for a bad ``path``.

        ``query`` is sent as the query string (a ``path`` holds none); ``context`` (the
        invocation's) caps the timeout at the time it has left.
        """
        check_path(path)
        timeout = self._timeout_within(context)
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        authorization = caller_authorization(caller_event)
        if authorization is not None:
            headers["Authorization"] = authorization
        body = None
        if json is not None:
            body = jsonlib.dumps(json).encode()
            headers["Content-Type"] = "application/json"
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        outgoing = OutgoingRequest(method, url, headers, body, timeout)
        answer = self._send(outgoing)
        if 400 <= answer.status < 500:
            raise ServiceRefused(self.service, answer.status, answer.body)
        if answer.status >= 500:
            raise ServiceUnavailable(
                self.service, f"The {self.service} API failed: {answer.status}.", answer.status
            )
        return answer

    def _timeout_within(self, context: LambdaContext | None) -> float:
        if context is None:
            return self._timeout
        remaining = context.get_remaining_time_in_millis() / 1000
        if remaining <= 0:
            raise ServiceUnavailable(
                self.service,
                f"No time left to call the {self.service} API: the invocation is at its timeout.",
            )
        return min(self._timeout, remaining)


def check_path(path: str) -> None:
    """:class:`ValueError` unless ``path`` is a plain resource path: one leading ``/``, no
    ``..`` segment (even percent-encoded), no ``?``, ``#``, whitespace or control
    character."""
    if not path.startswith("/") or path.startswith("//"):
        raise ValueError(f"A service path starts with one '/': {path!r}.")
    if "?" in path or "#" in path:
        raise ValueError(
            f"A service path has no query string or fragment: {path!r}; pass the query "
            "as query={...}."
        )
    if any(char.isspace() or not char.isprintable() for char in path):
        raise ValueError(
            f"A service path has no whitespace or control character: {path!r}; "
            "percent-encode it (urllib.parse.quote)."
        )
    decoded = urllib.parse.unquote(path)
    if any(segment == ".." for segment in decoded.split("/")):
        raise ValueError(f"A service path has no '..' segment: {path!r}.")
