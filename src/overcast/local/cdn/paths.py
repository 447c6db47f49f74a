"""Which behaviour serves a path, and which cached objects an invalidation path covers.

What is mirrored (CloudFront developer guide):

- "Cache behavior settings: Path pattern": the request's path is compared with the
  behaviours' patterns in the order they are listed, the default (``*``) last. In a
  pattern ``*`` matches 0 or more characters (``/`` included) and ``?`` exactly one;
  matching is case-sensitive; "You can optionally include a slash (/) at the beginning
  of the path pattern ... CloudFront behavior is the same with or without the leading /".
  The query string is not part of what is matched.
- "Invalidate files": "When you use the CloudFront API directly, invalidation paths
  must begin with a leading slash"; "The *, which replaces 0 or more characters, must be
  the last character in the invalidation path"; "The maximum length of a path is 4,000
  characters"; paths are case-sensitive and compared as sent (encoded), non-ASCII and
  unsafe characters URL-encoded. An invalid path fails the whole request with
  ``InvalidArgument``: "Your request contains one or more invalid invalidation paths."
- An invalidation removes "every cached version of the file regardless of" the headers
  and cookies in its key (and, here, of its encoding).
- Dot segments: CloudFront normalises the request path before it matches path patterns
  (AWS Support, re:Post "CloudFront behaviour path pattern matching": "Section 5.2.4 -
  Remove Dot Segments ... the URI is normalized for matching"). :func:`normalized_path`
  does so once, and the edge routes, keys and forwards that path: ``/a/../count`` is
  ``/count`` everywhere, so no spelling of a path reaches what its pattern forbids, nor
  leaves the origin's base (a bucket, an API's stage).

Where the local edge chooses for safety (CloudFront documents neither): ``%2e`` is read
as ``.`` (``/%2e%2e/x`` is ``/x``), and a path whose *decoded* form would still hold a
dot segment (``/..%2Fother``: an encoded slash or backslash hiding one) is refused with
400, since an origin that decodes ``%2F`` would climb out of its base.

Where the local edge differs: CloudFront keys query-string variants apart from the path
("you must include the query strings when invalidating files ... or use the * wildcard
... /images/image.jpg*"); the local edge matches invalidations on the path alone, so
``/images/image.jpg`` also drops its query-string variants, and a path given with a
query string drops every variant of its path. It never keeps something CloudFront would
drop.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import unquote

from overcast.spec_cdn import Behavior, Distribution

# "The maximum length of a path is 4,000 characters."
MAX_INVALIDATION_PATH = 4000
INVALID_PATHS_MESSAGE = "Your request contains one or more invalid invalidation paths."


class UnsafePath(ValueError):
    """A request path whose decoded form climbs out of its base (see the module)."""


class InvalidInvalidationPath(ValueError):
    """CloudFront's ``InvalidArgument`` for a malformed invalidation path.

    ``str()`` is CloudFront's own message; ``reason`` says what is wrong with ``path``.
    """

    code = "InvalidArgument"
    status = 400

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(INVALID_PATHS_MESSAGE)
        self.path = path
        self.reason = reason


def matches_path_pattern(pattern: str, path: str) -> bool:
    """Whether ``path`` (raw, without the query string) matches a behaviour's pattern."""
    return _pattern_regex(pattern).fullmatch(path) is not None


def behavior_for(distribution: Distribution, path: str) -> Behavior:
    """The first behaviour whose pattern matches ``path``, else the default one."""
    for behavior in distribution.behaviors:
        if matches_path_pattern(behavior.path_pattern, path):
            return behavior
    return distribution.default_behavior


def normalized_path(raw: str) -> str:
    """``raw`` (percent-encoded, as sent) with ``%2e`` read as ``.`` and its dot segments
    removed (RFC 3986 section 5.2.4); everything else stays as sent. Raises
    :class:`UnsafePath` when decoding would reveal a dot segment all the same."""
    path = _remove_dot_segments(_ENCODED_DOT.sub(".", raw))
    if any(segment in (".", "..") for segment in _SEPARATORS.split(unquote(path))):
        raise UnsafePath(f"{raw!r} hides a dot segment behind an encoded separator")
    return path


def _remove_dot_segments(path: str) -> str:
    # RFC 3986 section 5.2.4, over whole segments: "." is dropped, ".." drops the segment
    # before it (never above the root); a trailing dot segment leaves a trailing "/".
    output: list[str] = []
    segments = path.lstrip("/").split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "..":
            if output:
                output.pop()
        elif segment != ".":
            output.append(segment)
            continue
        if last:
            output.append("")
    return "/" + "/".join(output)


def check_invalidation_path(path: str) -> str:
    """``path`` if CloudFront's API would accept it as an invalidation path."""
    if not path.startswith("/"):
        raise InvalidInvalidationPath(path, "it must begin with '/'")
    if len(path) > MAX_INVALIDATION_PATH:
        raise InvalidInvalidationPath(path, f"it is over {MAX_INVALIDATION_PATH} characters")
    if "*" in path[:-1]:
        raise InvalidInvalidationPath(path, "'*' may only be its last character")
    if not all(" " < character < "\x7f" for character in path):
        raise InvalidInvalidationPath(path, "URL-encode spaces, control and non-ASCII characters")
    return path


def invalidation_target(invalidation_path: str) -> tuple[str, bool]:
    """What an invalidation path covers: ``(path, True)`` for every object path starting
    with ``path`` (a trailing ``*``), ``(path, False)`` for that path alone. A query
    string in it stands for every variant of its path (see the module's docstring)."""
    wildcard = invalidation_path.endswith("*")
    target = invalidation_path[:-1] if wildcard else invalidation_path
    if "?" in target:
        return target.partition("?")[0], False
    return target, wildcard


def invalidation_matches(invalidation_path: str, object_path: str) -> bool:
    """Whether invalidating ``invalidation_path`` removes objects cached for ``object_path``."""
    target, wildcard = invalidation_target(invalidation_path)
    return object_path.startswith(target) if wildcard else object_path == target


_ENCODED_DOT = re.compile("%2e", re.IGNORECASE)
_SEPARATORS = re.compile(r"[/\\]")


@lru_cache(maxsize=1024)
def _pattern_regex(pattern: str) -> re.Pattern[str]:
    if not pattern.startswith("/"):
        pattern = "/" + pattern
    parts = [".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.DOTALL)
