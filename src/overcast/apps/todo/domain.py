"""The to-do: its fields, the requests that create and change it, its ids and errors.

A to-do belongs to one user (their Cognito ``sub``); the owner is not part of the
representation, because a user only ever sees their own. Its ``attachments`` are keys
of objects in the owner's folder of the files bucket (at most 20, each listed once);
the API checks the folder, the domain only the key's form.

Requests are validated strictly: unknown fields are refused (``extra="forbid"``) and a
JSON string is not a boolean, an integer or a date. ``POST`` creates, ``PUT`` sends the
full representation of the writable fields (an optional field left out is cleared, as
a replacement has no memory of the old value), ``PATCH`` sends any non-empty subset
(explicit ``null`` clears an optional field; ``title``, ``completed`` and ``attachments``
cannot be null — send ``[]`` to remove every attachment).

Ids are ULIDs (https://github.com/ulid/spec): 48 bits of milliseconds since the Unix
epoch, then 80 random bits, written as 26 Crockford base32 characters. They are
URL-safe and sort by creation time, so the table's sort-key order is creation order.

Exceptions::

    TodoError
    ├── TodoNotFound        no such to-do for this user (another user's is not found either)
    ├── VersionConflict     the to-do changed since the caller read it (If-Match failed)
    └── InvalidPageCursor   a list cursor this API did not hand out
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

Clock = Callable[[], datetime]
IdFactory = Callable[[], str]

MAX_ATTACHMENTS = 20
# S3: a key is at most 1,024 bytes of UTF-8.
MAX_KEY_BYTES = 1024
MAX_TITLE_LENGTH = 500
MAX_NOTES_LENGTH = 10_000
# JSON clients (JavaScript) hold integers exactly only up to 2**53 - 1.
MAX_ORDER = 2**53 - 1


class TodoError(Exception):
    """Base of the to-do errors."""


class TodoNotFound(TodoError, LookupError):
    """The caller has no to-do with this id."""


class VersionConflict(TodoError):
    """The to-do is not at the version the caller expected; nothing changed."""


class InvalidPageCursor(TodoError, ValueError):
    """The list cursor is not one that this API handed out."""


# --- ids --------------------------------------------------------------------

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# 26 characters encode 130 bits; a ULID has 128, so the first character is at most 7.
_ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")
_RANDOM_BITS = 80
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def is_todo_id(value: str) -> bool:
    """Whether ``value`` is a ULID as :class:`UlidFactory` writes them (upper case)."""
    return _ULID.fullmatch(value) is not None


class UlidFactory:
    """Makes monotonic ULIDs from ``clock`` and ``randbits``.

    Within one millisecond (or if the clock steps back) the next id is the previous
    one plus one, as the ULID spec's monotonic generator does, so ids made by one
    factory strictly increase. Where the spec would fail on overflowing the random
    part, we move on to the next millisecond instead.
    """

    def __init__(self, clock: Clock, randbits: Callable[[int], int] = secrets.randbits) -> None:
        self._clock = clock
        self._randbits = randbits
        self._lock = threading.Lock()
        self._last = -1

    def __call__(self) -> str:
        millis = (self._clock() - _EPOCH) // timedelta(milliseconds=1)
        with self._lock:
            if millis > self._last >> _RANDOM_BITS:
                value = millis << _RANDOM_BITS | self._randbits(_RANDOM_BITS)
            else:
                value = self._last + 1
            self._last = value
        return _base32(value)


def _base32(value: int) -> str:
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def timestamp(moment: datetime) -> str:
    """``moment`` as ISO 8601 UTC with milliseconds, e.g. ``2024-05-01T12:00:00.123Z``."""
    if moment.tzinfo is None:
        raise ValueError("The clock must return timezone-aware datetimes.")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- field types ----------------------------------------------------------------


def _iso_date(value: Any) -> date:
    # Only the calendar date form: Python also reads "20240501" and "2024-W18-3".
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise PydanticCustomError("date_type", "Input should be a date string like 2024-05-01")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise PydanticCustomError(
            "date_value", "Input should be a valid date: {reason}", {"reason": str(exc)}
        ) from exc


def _object_key(value: Any) -> str:
    # An S3 key: 1-1024 bytes of UTF-8; Overcast's buckets also refuse control characters.
    if not isinstance(value, str):
        raise PydanticCustomError("string_type", "Input should be a valid string")
    if not 1 <= len(value.encode("utf-8", "surrogatepass")) <= MAX_KEY_BYTES:
        raise PydanticCustomError(
            "object_key_length", "An object key is 1 to {limit} bytes", {"limit": MAX_KEY_BYTES}
        )
    if any(ord(char) < 0x20 or char == "\x7f" for char in value):
        raise PydanticCustomError("object_key_chars", "An object key has no control characters")
    if any(segment in (".", "..") for segment in value.split("/")):
        # The files bucket refuses such keys (they resolve to other folders in tools).
        raise PydanticCustomError("object_key_segment", "An object key has no . or .. segment")
    return value


def _unique(keys: list[str]) -> list[str]:
    if len(set(keys)) != len(keys):
        raise PydanticCustomError("attachments_unique", "Each attachment is listed once")
    return keys


ObjectKey = Annotated[
    str,
    BeforeValidator(_object_key),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": MAX_KEY_BYTES}),
]
Attachments = Annotated[list[ObjectKey], Field(max_length=MAX_ATTACHMENTS), AfterValidator(_unique)]

Title = Annotated[
    StrictStr,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE_LENGTH),
]
Notes = Annotated[StrictStr, StringConstraints(max_length=MAX_NOTES_LENGTH)]
DueDate = Annotated[date, BeforeValidator(_iso_date)]
Order = Annotated[StrictInt, Field(ge=-MAX_ORDER, le=MAX_ORDER)]
Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]

_TITLE_SCHEMA = {"type": "string", "minLength": 1, "maxLength": MAX_TITLE_LENGTH}


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TodoCreate(_Request):
    """The body of ``POST /todos``."""

    title: Title
    notes: Notes | None = None
    completed: StrictBool = False
    due_date: DueDate | None = None
    order: Order | None = None
    attachments: Attachments = Field(default_factory=list)


class TodoReplace(_Request):
    """The body of ``PUT /todos/{id}``: every writable field; optional ones left out are cleared."""

    title: Title
    notes: Notes | None = None
    completed: StrictBool
    due_date: DueDate | None = None
    order: Order | None = None
    attachments: Attachments = Field(default_factory=list)

    def changes(self) -> dict[str, Any]:
        return self.model_dump()


class TodoPatch(_Request):
    """The body of ``PATCH /todos/{id}``: the fields to change; ``null`` clears an optional one."""

    title: Annotated[Title | None, WithJsonSchema(_TITLE_SCHEMA)] = None
    notes: Notes | None = None
    completed: Annotated[StrictBool | None, WithJsonSchema({"type": "boolean"})] = None
    due_date: DueDate | None = None
    order: Order | None = None
    attachments: Annotated[
        Attachments | None, WithJsonSchema({"type": "array", "items": {"type": "string"}})
    ] = None

    @field_validator("title", "completed", "attachments")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            raise PydanticCustomError(
                "null_not_allowed",
                "{field} cannot be null; leave it out to keep it as it is",
                {"field": info.field_name},
            )
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not self.model_fields_set:
            raise PydanticCustomError("empty_patch", "Send at least one field to change")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class Todo(BaseModel):
    """A to-do as the API shows it to its owner."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    notes: str | None = None
    completed: bool
    due_date: date | None = None
    order: int | None = None
    attachments: list[str] = Field(default_factory=list)
    created_at: Timestamp
    updated_at: Timestamp
    version: int = Field(ge=1)

    @classmethod
    def create(cls, todo_id: str, fields: TodoCreate, now: datetime) -> Todo:
        """A new to-do at version 1."""
        at = timestamp(now)
        return cls(id=todo_id, **fields.model_dump(), created_at=at, updated_at=at, version=1)

    def revised(self, changes: Mapping[str, Any], now: datetime) -> Todo:
        """This to-do with ``changes`` applied, at the next version."""
        update = {**changes, "updated_at": timestamp(now), "version": self.version + 1}
        return self.model_copy(update=update)
