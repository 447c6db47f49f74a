"""A handler's result as its caller receives it: Lambda's JSON marshalling, made cheap.

Lambda's Python runtime serialises the handler's result with ``json.dumps`` and the
caller parses it, so the caller gets a copy made of JSON types (tuples become lists,
non-string keys strings), and a result that is not JSON-serialisable fails with
``Runtime.MarshalError: Unable to marshal response: ...``.

A JSON round trip costs more than the rest of a small invocation. Almost every result
is already plain JSON data — dicts with string keys, lists, strings, numbers, booleans
and ``None`` (a proxy response is a small dict of them) — and for those a structural
copy gives exactly what the round trip gives: dicts (subclasses too, such as the
``defaultdict`` Powertools returns: json reads them through ``items()`` as well) and
tuples come back as plain dicts and lists. Anything else (a non-string key, a
``Decimal``, a ``str`` or ``list`` subclass, nesting too deep to be sure it is not a
cycle) takes the real round trip, with its exact conversions and errors.
"""

from __future__ import annotations

import json
from typing import Any

# Exact types whose values the round trip gives back equal (floats included: NaN and
# infinities go through json as NaN/Infinity and come back the same); ints too, short of
# the digit limit.
_ATOMS = frozenset({str, float, bool, type(None)})
_MAX_DEPTH = 32
_HUGE = 10**4000


class MarshalError(ValueError):
    """The result cannot be serialised to JSON (Lambda's ``Runtime.MarshalError``)."""


class _NotPlain(Exception):
    """The value needs the real JSON round trip."""


def marshal(result: Any) -> Any:
    """A JSON copy of ``result``, as the caller of a Lambda function receives it."""
    try:
        return _copy(result, _MAX_DEPTH)
    except (_NotPlain, TypeError, ValueError):  # the round trip has the last word
        pass
    try:
        return json.loads(json.dumps(result))
    except (TypeError, ValueError) as exc:
        raise MarshalError(f"Unable to marshal response: {exc}") from None


def _copy(value: Any, depth: int) -> Any:
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is int:
        # json refuses to write ints past Python's 4300-digit str() limit.
        if -_HUGE < value < _HUGE:
            return value
        raise _NotPlain()
    if depth == 0:
        raise _NotPlain()
    if kind is dict or isinstance(value, dict):
        copy: dict[str, Any] = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlain()
            copy[key] = _copy(item, depth - 1)
        return copy
    if kind is list or kind is tuple:
        return [_copy(item, depth - 1) for item in value]
    raise _NotPlain()
