"""The blog's REST API: RealWorld ("Conduit") under ``/api``, on Powertools' REST resolver.

The routes are public at API Gateway; the function verifies ``Authorization: Token
<jwt>`` (or ``Bearer``) itself (see ``tokens.py``). Reads work with or without a
token; a token that is present must verify (401 otherwise), as RealWorld servers do.

Every error is ``{"errors": {"<field>": ["<message>"]}}`` with the contract's status:
401 no or bad token, 403 not the author, 404 no such resource, 409 taken, 422 a body
that is not JSON, lacks the wrapper (``{"user": ...}``) or has a bad field, and bad
query parameters. 503 when the table or the user pool is unavailable.

``GET /openapi.json`` serves the API's OpenAPI document and ``GET /swagger`` a Swagger
UI page of it (see ``openapi.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from overcast.apps.blog import openapi as docs
from overcast.apps.blog import service
from overcast.apps.blog.accounts import CognitoUserDirectory, DirectoryUnavailable
from overcast.apps.blog.articles import Articles
from overcast.apps.blog.blog import Blog, Verifier
from overcast.apps.blog.domain import BlogError
from overcast.apps.blog.people import People
from overcast.apps.blog.photos import Photos, S3Presigner, presigning_client
from overcast.apps.blog.routes import add_routes
from overcast.apps.blog.subscribers import Subscribers
from overcast.apps.blog.tokens import TokenVerifier, cognito_issuer, https_jwks
from overcast.apps.blog.web import JSON, Callers, error
from overcast.ports.tables import TableUnavailable
from overcast.runtime import ColdStart, RuntimeConfig
from overcast.runtime.adapters import aws_clients, open_table


def create_app(
    blog: Blog, photos: Photos, verify: Verifier, logger: Logger | None = None
) -> APIGatewayRestResolver:
    """The resolver serving every route of ``service.blog_api``."""
    app = APIGatewayRestResolver()
    add_routes(app, blog, photos, Callers(app, verify))
    docs.add_document_routes(app)
    _add_error_handlers(app, logger)
    return app


def _add_error_handlers(app: APIGatewayRestResolver, logger: Logger | None) -> None:
    def unavailable(exc: Exception) -> Response[Any]:
        if logger is not None:
            logger.exception("A backend is unavailable", exc_info=exc)
        return error(503, "server", "is unavailable; try again shortly")

    def blog_error(exc: BlogError) -> Response[Any]:
        return Response(status_code=exc.status, content_type=JSON, body=exc.body())

    app.exception_handler(BlogError)(blog_error)
    app.exception_handler(TableUnavailable)(unavailable)
    app.exception_handler(DirectoryUnavailable)(unavailable)
    app.not_found()(lambda _: error(404, "resource", "not found"))


# --- the Lambda entry point -------------------------------------------------------


class BlogFunction:
    """What a cold start builds: the resolver."""

    def __init__(self, app: APIGatewayRestResolver) -> None:
        self.app = app

    def resolve(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        response: dict[str, Any] = self.app.resolve(event, context)
        return response


def _clock() -> datetime:
    return datetime.now(UTC)


def bootstrap(config: RuntimeConfig) -> BlogFunction:
    """The composition root: table, user pool, token verifier, presigner, resolver.

    The user pool's app client id comes from ``OVERCAST_RESOURCE_USER_POOL_CLIENT_READERS_WEB``.
    """
    logger = Logger(service=config.service or "blog")
    table = open_table(service.blog_table, config)
    pool_id = config.resource("USER_POOL", service.readers.name)
    client_id = config.resource("USER_POOL_CLIENT", f"{service.readers.name}-web")
    directory = CognitoUserDirectory(aws_clients.client("cognito-idp", config), pool_id, client_id)
    verify: Callable[[str], str] = TokenVerifier(
        cognito_issuer(pool_id, config.region, config.aws_endpoint),
        client_id,
        https_jwks(config.ca_bundle),
    )
    bucket = config.resource("BUCKET", service.photos_bucket.name)
    client = presigning_client(config.region, config.aws_endpoint, config.ca_bundle)
    presigner = S3Presigner(client, bucket)
    blog = Blog(People(table), Articles(table, _clock), Subscribers(table, _clock), directory)
    photos = Photos(table, presigner, _clock)
    return BlogFunction(create_app(blog, photos, verify, logger))


dependencies = ColdStart(bootstrap)


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The Lambda handler (``overcast.apps.blog.handler:handler``)."""
    return dependencies().resolve(event, context)
