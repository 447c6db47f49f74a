"""The blog's vocabulary: RealWorld's request bodies and representations, and its errors.

RealWorld ("Conduit") answers every client error as ``{"errors": {"<field>": ["<msg>"]}}``
with the status the contract lists: 401 no or bad token, 403 not yours, 404 no such
resource, 409 already taken, 422 anything wrong with the request. Each error below
carries its status and the field it names, and is rendered in one place (handler).

Exceptions::

    BlogError (status 422)
    ├── Unauthorized (401)    no token, or one that does not verify
    ├── Forbidden (403)       another user's article or comment
    ├── NotFound (404)        no such profile, article, comment or photo
    ├── Taken (409)           username or email already in use
    └── Invalid (422)         a field is missing, of the wrong type or refused
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr, StringConstraints

Clock = Callable[[], datetime]

MAX_TEXT = 100_000
MAX_TAGS = 20


class BlogError(Exception):
    """A client error: HTTP ``status`` and ``{"errors": {field: [message]}}``."""

    status = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field} {message}")
        self.field = field
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"errors": {self.field: [self.message]}}


class Unauthorized(BlogError):
    """No token, or a token that does not verify."""

    status = 401


class Forbidden(BlogError):
    """The caller may not change this resource."""

    status = 403


class NotFound(BlogError, LookupError):
    """No such resource."""

    status = 404

    def __init__(self, resource: str) -> None:
        super().__init__(resource, "not found")


class Taken(BlogError):
    """A username or email that another account holds."""

    status = 409

    def __init__(self, field: str) -> None:
        super().__init__(field, "has already been taken")


class Invalid(BlogError):
    """A request field that is missing, of the wrong type or refused."""


def timestamp(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds, e.g. ``2024-05-01T12:00:00.123Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- request bodies ---------------------------------------------------------------

Text = Annotated[StrictStr, StringConstraints(max_length=MAX_TEXT)]
Name = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Email = Annotated[
    StrictStr,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
]
Password = Annotated[StrictStr, StringConstraints(min_length=8, max_length=256)]
Blank = Annotated[
    StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)
]
Tag = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class Request(BaseModel):
    """A request body part: unknown fields are ignored, as RealWorld servers do."""

    model_config = ConfigDict(extra="ignore")


class NewUser(Request):
    username: Name
    email: Email
    password: Password


class LoginUser(Request):
    email: Email
    password: Annotated[StrictStr, StringConstraints(min_length=1, max_length=256)]


class UpdateUser(Request):
    email: Email | None = None
    username: Name | None = None
    password: Password | None = None
    bio: Text | None = None
    image: Text | None = None


class NewArticle(Request):
    title: Blank
    description: Blank
    body: Blank
    tagList: Annotated[list[Tag], Field(max_length=MAX_TAGS)] = Field(default_factory=list)


class UpdateArticle(Request):
    title: Blank | None = None
    description: Blank | None = None
    body: Blank | None = None
    tagList: Annotated[list[Tag], Field(max_length=MAX_TAGS)] | None = None


class NewComment(Request):
    body: Blank


class NewSubscription(Request):
    email: Email


class NewPhoto(Request):
    content_type: StrictStr


# --- representations ----------------------------------------------------------------


class Profile(BaseModel):
    username: str
    bio: str | None
    image: str | None
    following: bool


class User(BaseModel):
    email: str
    token: str
    username: str
    bio: str | None
    image: str | None


class Article(BaseModel):
    slug: str
    title: str
    description: str
    body: str
    tagList: list[str]
    createdAt: str
    updatedAt: str
    favorited: bool
    favoritesCount: int
    author: Profile


class Comment(BaseModel):
    id: int
    createdAt: str
    updatedAt: str
    body: str
    author: Profile
