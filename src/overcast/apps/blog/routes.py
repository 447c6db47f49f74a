"""The routes of ``service.blog_api``: parse the request, call :class:`Blog`, render.

Status codes follow the RealWorld contract: 201 for a registered user, a created
article and a created comment; 204 (no body) for deleted articles and comments; 200
otherwise. ``limit`` (1..100, default 20) and ``offset`` (>= 0) page the lists.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types

from overcast.apps.blog.blog import Blog
from overcast.apps.blog.domain import (
    Invalid,
    LoginUser,
    NewArticle,
    NewComment,
    NewPhoto,
    NewSubscription,
    NewUser,
    NotFound,
    UpdateArticle,
    UpdateUser,
)
from overcast.apps.blog.photos import Photos
from overcast.apps.blog.web import Callers, body_of, validated

MAX_LIMIT = 100
_JSON = content_types.APPLICATION_JSON


def _json(body: Any, status: int = 200) -> Response[Any]:
    return Response(status_code=status, content_type=_JSON, body=body)


def _no_content() -> Response[Any]:
    return Response(status_code=204, content_type=None, body=None)


def _page_params(app: APIGatewayRestResolver) -> tuple[int, int]:
    limit = _integer(app, "limit", 20)
    offset = _integer(app, "offset", 0)
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid("limit", f"must be between 1 and {MAX_LIMIT}")
    if offset < 0:
        raise Invalid("offset", "must be 0 or more")
    return limit, offset


def _integer(app: APIGatewayRestResolver, name: str, default: int) -> int:
    value = app.current_event.get_query_string_value(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise Invalid(name, "must be an integer") from None


def add_routes(app: APIGatewayRestResolver, blog: Blog, photos: Photos, callers: Callers) -> None:
    """Every route, grouped as the contract's tags."""
    _add_users(app, blog, callers)
    _add_profiles(app, blog, callers)
    _add_articles(app, blog, callers)
    _add_comments(app, blog, callers)
    _add_subscriptions_and_photos(app, blog, photos, callers)


def _add_users(app: APIGatewayRestResolver, blog: Blog, callers: Callers) -> None:
    @app.post("/api/users")
    def register() -> Response[Any]:
        user = blog.register(body_of(app, "user", NewUser))
        return _json({"user": user.model_dump()}, 201)

    @app.post("/api/users/login")
    def login() -> Response[Any]:
        given = body_of(app, "user", LoginUser)
        return _json({"user": blog.login(given.email, given.password).model_dump()})

    @app.get("/api/user")
    def current_user() -> Response[Any]:
        uid = callers.required()
        return _json({"user": blog.current(uid, callers.token() or "").model_dump()})

    @app.put("/api/user")
    def update_user() -> Response[Any]:
        uid = callers.required()
        changes = body_of(app, "user", UpdateUser)
        user = blog.update_user(uid, callers.token() or "", changes)
        return _json({"user": user.model_dump()})


def _add_profiles(app: APIGatewayRestResolver, blog: Blog, callers: Callers) -> None:
    @app.get("/api/profiles/<username>")
    def profile(username: str) -> Response[Any]:
        return _json({"profile": blog.profile(username, callers.optional()).model_dump()})

    @app.post("/api/profiles/<username>/follow")
    def follow(username: str) -> Response[Any]:
        caller = callers.required()
        return _json({"profile": blog.follow(username, caller, True).model_dump()})

    @app.delete("/api/profiles/<username>/follow")
    def unfollow(username: str) -> Response[Any]:
        caller = callers.required()
        return _json({"profile": blog.follow(username, caller, False).model_dump()})


def _articles(articles: list[Any], count: int) -> Response[Any]:
    listed = [article.model_dump(exclude={"body"}) for article in articles]
    return _json({"articles": listed, "articlesCount": count})


