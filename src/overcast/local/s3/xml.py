"""S3's XML dialect: documents written as strings, request bodies read with defusedxml.

Responses are small, flat documents in the namespace
``http://s3.amazonaws.com/doc/2006-03-01/``; building them as escaped strings is
several times faster than an element tree, and a listing of 1000 keys is the biggest.
Errors have no namespace (``<Error>`` at the root), as S3 sends them.

Request bodies (``CreateBucketConfiguration``, ``Delete``,
``CompleteMultipartUpload``) are parsed with defusedxml: no entities, no DTDs. A body
that is not well-formed, or whose root is not the expected element, is
``MalformedXML``, S3's answer. Elements are matched by local name, so a body with or
without S3's namespace reads the same (SDKs send it; hand-written bodies often do not).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from overcast.local.s3.errors import MalformedXML

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        # Characters XML 1.0 cannot carry at all (an error's <Resource> may hold them):
        **{chr(code): "\ufffd" for code in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20))},
    }
)
_NEEDS_ESCAPE = re.compile('[&<>"\x00-\x08\x0b\x0c\x0e-\x1f]')

Text = str | int | bool | None


def escape(text: str) -> str:
    """``text`` safe as XML character data (and as an attribute value); characters
    XML 1.0 cannot carry become U+FFFD."""
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    return text.translate(_ESCAPES)


def element(tag: str, value: Text) -> str:
    """``<tag>value</tag>``; ``None`` gives nothing; booleans are ``true``/``false``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return f"<{tag}>{'true' if value else 'false'}</{tag}>"
    if isinstance(value, int):
        return f"<{tag}>{value}</{tag}>"
    return f"<{tag}>{escape(value)}</{tag}>"


def group(tag: str, parts: Iterable[str]) -> str:
    """``<tag>`` around already-rendered ``parts``."""
    return f"<{tag}>{''.join(parts)}</{tag}>"


def document(root: str, parts: Iterable[str], *, namespace: bool = True) -> bytes:
    """A whole document: the declaration and ``root`` (in S3's namespace) around ``parts``."""
    attribute = f' xmlns="{NAMESPACE}"' if namespace else ""
    return f"{DECLARATION}<{root}{attribute}>{''.join(parts)}</{root}>".encode()


def parse(body: bytes, root: str) -> Element:
    """The root element of a request body, which must be ``<root>`` (``MalformedXML``)."""
    try:
        tree: Element = fromstring(body)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise MalformedXML() from exc
    if local_name(tree.tag) != root:
        raise MalformedXML()
    return tree


def local_name(tag: str) -> str:
    """A tag without its ``{namespace}``."""
    return tag.rpartition("}")[2]


def children(parent: Element, name: str) -> list[Element]:
    """The child elements named ``name`` (any namespace), in document order."""
    return [child for child in parent if local_name(child.tag) == name]


def child_text(parent: Element, name: str) -> str | None:
    """The text of the first child named ``name`` ("" when empty); ``None`` if absent."""
    for child in parent:
        if local_name(child.tag) == name:
            return child.text or ""
    return None


@dataclass(frozen=True)
class Owner:
    """The owner S3 names in listings: a canonical user id (64 hex digits) and a name."""

    id: str
    display_name: str

    @classmethod
    def of_account(cls, account_id: str) -> Owner:
        """The account's owner; its canonical id derived from the account id, stably."""
        canonical = hashlib.sha256(f"overcast:{account_id}".encode()).hexdigest()
        return cls(canonical, account_id)

    def render(self, tag: str = "Owner") -> str:
        return group(tag, [element("ID", self.id), element("DisplayName", self.display_name)])
