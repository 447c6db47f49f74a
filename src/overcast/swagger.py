"""A Swagger UI page for a function's OpenAPI document, that works offline.

``GET /swagger`` is Swagger UI on the document; its script and style sheet are
Swagger UI 5 as Powertools ships it, served by the same function
(``GET /swagger-ui/<file>``), never from a CDN. (The ``swagger-ui-bundle`` package holds
Swagger UI 4.15, which cannot render OpenAPI 3.1, the version Powertools writes.) Not
part of ``overcast.runtime``: only the bundles of apps that import it carry it (and the
Powertools it needs).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi import swagger_ui

SWAGGER_PATH = "/swagger"
SWAGGER_ASSETS = "/swagger-ui"
# The files Powertools' Swagger page asks for under its base URL, and their types.
SWAGGER_FILES = {"swagger-ui-bundle.min.js": "text/javascript", "swagger-ui.min.css": "text/css"}
_SWAGGER_DIR = Path(swagger_ui.__file__).parent


def add_swagger_routes(app: APIGatewayRestResolver, document: Callable[[], str]) -> None:
    """``GET /swagger``: Swagger UI on ``document``, its script and styles served here."""

    @app.get(SWAGGER_PATH, include_in_schema=False, enable_validation=False)
    def swagger_page() -> Response[str]:
        base = _path_prefix(app) + SWAGGER_ASSETS
        # As Powertools does: "</" inside the inline script would end it early.
        spec = document().replace("</", "<\\/")
        page = swagger_ui.generate_swagger_html(
            spec, f"{base}/swagger-ui-bundle.min.js", f"{base}/swagger-ui.min.css", base, None
        )
        return Response(status_code=200, content_type="text/html; charset=utf-8", body=page)

    for name, content_type in SWAGGER_FILES.items():
        _add_swagger_file(app, name, content_type)


def _add_swagger_file(app: APIGatewayRestResolver, name: str, content_type: str) -> None:
    content = functools.cache((_SWAGGER_DIR / name).read_bytes)

    @app.get(f"{SWAGGER_ASSETS}/{name}", include_in_schema=False, enable_validation=False)
    def swagger_file() -> Response[str]:
        return Response(
            status_code=200,
            content_type=f"{content_type}; charset=utf-8",
            body=content().decode("utf-8"),
            headers={"Cache-Control": "public, max-age=86400"},
        )


def _path_prefix(app: APIGatewayRestResolver) -> str:
    # requestContext.path is the path the caller used ("/v1/swagger"), event.path the
    # resource's ("/swagger"): what precedes it is the stage (or a base path mapping).
    event = app.current_event
    used = event.request_context.get("path") or event.path
    return used[: -len(event.path)] if used.endswith(event.path) else ""