def _add_articles(app: APIGatewayRestResolver, blog: Blog, callers: Callers) -> None:
    @app.get("/api/articles")
    def list_articles() -> Response[Any]:
        caller = callers.optional()
        limit, offset = _page_params(app)
        query = app.current_event.get_query_string_value
        found, count = blog.list_articles(
            caller,
            tag=query("tag"),
            author=query("author"),
            favorited=query("favorited"),
            limit=limit,
            offset=offset,
        )
        return _articles(found, count)

    @app.get("/api/articles/feed")
    def feed() -> Response[Any]:
        caller = callers.required()
        limit, offset = _page_params(app)
        return _articles(*blog.feed(caller, limit, offset))

    @app.post("/api/articles")
    def create_article() -> Response[Any]:
        caller = callers.required()
        article = blog.create_article(caller, body_of(app, "article", NewArticle))
        return _json({"article": article.model_dump()}, 201)

    @app.get("/api/articles/<slug>")
    def get_article(slug: str) -> Response[Any]:
        return _json({"article": blog.article(slug, callers.optional()).model_dump()})

    @app.put("/api/articles/<slug>")
    def update_article(slug: str) -> Response[Any]:
        caller = callers.required()
        changes = body_of(app, "article", UpdateArticle)
        return _json({"article": blog.update_article(slug, caller, changes).model_dump()})

    @app.delete("/api/articles/<slug>")
    def delete_article(slug: str) -> Response[Any]:
        blog.delete_article(slug, callers.required())
        return _no_content()

    @app.post("/api/articles/<slug>/favorite")
    def favorite(slug: str) -> Response[Any]:
        caller = callers.required()
        return _json({"article": blog.favorite(slug, caller, True).model_dump()})

    @app.delete("/api/articles/<slug>/favorite")
    def unfavorite(slug: str) -> Response[Any]:
        caller = callers.required()
        return _json({"article": blog.favorite(slug, caller, False).model_dump()})

    @app.get("/api/tags")
    def tags() -> Response[Any]:
        return _json({"tags": blog.articles.tags()})


def _add_comments(app: APIGatewayRestResolver, blog: Blog, callers: Callers) -> None:
    @app.get("/api/articles/<slug>/comments")
    def comments(slug: str) -> Response[Any]:
        found = blog.comments(slug, callers.optional())
        return _json({"comments": [comment.model_dump() for comment in found]})

    @app.post("/api/articles/<slug>/comments")
    def add_comment(slug: str) -> Response[Any]:
        caller = callers.required()
        comment = blog.add_comment(slug, caller, body_of(app, "comment", NewComment).body)
        return _json({"comment": comment.model_dump()}, 201)

    @app.delete("/api/articles/<slug>/comments/<comment_id>")
    def delete_comment(slug: str, comment_id: str) -> Response[Any]:
        caller = callers.required()
        if not comment_id.isascii() or not comment_id.isdigit() or len(comment_id) > 16:
            raise NotFound("comment")
        blog.delete_comment(slug, int(comment_id), caller)
        return _no_content()


def _add_subscriptions_and_photos(
    app: APIGatewayRestResolver, blog: Blog, photos: Photos, callers: Callers
) -> None:
    @app.post("/api/subscriptions")
    def subscribe() -> Response[Any]:
        email = validated(NewSubscription, _flat_body(app)).email
        created = blog.subscribers.subscribe(email, "newsletter")
        return _json(
            {"subscription": {"email": email, "status": "subscribed"}}, 201 if created else 200
        )

    @app.get("/api/subscriptions/unsubscribe")
    def unsubscribe() -> Response[Any]:
        query = app.current_event.get_query_string_value
        email, token = query("email"), query("token")
        if not email or not token:
            raise Invalid("token" if email else "email", "is missing")
        blog.subscribers.unsubscribe(email, token)
        return _json({"subscription": {"email": email, "status": "unsubscribed"}})

    @app.post("/api/photos")
    def request_photo() -> Response[Any]:
        owner = callers.required()
        content_type = validated(NewPhoto, _flat_body(app)).content_type
        return _json({"photo": photos.request_upload(owner, content_type)}, 201)

    @app.get("/api/photos/<photo_id>")
    def photo(photo_id: str) -> Response[Any]:
        return _json({"photo": photos.status(photo_id)})


def _flat_body(app: APIGatewayRestResolver) -> dict[str, Any]:
    try:
        document = json.loads(app.current_event.body or "")
    except ValueError:
        raise Invalid("body", "is not valid JSON") from None
    if not isinstance(document, dict):
        raise Invalid("body", "must be a JSON object")
    return document
