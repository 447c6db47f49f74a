"""SNS's query protocol: form parameters in, XML out.

- Requests are ``POST /`` with ``Action=<Operation>&Version=2010-03-31&...``.
  Lists are ``<Name>.member.<n>.<Field>``; maps (``MessageAttributes``) are
  ``<Name>.entry.<n>.Name`` and ``<Name>.entry.<n>.Value.<Field>``; blobs are base64.
- A result is ``<<Action>Response xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
  <<Action>Result>...</<Action>Result><ResponseMetadata><RequestId/></ResponseMetadata>
  </<Action>Response>``; a list renders as ``<member>`` elements, a map as
  ``<entry><key/><value/></entry>``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

NAMESPACE = "http://sns.amazonaws.com/doc/2010-03-31/"
VERSION = "2010-03-31"
CONTENT_TYPE = "text/xml"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
Params = Mapping[str, str]


class XmlMap(dict[str, str]):
    """A query-protocol map: rendered as ``<entry><key/><value/></entry>``."""


XmlValue = str | XmlMap | Mapping[str, "XmlValue"] | Sequence["XmlValue"]


def parameters(query_string: bytes, body: bytes) -> dict[str, str]:
    """The request's parameters: the query string's, then the form body's."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    pairs += parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return dict(pairs)


def members(params: Params, name: str, kind: str = "member") -> list[dict[str, str]]:
    """The entries of list (``member``) or map (``entry``) ``name``, in index order, each
    with the entry's own field names (``Id``, ``Value.DataType``, ...)."""
    found: dict[int, dict[str, str]] = {}
    prefix = f"{name}.{kind}."
    for key, value in params.items():
        if not key.startswith(prefix):
            continue
        index, _, field = key[len(prefix) :].partition(".")
        if index.isdigit() and field:
            found.setdefault(int(index), {})[field] = value
    return [found[index] for index in sorted(found)]


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("", value))


def _render(value: XmlValue) -> str:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, XmlMap):
        return "".join(
            f"<entry><key>{_text(k)}</key><value>{_text(v)}</value></entry>"
            for k, v in value.items()
        )
    if isinstance(value, Mapping):
        return "".join(f"<{k}>{_render(v)}</{k}>" for k, v in value.items())
    return "".join(f"<member>{_render(item)}</member>" for item in value)


def result_document(action: str, result: Mapping[str, XmlValue], request_id: str) -> bytes:
    body = (
        f'<{action}Response xmlns="{NAMESPACE}">'
        f"<{action}Result>{_render(result)}</{action}Result>"
        f"<ResponseMetadata><RequestId>{_text(request_id)}</RequestId></ResponseMetadata>"
        f"</{action}Response>"
    )
    return body.encode("utf-8")


def error_document(fault: str, code: str, message: str, request_id: str) -> bytes:
    error = _render({"Type": fault, "Code": code, "Message": message})
    body = (
        f'<ErrorResponse xmlns="{NAMESPACE}"><Error>{error}</Error>'
        f"<RequestId>{_text(request_id)}</RequestId></ErrorResponse>"
    )
    return body.encode("utf-8")
