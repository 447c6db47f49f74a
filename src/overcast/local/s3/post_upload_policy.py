"""An S3 POST policy: decoded, and checked against the form fields as S3 checks it.

What it mirrors ("Creating a POST policy", Amazon S3 API reference):

- The ``policy`` field is base64 of a UTF-8 JSON document with ``expiration`` (ISO
  8601, UTC: ``2007-12-01T12:00:00.000Z``) and ``conditions``. Not base64 of JSON, or
  without either member, is ``InvalidPolicyDocument``. Past its expiration, the
  request is ``AccessDenied`` "Invalid according to Policy: Policy expired."
- Conditions: ``{"field": "value"}`` and ``["eq", "$field", "value"]`` (exact match),
  ``["starts-with", "$field", "prefix"]`` (``""`` matches anything; for
  ``Content-Type``, a comma-separated list each of whose values must start so), and
  ``["content-length-range", min, max]`` (the file's size, checked as it streams:
  ``EntityTooSmall`` / ``EntityTooLarge``). Field names are case-insensitive; values
  are not. ``bucket`` is the bucket the form is posted to. A condition on a field the
  form does not send fails. A failing condition is ``AccessDenied`` "Invalid according
  to Policy: Policy Condition failed: [...]".
- "Each form field that you specify in a form (except x-amz-signature, file, policy,
  and field names that have an x-ignore- prefix) must appear in the list of
  conditions": else ``AccessDenied`` "Invalid according to Policy: Extra input fields:
  <names>".
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from overcast.local.s3.errors import AccessDenied, EntityTooLarge, EntityTooSmall, S3Error

EXEMPT_FIELDS = frozenset({"x-amz-signature", "file", "policy"})
IGNORED_PREFIX = "x-ignore-"
_EXPIRATION_FORMATS = ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z")
_INVALID = "Invalid according to Policy: "


class InvalidPolicyDocument(S3Error):
    """The policy is not a well-formed POST policy."""

    code = "InvalidPolicyDocument"
    status = 400
    default_message = (
        "The content of the form does not meet the conditions specified in the policy document."
    )


@dataclass(frozen=True)
class Condition:
    """One condition: ``operator`` is ``eq``, ``starts-with`` or ``content-length-range``."""

    operator: str
    field: str  # lower-cased, without the "$"; "" for content-length-range
    value: str = ""
    minimum: int = 0
    maximum: int = 0

    def describe(self) -> str:
        """The condition as S3's error message quotes it."""
        if self.operator == "content-length-range":
            return json.dumps([self.operator, self.minimum, self.maximum])
        return json.dumps([self.operator, f"${self.field}", self.value])

    def holds(self, value: str | None) -> bool:
        if value is None:
            return False
        if self.operator == "eq":
            return value == self.value
        if self.field == "content-type":
            return all(item.strip().startswith(self.value) for item in value.split(","))
        return value.startswith(self.value)


@dataclass(frozen=True)
class PostPolicy:
    """A decoded POST policy."""

    expiration: datetime
    conditions: tuple[Condition, ...]

    @classmethod
    def decode(cls, encoded: str) -> PostPolicy:
        """The policy of a form's ``policy`` field (``InvalidPolicyDocument``)."""
        try:
            document = json.loads(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise InvalidPolicyDocument("Invalid Policy: Invalid JSON.") from exc
        if not isinstance(document, dict):
            raise InvalidPolicyDocument("Invalid Policy: Invalid JSON.")
        if "expiration" not in document:
            raise InvalidPolicyDocument("Invalid Policy: Policy missing expiration.")
        conditions = document.get("conditions")
        if not isinstance(conditions, list):
            raise InvalidPolicyDocument("Invalid Policy: Policy missing conditions.")
        expiration = _expiration(document["expiration"])
        return cls(expiration, tuple(_condition(item) for item in conditions))

    def check_fields(self, fields: Mapping[str, str], bucket: str, now: datetime) -> None:
        """Raise S3's error unless the form's fields, posted to ``bucket``, satisfy the
        policy now."""
        if now >= self.expiration:
            raise AccessDenied(_INVALID + "Policy expired.")
        covered = {condition.field for condition in self.conditions}
        extra = [
            name
            for name in fields
            if name not in EXEMPT_FIELDS
            and not name.startswith(IGNORED_PREFIX)
            and name not in covered
        ]
        if extra:
            raise AccessDenied(_INVALID + "Extra input fields: " + ", ".join(extra))
        values = {**fields, "bucket": bucket}
        for condition in self.conditions:
            if condition.operator != "content-length-range" and not condition.holds(
                values.get(condition.field)
            ):
                raise AccessDenied(_INVALID + "Policy Condition failed: " + condition.describe())

    def length_range(self) -> tuple[int, int | None]:
        """The file's allowed size: ``(minimum, maximum)``, ``None`` for no maximum."""
        minimum, maximum = 0, None
        for condition in self.conditions:
            if condition.operator == "content-length-range":
                minimum = max(minimum, condition.minimum)
                maximum = condition.maximum if maximum is None else min(maximum, condition.maximum)
        return minimum, maximum


def check_size(size: int, length_range: tuple[int, int | None], *, complete: bool) -> None:
    """``EntityTooLarge`` as soon as the file passes the maximum; ``EntityTooSmall``
    once it is ``complete`` and under the minimum."""
    minimum, maximum = length_range
    if maximum is not None and size > maximum:
        raise EntityTooLarge(ProposedSize=str(size), MaxSizeAllowed=str(maximum))
    if complete and size < minimum:
        raise EntityTooSmall(ProposedSize=str(size), MinSizeAllowed=str(minimum))


def _expiration(value: Any) -> datetime:
    if isinstance(value, str):
        text = value.replace("Z", "+00:00")
        for pattern in _EXPIRATION_FORMATS:
            try:
                return datetime.strptime(text, pattern)
            except ValueError:
                continue
    raise InvalidPolicyDocument("Invalid Policy: Invalid 'expiration' value: " + repr(value))


def _condition(item: Any) -> Condition:
    if isinstance(item, dict) and len(item) == 1:
        [(name, value)] = item.items()
        if isinstance(value, str):
            return Condition("eq", str(name).lower(), value)
    if isinstance(item, list) and len(item) == 3:
        operator = str(item[0]).lower()
        if operator == "content-length-range":
            return _length_range(item)
        if operator in ("eq", "starts-with") and _is_field(item[1]) and isinstance(item[2], str):
            return Condition(operator, item[1][1:].lower(), item[2])
    raise InvalidPolicyDocument(
        "Invalid Policy: Invalid Simple-Condition: " + json.dumps(item, default=str)
    )


def _is_field(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("$") and len(value) > 1


def _length_range(item: list[Any]) -> Condition:
    try:
        minimum, maximum = int(item[1]), int(item[2])
    except (TypeError, ValueError) as exc:
        raise InvalidPolicyDocument(
            "Invalid Policy: Invalid content-length-range: " + json.dumps(item, default=str)
        ) from exc
    return Condition("content-length-range", "", minimum=minimum, maximum=maximum)
