"""Policy variables: ``${key}`` placeholders in ``Resource`` and condition values.

What IAM does ("IAM policy elements: Variables and tags"), mirrored here:

- "When the policy is evaluated, the policy variables are replaced with values that
  come from the context of the request itself": ``${aws:username}``,
  ``${cognito-identity.amazonaws.com:sub}``, any single-valued key of the request.
  Key names are case-insensitive.
- Variables exist only in policies whose ``Version`` is ``2012-10-17``; under
  ``2008-10-17`` "variables like ``${aws:username}`` are treated as literal strings"
  (the evaluator then does not call :func:`substitute` at all).
- "``${*}`` - use where you need an * (asterisk) character", likewise ``${?}`` and
  ``${$}``: these stand for the character itself, never for a wildcard.
- A default: "surround the default value with single quotes, and separate the
  variable text and the default value with a comma and space", e.g.
  ``${aws:PrincipalTag/team, 'company-wide'}``.
- A variable whose key has no value and no default leaves nothing to compare:
  "If a variable that has no value in the authorization context is used as part of
  the Resource or NotResource element of a policy, the resource that includes a policy
  variable with no value will not match any resource", and in a condition "the value is
  effectively null. There is no equal or like value." :func:`substitute` answers None
  for such a value; the callers drop it (so ``StringEquals`` fails and
  ``StringNotEquals`` holds, as AWS says).

Substituted text is literal: an identity id or user name containing ``*`` or ``?``
matches only itself. Text that does not follow the ``${key}`` / ``${key, 'default'}``
grammar (say ``${key, default}``) is left as it is.

A value is returned as a :data:`Pattern`: runs of text, each marked whether its ``*``
and ``?`` are wildcards (policy text) or plain characters (substituted values).
"""

from __future__ import annotations

import re
from collections.abc import Callable

Chunk = tuple[str, bool]  # (text, wild): in wild text, * and ? are wildcards
Pattern = tuple[Chunk, ...]
Lookup = Callable[[str], str | None]

_VARIABLE = re.compile(r"\$\{([^{}]*)\}")
_DEFAULT = re.compile(r"^'([^']*)'$")
_ESCAPES = frozenset({"*", "?", "$"})


def verbatim(text: str) -> Pattern:
    """``text`` as written in the policy, its wildcards active."""
    return ((text, True),)


def text_of(pattern: Pattern) -> str:
    """The plain text of ``pattern``, for comparisons without wildcards."""
    return "".join(text for text, _ in pattern)


def substitute(template: str, lookup: Lookup) -> Pattern | None:
    """``template`` with its variables replaced; None when one of them has no value."""
    if "${" not in template:
        return verbatim(template)
    chunks: list[Chunk] = []
    position = 0
    for match in _VARIABLE.finditer(template):
        value = _resolve(match.group(1), lookup)
        if isinstance(value, _Unresolved):
            return None
        chunks.append((template[position : match.start()], True))
        chunks.append((match.group(0) if value is None else value, value is None))
        position = match.end()
    chunks.append((template[position:], True))
    return tuple(chunk for chunk in chunks if chunk[0])


class _Unresolved:
    """The marker of a well-formed variable that has no value."""


_UNRESOLVED = _Unresolved()


def _resolve(body: str, lookup: Lookup) -> str | _Unresolved | None:
    """The variable's value; ``_UNRESOLVED`` when it has none; None when ``body`` is
    not a variable at all (kept as literal text)."""
    inner = body.strip()
    if inner in _ESCAPES:
        return inner
    key, comma, default = inner.partition(",")
    key = key.strip()
    if not key:
        return None
    fallback = _DEFAULT.match(default.strip()) if comma else None
    if comma and fallback is None:
        return None
    value = lookup(key)
    if value is not None:
        return value
    return fallback.group(1) if fallback is not None else _UNRESOLVED
