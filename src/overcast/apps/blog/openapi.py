"""The blog API's OpenAPI document (RealWorld under ``/api``), its route and Swagger UI.

The routes read their bodies and query parameters themselves (RealWorld's wrapped
bodies and error shape, see ``web.py``), so Powertools' document holds the paths,
path parameters and operation ids only. :data:`OPERATIONS` says the rest, once per
route, with the domain's own models: the request body (its JSON schema is the
pydantic model that validates it), the query parameters, the success response and
the errors each route may answer, and whether it wants RealWorld's token.

RealWorld's token travels as ``Authorization: Token <jwt>`` (``Bearer`` works too), so
the security scheme is an API key in the ``Authorization`` header, as in RealWorld's
own OpenAPI document. Routes that read with or without a token list both
(``[{}, {"Token": []}]``).

``GET /openapi.json`` serves the document, generated on first request and kept;
``GET /swagger`` is Swagger UI on it, served offline by this function
(:mod:`overcast.swagger`, shared with the to-do app).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, Server
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from overcast.apps.blog import service
from overcast.apps.blog.domain import (
    Article,
    Comment,
    LoginUser,
    NewArticle,
    NewComment,
    NewPhoto,
    NewSubscription,
    NewUser,
    Profile,
    UpdateArticle,
    UpdateUser,
    User,
)
from overcast.swagger import add_swagger_routes

TOKEN_SCHEME = "Token"
DOCUMENT_PATH = "/openapi.json"
_JSON = content_types.APPLICATION_JSON

# --- the models of requests and answers ----------------------------------------------


class GenericError(BaseModel):
    """Every error: ``{"errors": {"<field>": ["<message>"]}}``."""

    errors: dict[str, list[str]]


class UserBody(BaseModel):
    user: User


class ProfileBody(BaseModel):
    profile: Profile


class ArticleBody(BaseModel):
    article: Article


class ArticleSummary(BaseModel):
    """An article in a list: everything but its body."""

    slug: str
    title: str
    description: str
    tagList: list[str]
    createdAt: str
    updatedAt: str
    favorited: bool
    favoritesCount: int
    author: Profile


class ArticlesPage(BaseModel):
    articles: list[ArticleSummary]
    articlesCount: int


class CommentBody(BaseModel):
    comment: Comment


class CommentsBody(BaseModel):
    comments: list[Comment]


class TagsBody(BaseModel):
    tags: list[str]


class Subscription(BaseModel):
    email: str
    status: Literal["subscribed", "unsubscribed"]


class SubscriptionBody(BaseModel):
    subscription: Subscription


class Upload(BaseModel):
    """A presigned POST to the photos bucket: post ``fields`` and the file to ``url``."""

    url: str
    fields: dict[str, str]


class Photo(BaseModel):
    """A photo: ``pending`` until its thumbnails are made (``ready``) or it is ``rejected``."""

    id: str
    status: Literal["pending", "ready", "rejected"]
    reason: str | None = None
    thumbnails: dict[str, str] | None = None
    upload: Upload | None = None


class PhotoBody(BaseModel):
    photo: Photo


class NewUserBody(BaseModel):
    user: NewUser


class LoginBody(BaseModel):
    user: LoginUser


class UpdateUserBody(BaseModel):
    user: UpdateUser


class NewArticleBody(BaseModel):
    article: NewArticle


class UpdateArticleBody(BaseModel):
    article: UpdateArticle


class NewCommentBody(BaseModel):
    comment: NewComment


# --- what each route takes and answers ------------------------------------------------

Token = Literal["required", "optional", "none"]
_PAGE = ("limit", "offset")


@dataclass(frozen=True)
class Operation:
    """One route's contract: Powertools' document cannot see what the route reads."""

    summary: str
    status: int
    answer: type[BaseModel] | None
    errors: tuple[int, ...] = ()
    body: type[BaseModel] | None = None
    token: Token = "none"
    query: tuple[str, ...] = ()
    tag: str = "Articles"


OPERATIONS: dict[tuple[str, str], Operation] = {
    ("post", "/api/users"): Operation(
        "Register", 201, UserBody, (409, 422), NewUserBody, tag="User and Authentication"
    ),
    ("post", "/api/users/login"): Operation(
        "Sign in", 200, UserBody, (401, 422), LoginBody, tag="User and Authentication"
    ),
    ("get", "/api/user"): Operation(
        "The current user", 200, UserBody, (401,), token="required", tag="User and Authentication"
    ),
    ("put", "/api/user"): Operation(
        "Update the current user",
        200,
        UserBody,
        (401, 409, 422),
        UpdateUserBody,
        "required",
        tag="User and Authentication",
    ),
    ("get", "/api/profiles/{username}"): Operation(
        "A profile", 200, ProfileBody, (401, 404), token="optional", tag="Profile"
    ),
    ("post", "/api/profiles/{username}/follow"): Operation(
        "Follow a user", 200, ProfileBody, (401, 404, 422), token="required", tag="Profile"
    ),
    ("delete", "/api/profiles/{username}/follow"): Operation(
        "Unfollow a user", 200, ProfileBody, (401, 404, 422), token="required", tag="Profile"
    ),
    ("get", "/api/articles"): Operation(
        "Recent articles, filtered by tag, author or favoriter",
        200,
        ArticlesPage,
        (401, 422),
        token="optional",
        query=("tag", "author", "favorited", *_PAGE),
    ),
    ("get", "/api/articles/feed"): Operation(
        "Recent articles of followed authors",
        200,
        ArticlesPage,
        (401, 422),
        token="required",
        query=_PAGE,
    ),
    ("post", "/api/articles"): Operation(
        "Create an article", 201, ArticleBody, (401, 422), NewArticleBody, "required"
    ),
    ("get", "/api/articles/{slug}"): Operation(
        "An article", 200, ArticleBody, (401, 404), token="optional"
    ),
    ("put", "/api/articles/{slug}"): Operation(
        "Update my article",
        200,
        ArticleBody,
        (401, 403, 404, 422),
        UpdateArticleBody,
        "required",
    ),
    ("delete", "/api/articles/{slug}"): Operation(
        "Delete my article", 204, None, (401, 403, 404), token="required"
    ),
    ("post", "/api/articles/{slug}/favorite"): Operation(
        "Favorite an article", 200, ArticleBody, (401, 404), token="required", tag="Favorites"
    ),
    ("delete", "/api/articles/{slug}/favorite"): Operation(
        "Unfavorite an article", 200, ArticleBody, (401, 404), token="required", tag="Favorites"
    ),
    ("get", "/api/articles/{slug}/comments"): Operation(
        "An article's comments", 200, CommentsBody, (401, 404), token="optional", tag="Comments"
    ),
    ("post", "/api/articles/{slug}/comments"): Operation(
        "Comment on an article",
        201,
        CommentBody,
        (401, 404, 422),
        NewCommentBody,
        "required",
        tag="Comments",
    ),
    ("delete", "/api/articles/{slug}/comments/{comment_id}"): Operation(
        "Delete my comment", 204, None, (401, 403, 404), token="required", tag="Comments"
    ),
    ("get", "/api/tags"): Operation("Every tag in use", 200, TagsBody, tag="Tags"),
    ("post", "/api/subscriptions"): Operation(
        "Subscribe to the newsletter (200 if already subscribed)",
        201,
        SubscriptionBody,
        (422,),
        NewSubscription,
        tag="Newsletter",
    ),
    ("get", "/api/subscriptions/unsubscribe"): Operation(
        "Unsubscribe with the token of a newsletter's link",
        200,
        SubscriptionBody,
        (403, 404, 422),
        query=("email", "token"),
        tag="Newsletter",
    ),
    ("post", "/api/photos"): Operation(
        "Ask for a photo upload (a presigned POST)",
        201,
        PhotoBody,
        (401, 422),
        NewPhoto,
        "required",
        tag="Photos",
    ),
    ("get", "/api/photos/{photo_id}"): Operation(
        "A photo's status and thumbnails", 200, PhotoBody, (404,), tag="Photos"
    ),
}

_ERRORS = {
    401: "No token, or one that does not verify",
    403: "Not yours to change",
    404: "No such resource",
    409: "Already taken",
    422: "A field is missing, of the wrong type, or refused",
    503: "A backend is unavailable; try again shortly",
}
_QUERY: dict[str, dict[str, Any]] = {
    "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
    "offset": {"type": "integer", "minimum": 0, "default": 0},
}
_SUCCESS = {200: "OK", 201: "Created", 204: "No Content"}


# --- the document -----------------------------------------------------------------------


def build_document(app: APIGatewayRestResolver) -> dict[str, Any]:
    """Powertools' document of ``app``'s routes, completed from :data:`OPERATIONS`."""
    generated = app.get_openapi_schema(
        title="MyBlog.com",
        version="1.0.0",
        description=service.service.description,
        servers=[Server(url=f"/{service.blog_api.stage}")],
        security_schemes={TOKEN_SCHEME: APIKey(name="Authorization", **{"in": APIKeyIn.header})},
    )
    document: dict[str, Any] = generated.model_dump(mode="json", by_alias=True, exclude_none=True)
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            described = OPERATIONS.get((method, path))
            if described is None:
                raise LookupError(f"{method.upper()} {path} is not described in OPERATIONS.")
            _complete(operation, described)
    # Powertools' validation error models are not among them: this app answers none.
    document.setdefault("components", {})["schemas"] = _schemas()
    return document


def _complete(operation: dict[str, Any], described: Operation) -> None:
    operation["summary"] = described.summary
    operation["tags"] = [described.tag]
    parameters = [p for p in operation.get("parameters", []) if p.get("in") == "path"]
    operation["parameters"] = parameters + [_query(name) for name in described.query]
    if not operation["parameters"]:
        del operation["parameters"]
    if described.body is not None:
        operation["requestBody"] = {"required": True, "content": _content(described.body)}
    success: dict[str, Any] = {"description": _SUCCESS[described.status]}
    if described.answer is not None:
        success["content"] = _content(described.answer)
    errors = {
        str(status): {"description": _ERRORS[status], "content": _content(GenericError)}
        for status in (*described.errors, 503)
    }
    operation["responses"] = {str(described.status): success, **errors}
    if described.token == "required":
        operation["security"] = [{TOKEN_SCHEME: []}]
    elif described.token == "optional":
        operation["security"] = [{}, {TOKEN_SCHEME: []}]


def _query(name: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": _QUERY.get(name, _TEXT)}


_TEXT: dict[str, Any] = {"type": "string"}


def _content(model: type[BaseModel]) -> dict[str, Any]:
    return {_JSON: {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}


def _schemas() -> dict[str, Any]:
    models: list[type[BaseModel]] = [GenericError]
    for operation in OPERATIONS.values():
        models += [model for model in (operation.body, operation.answer) if model is not None]
    unique = list(dict.fromkeys(models))
    _, schemas = models_json_schema(
        [(model, "validation") for model in unique], ref_template="#/components/schemas/{model}"
    )
    found: dict[str, Any] = schemas.get("$defs", {})
    return found


# --- the routes -------------------------------------------------------------------------


def add_document_routes(app: APIGatewayRestResolver) -> None:
    """``GET /openapi.json`` (built on first request and kept) and its Swagger UI.

    Add them last: the document describes the routes added before.
    """
    document = functools.cache(lambda: json.dumps(build_document(app), indent=2))

    @app.get(DOCUMENT_PATH, include_in_schema=False)
    def openapi_document() -> Response[str]:
        return Response(status_code=200, content_type=_JSON, body=document())

    add_swagger_routes(app, document)
