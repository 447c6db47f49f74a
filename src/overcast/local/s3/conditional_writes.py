"""Conditional writes: ``If-None-Match: *`` and ``If-Match`` on the operations that
create an object (PutObject, CopyObject, CompleteMultipartUpload).

What it mirrors (S3 user guide, "How to prevent object overwrites with conditional
writes"; the operations' API reference):

- ``If-None-Match: *``: "Uploads the object only if the object key name does not
  already exist in the bucket specified. Otherwise, Amazon S3 returns a 412
  Precondition Failed error." It "expects the '*' (asterisk) character": any other
  value is 501 ``NotImplemented``, as S3 answers it, and so is ``If-None-Match``
  together with ``If-Match`` (the answers S3-compatible gateways record from S3,
  e.g. versitygw's integration tests).
- ``If-Match: <etag>``: written only if the object under the key has that ETag
  (quoted or not; several, comma-separated, or ``*``); another ETag is 412
  ``PreconditionFailed``, no object at all 404 ``NoSuchKey``.
- The check and the write are one atomic step of the object store
  (:meth:`~overcast.ports.objects.ObjectWriter.commit_if`): of two racing creates,
  exactly one wins and the other is 412. (S3 may answer such a race 409
  ``ConditionalRequestConflict``; the local store never needs to.) A store that
  cannot check atomically makes the write 501 ``NotImplemented``: a condition is
  never ignored.
- A failed condition stores nothing. The body is read first (S3 decides at the end
  of the write), and a multipart upload whose completion failed stays in progress,
  to be completed again or aborted.

DeleteObject's ``If-Match`` and ``x-amz-if-match-*`` headers are not served: they are
501 ``NotImplemented`` rather than ignored (:func:`refuse_conditional_delete`).
"""

from __future__ import annotations

from collections.abc import Mapping

from overcast.local.s3.errors import NoSuchKey, NotImplementedError_, PreconditionFailed
from overcast.local.s3.responses import unquoted
from overcast.ports.objects import (
    ObjectAttributes,
    ObjectInfo,
    ObjectWriter,
    WritePrecondition,
)
from overcast.ports.objects import exceptions as port

_CONDITIONAL_DELETE_HEADERS = (
    "if-match",
    "x-amz-if-match-last-modified-time",
    "x-amz-if-match-size",
)


def write_precondition(headers: Mapping[str, str]) -> WritePrecondition | None:
    """The precondition of a write's ``If-Match`` / ``If-None-Match``, if it has one."""
    if_match = headers.get("if-match")
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        if if_match is not None:
            raise NotImplementedError_(
                "A write takes If-Match or If-None-Match, not both.", Header="If-None-Match"
            )
        if if_none_match.strip() != "*":
            raise NotImplementedError_(
                "A write's If-None-Match takes only '*'.", Header="If-None-Match"
            )
        return WritePrecondition(if_none_match=True)
    if if_match is not None:
        etags = frozenset(unquoted(tag) for tag in if_match.split(",") if tag.strip())
        return WritePrecondition(if_match=etags)
    return None


def commit(
    writer: ObjectWriter,
    attributes: ObjectAttributes,
    precondition: WritePrecondition | None,
    *,
    etag: str | None = None,
) -> ObjectInfo:
    """Commit ``writer``, on ``precondition`` if any; S3's error when it fails."""
    if precondition is None:
        return writer.commit(attributes, etag=etag)
    try:
        return writer.commit_if(precondition, attributes, etag=etag)
    except port.PreconditionFailed as exc:
        condition = "If-Match" if precondition.if_match is not None else "If-None-Match"
        raise PreconditionFailed(Condition=condition) from exc
    except port.NoSuchKey as exc:  # If-Match, and no object under the key
        raise NoSuchKey(Key=exc.key) from exc
    except port.ConditionalWriteUnsupported as exc:
        raise NotImplementedError_(
            "This bucket's object store cannot check If-Match / If-None-Match atomically "
            "with the write.",
        ) from exc


def refuse_conditional_delete(headers: Mapping[str, str]) -> None:
    """501 for a conditional DeleteObject, which the local endpoint does not serve."""
    for name in _CONDITIONAL_DELETE_HEADERS:
        if name in headers:
            raise NotImplementedError_(
                f"The local S3 endpoint does not serve conditional deletes ({name}).",
                Header=name,
            )
