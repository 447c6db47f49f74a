"""HTTP helpers shared by the routes: RealWorld errors, wrapped bodies, the caller."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from pydantic import BaseModel, ValidationError

from overcast.apps.blog.blog import Verifier
from overcast.apps.blog.domain import Invalid, Unauthorized
from overcast.apps.blog.tokens import bearer_token

JSON = content_types.APPLICATION_JSON
Model = TypeVar("Model", bound=BaseModel)


def error(status: int, field: str, message: str) -> Response[Any]:
    """A RealWorld error response."""
    return Response(status_code=status, content_type=JSON, body={"errors": {field: [message]}})


def body_of(app: APIGatewayRestResolver, wrapper: str, model: type[Model]) -> Model:
    """The ``{wrapper: {...}}`` body as ``model``; :class:`Invalid` naming what is wrong."""
    try:
        document = json.loads(app.current_event.body or "")
    except (ValueError, TypeError):
        raise Invalid("body", "is not valid JSON") from None
    if not isinstance(document, dict) or not isinstance(document.get(wrapper), dict):
        raise Invalid(wrapper, "is missing")
    return validated(model, document[wrapper], wrapper)


def validated(model: type[Model], data: Any, field: str = "body") -> Model:
    """``data`` as ``model``; :class:`Invalid` naming the first field that is wrong."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problem = exc.errors()[0]
        name = ".".join(str(part) for part in problem["loc"]) or field
        message = "can't be blank" if problem["type"] == "missing" else problem["msg"]
        raise Invalid(name, message) from None


class Callers:
    """Who is calling: the ``sub`` of a verified token, and the token itself."""

    def __init__(self, app: APIGatewayRestResolver, verify: Verifier) -> None:
        self._app = app
        self._verify = verify

    def token(self) -> str | None:
        return bearer_token(self._app.current_event.headers.get("Authorization"))

    def optional(self) -> str | None:
        token = self.token()
        return None if token is None else self._verify(token)

    def required(self) -> str:
        token = self.token()
        if token is None:
            raise Unauthorized("token", "is missing")
        return self._verify(token)
