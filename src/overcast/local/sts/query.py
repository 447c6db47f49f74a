"""The AWS query protocol as STS speaks it: form parameters in, XML out.

- Requests are ``POST /`` with ``application/x-www-form-urlencoded`` parameters
  ``Action=<Operation>&Version=2011-06-15&...`` (parameters in the query string
  count too, as AWS accepts them there).
- A result is ``<<Action>Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <<Action>Result>...</<Action>Result><ResponseMetadata><RequestId/>
  </ResponseMetadata></<Action>Response>`` (botocore's ``resultWrapper``).
- An error is ``<ErrorResponse xmlns="..."><Error><Type>Sender</Type><Code/>
  <Message/></Error><RequestId/></ErrorResponse>``, with the error's status.
- Timestamps are ISO 8601 in UTC with a ``Z``, as ``2011-07-15T23:28:33Z``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
VERSION = "2011-06-15"
CONTENT_TYPE = "text/xml"

XmlValue = str | Mapping[str, "XmlValue"]
# Characters XML 1.0 cannot carry at all; they are dropped from text (messages may echo input).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def parameters(query_string: bytes, body: bytes) -> dict[str, str]:
    """The request's parameters: the query string's, then the form body's."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    pairs += parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return dict(pairs)


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("", value))


def _elements(members: Mapping[str, XmlValue]) -> str:
    parts = []
    for name, value in members.items():
        inner = _text(value) if isinstance(value, str) else _elements(value)
        parts.append(f"<{name}>{inner}</{name}>")
    return "".join(parts)


def result_document(action: str, result: Mapping[str, XmlValue], request_id: str) -> bytes:
    """An operation's response document."""
    body = (
        f'<{action}Response xmlns="{NAMESPACE}">'
        f"<{action}Result>{_elements(result)}</{action}Result>"
        f"<ResponseMetadata><RequestId>{_text(request_id)}</RequestId></ResponseMetadata>"
        f"</{action}Response>"
    )
    return body.encode("utf-8")


def error_document(fault: str, code: str, message: str, request_id: str) -> bytes:
    """An error response document."""
    error = _elements({"Type": fault, "Code": code, "Message": message})
    body = (
        f'<ErrorResponse xmlns="{NAMESPACE}"><Error>{error}</Error>'
        f"<RequestId>{_text(request_id)}</RequestId></ErrorResponse>"
    )
    return body.encode("utf-8")
