"""How IAM compares names against patterns with ``*`` and ``?``.

Three ways, each from the IAM JSON policy element reference:

- **Actions** (and ``StringLike``): ``*`` is any run of characters, ``?`` any one
  character, anywhere. For actions, "the prefix and the action name are case
  insensitive" (``iam:ListAccessKeys`` is ``IAM:listaccesskeys``); ``StringLike`` is
  "case-sensitive matching".
- **Resources**: "You can use wildcard characters (* and ?) within the individual
  segments of an ARN (the parts separated by colons) ... If the * wildcard is the last
  character of a resource ARN segment, it can expand to match beyond the colon
  boundaries." After the fifth colon (the resource part) the wildcards match anything,
  slashes and colons included ("The asterisk (*) character can expand to replace
  everything within a segment, including characters like a forward slash (/)").
- **ARN condition operators**: "Each of the six colon-delimited components of the ARN
  is checked separately and each can include multi-character match wildcards (*) or
  single-character match wildcards (?)." So ``arn:aws:someservice:*:111122223333:finance/*``
  does *not* ArnLike-match
  ``arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt``
  although it StringLike-matches it (the operators page's own example). A ``*`` that
  ends the whole pattern still covers the rest.

Patterns come from :mod:`overcast.local.iam.variables`: substituted text is literal.
Compiled patterns are cached, so a request evaluated against the same policies costs a
dictionary hit per pattern.
"""

from __future__ import annotations

import re
from enum import Enum
from functools import lru_cache

from overcast.local.iam.variables import Pattern

_ARN_COLONS = 5  # arn:partition:service:region:account:resource


class _Mode(Enum):
    GLOB = "glob"
    RESOURCE = "resource"
    ARN = "arn"


def matches_action(pattern: str, action: str) -> bool:
    """Whether ``action`` (``service:Name``) is named by ``pattern``, ignoring case."""
    return _compiled(((pattern, True),), _Mode.GLOB, True).fullmatch(action) is not None


def matches_like(pattern: Pattern, value: str) -> bool:
    """``StringLike``: case-sensitive, wildcards anywhere."""
    return _compiled(pattern, _Mode.GLOB, False).fullmatch(value) is not None


def matches_resource(pattern: Pattern, resource: str) -> bool:
    """Whether the ``Resource`` element entry ``pattern`` names ``resource``."""
    return _compiled(pattern, _Mode.RESOURCE, False).fullmatch(resource) is not None


def matches_arn(pattern: Pattern, value: str) -> bool:
    """``ArnLike`` / ``ArnEquals``: each of the six components matched on its own."""
    return _compiled(pattern, _Mode.ARN, False).fullmatch(value) is not None


@lru_cache(maxsize=4096)
def _compiled(pattern: Pattern, mode: _Mode, ignore_case: bool) -> re.Pattern[str]:
    characters = [(char, wild) for text, wild in pattern for char in text]
    parts: list[str] = []
    colons = 0
    for index, (char, wild) in enumerate(characters):
        within_segment = mode is not _Mode.GLOB and colons < _ARN_COLONS
        following = characters[index + 1][0] if index + 1 < len(characters) else None
        parts.append(_piece(char, wild, within_segment, following, mode))
        colons += char == ":"
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("".join(parts), flags)


def _piece(char: str, wild: bool, within_segment: bool, following: str | None, mode: _Mode) -> str:
    if not wild or char not in "*?":
        return re.escape(char)
    if char == "?":
        return "[^:]" if within_segment else "."
    ends_pattern = following is None
    ends_segment = mode is _Mode.RESOURCE and following == ":"
    if not within_segment or ends_pattern or ends_segment:
        return ".*"
    return "[^:]*"
