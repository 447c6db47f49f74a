"""CloudFront's XML: the InvalidationBatch a client sends, the documents it gets back.

Documents are in CloudFront's namespace ``http://cloudfront.amazonaws.com/doc/2020-05-31/``
and follow botocore's ``cloudfront`` 2020-05-31 model (lists as ``Quantity`` + ``Items``,
times in ISO 8601 UTC). Request bodies are parsed with defusedxml (no entities, no
DTDs); elements are matched by local name, so a body with or without the namespace
reads the same. A body that is not well-formed, or whose root is not
``InvalidationBatch``, is ``MalformedInput``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from overcast.local.cloudfront import errors
from overcast.local.cloudfront.store import Invalidation, Page
from overcast.local.s3.xml import child_text, children, element, group, local_name

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


@dataclass(frozen=True)
class Batch:
    """An InvalidationBatch as sent: ``quantity`` as claimed, ``paths`` as listed."""

    caller_reference: str
    quantity: int
    paths: list[str]


def document(root: str, parts: Iterable[str]) -> bytes:
    """A whole document: the declaration and ``root`` (in CloudFront's namespace)."""
    inner = "".join(parts)
    return f'{DECLARATION}<{root} xmlns="{errors.NAMESPACE}">{inner}</{root}>'.encode()


def timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as CloudFront writes times."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_batch(body: bytes) -> Batch:
    """The InvalidationBatch of a CreateInvalidation body."""
    if not body.strip():
        raise errors.MissingBody()
    try:
        root: Element = fromstring(body)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise errors.MalformedInput() from exc
    if local_name(root.tag) != "InvalidationBatch":
        raise errors.MalformedInput("The root element must be InvalidationBatch.")
    reference = child_text(root, "CallerReference")
    found = children(root, "Paths")
    if not reference:
        raise errors.InvalidArgument("CallerReference is required.")
    if not found:
        raise errors.InvalidArgument("Paths is required.")
    quantity = child_text(found[0], "Quantity")
    # ASCII digits only, and few of them: str.isdigit() also accepts "²", which int() refuses.
    if quantity is None or not re.fullmatch(r"[0-9]{1,9}", quantity.strip()):
        raise errors.MalformedInput("Paths/Quantity must be a non-negative integer.")
    items = children(found[0], "Items")
    paths = [path.text or "" for path in children(items[0], "Path")] if items else []
    return Batch(reference, int(quantity), paths)


def invalidation(found: Invalidation) -> str:
    paths = [element("Path", path) for path in found.paths]
    batch = group(
        "InvalidationBatch",
        [
            group("Paths", [element("Quantity", len(paths)), group("Items", paths)]),
            element("CallerReference", found.caller_reference),
        ],
    )
    return "".join(
        [
            element("Id", found.id),
            element("Status", found.status),
            element("CreateTime", timestamp(found.create_time)),
            batch,
        ]
    )


def invalidation_document(found: Invalidation) -> bytes:
    return document("Invalidation", [invalidation(found)])


def invalidation_list_document(page: Page, marker: str, max_items: int) -> bytes:
    summaries = [
        group(
            "InvalidationSummary",
            [
                element("Id", found.id),
                element("CreateTime", timestamp(found.create_time)),
                element("Status", found.status),
            ],
        )
        for found in page.items
    ]
    return list_document("InvalidationList", marker, page.next_marker, max_items, summaries)


def _list_head(marker: str, next_marker: str | None, max_items: int, quantity: int) -> list[str]:
    return [
        element("Marker", marker),
        element("NextMarker", next_marker),
        element("MaxItems", max_items),
        element("IsTruncated", next_marker is not None),
        element("Quantity", quantity),
    ]


def list_document(
    root: str, marker: str, next_marker: str | None, max_items: int, items: list[str]
) -> bytes:
    """A ``Marker``/``MaxItems``/``IsTruncated``/``Quantity``/``Items`` listing."""
    head = _list_head(marker, next_marker, max_items, len(items))
    return document(root, [*head, group("Items", items) if items else ""])


def error_document(error: errors.CloudFrontError, request_id: str) -> bytes:
    fields = [
        element("Type", error.fault),
        element("Code", error.code),
        element("Message", error.message),
    ]
    return document("ErrorResponse", [group("Error", fields), element("RequestId", request_id)])
