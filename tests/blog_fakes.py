"""Fakes for the blog API's unit tests: a user directory, a presigner, an API client.

:class:`FakeDirectory` keeps accounts in a dict; its ID tokens are opaque strings
(``token-<sub>``) that :meth:`FakeDirectory.verify` maps back, refusing anything else
as the real verifier refuses a forged JWT. :func:`memory_blog` builds the real app on
an in-memory table with these fakes.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from overcast.apps.blog.accounts import UserDirectory
from overcast.apps.blog.articles import Articles
from overcast.apps.blog.blog import Blog
from overcast.apps.blog.domain import Invalid, Taken, Unauthorized
from overcast.apps.blog.handler import create_app
from overcast.apps.blog.people import People
from overcast.apps.blog.photos import Photos, Presigner
from overcast.apps.blog.service import blog_table
from overcast.apps.blog.subscribers import Subscribers
from overcast.ports.tables.memory import MemoryTable
from tests.todo_events import ApiResponse, LambdaContext, ManualClock, decode, load_sample_event
from tests.todo_events import rest_event as _rest_event


class FakeDirectory(UserDirectory):
    """Accounts by email; tokens ``token-<sub>``."""

    def __init__(self) -> None:
        self.accounts: dict[str, tuple[str, str]] = {}
        self._subs = itertools.count(1)

    def register(self, email: str, password: str) -> str:
        if email in self.accounts:
            raise Taken("email")
        sub = f"sub-{next(self._subs)}"
        self.accounts[email] = (sub, password)
        return sub

    def sign_in(self, email: str, password: str) -> str:
        account = self.accounts.get(email)
        if account is None or account[1] != password:
            raise Unauthorized("email or password", "is invalid")
        return f"token-{account[0]}"

    def set_password(self, email: str, password: str) -> None:
        if len(password) < 8:
            raise Invalid("password", "is too short")
        self.accounts[email] = (self.accounts[email][0], password)

    def verify(self, token: str) -> str:
        subs = {sub for sub, _ in self.accounts.values()}
        if not token.startswith("token-") or token[6:] not in subs:
            raise Unauthorized("token", "is invalid")
        return token[6:]


class FakePresigner(Presigner):
    """Presigned POSTs as recognisable dicts."""

    def upload(self, key: str, content_type: str) -> dict[str, Any]:
        return {
            "url": "https://s3.test/blog-photos",
            "fields": {"key": key, "Content-Type": content_type},
        }


@dataclass
class BlogApi:
    """Sends REST proxy events to the app, optionally with a token."""

    app: APIGatewayRestResolver
    table: MemoryTable
    directory: FakeDirectory
    token: str | None = None
    scheme: str = "Token"
    base: dict[str, Any] = field(default_factory=load_sample_event)

    def as_token(self, token: str | None, scheme: str = "Token") -> BlogApi:
        return BlogApi(self.app, self.table, self.directory, token, scheme, self.base)

    def call(
        self,
        method: str,
        resource: str,
        *,
        body: Any = None,
        query: dict[str, str] | None = None,
        **path: str,
    ) -> ApiResponse:
        headers = {"Authorization": f"{self.scheme} {self.token}"} if self.token else None
        event = _rest_event(
            self.base,
            method,
            resource,
            path_parameters=path or None,
            body=body,
            headers=headers,
            query=query,
        )
        return decode(self.app.resolve(event, LambdaContext()))

    def register(self, username: str, password: str = "correct horse") -> BlogApi:
        """Register ``username`` (``<username>@example.com``); this client signed in as them."""
        user = {"username": username, "email": f"{username}@example.com", "password": password}
        response = self.call("POST", "/api/users", body={"user": user})
        assert response.status == 201, response.body
        return self.as_token(response.body["user"]["token"])

    def write(self, title: str = "Hello", tags: list[str] | None = None) -> dict[str, Any]:
        article = {"title": title, "description": "d", "body": "b", "tagList": tags or []}
        response = self.call("POST", "/api/articles", body={"article": article})
        assert response.status == 201, response.body
        created: dict[str, Any] = response.body["article"]
        return created


def memory_blog(clock: ManualClock | None = None) -> BlogApi:
    """The blog app on an in-memory table, a fake directory and a fake presigner."""
    clock = clock or ManualClock()
    table = MemoryTable(blog_table)
    directory = FakeDirectory()
    blog = Blog(People(table), Articles(table, clock), Subscribers(table, clock), directory)
    app = create_app(blog, Photos(table, FakePresigner(), clock), directory.verify)
    return BlogApi(app, table, directory)
