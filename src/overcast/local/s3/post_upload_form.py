"""Reading an S3 browser-based POST upload's ``multipart/form-data`` body as it arrives.

S3's POST upload ("Browser-Based Uploads Using POST") sends the form fields first and
the file last: "The file or text content must be the last field in the form", and
"Any fields following the file are ignored". So the reader gives the fields (each
small, all of them together at most 20 KB, as S3's
``MaxPostPreDataLengthExceededError`` says), then the file part's headers, then
streams the file's bytes without ever holding the whole file in memory: at most one
ASGI message plus the delimiter's length are buffered.

The format is RFC 7578 over RFC 2046's multipart: parts separated by
``--<boundary>``, each with headers (``Content-Disposition: form-data; name="key"``,
``filename="..."`` for the file), an empty line, then the content; the last
delimiter ends with ``--``. Form field names are case-insensitive in S3 ("Form
fields ... are not case sensitive"): they are lower-cased here.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

from starlette.types import Receive

from overcast.local.s3.errors import IncompleteBody, InvalidArgument, S3Error

MAX_FIELDS_BYTES = 20 * 1024  # S3: the fields preceding the file, all together
MAX_HEADER_BYTES = 8 * 1024  # one part's headers
_DRAIN_LIMIT = 64 * 1024  # what is read past the file (ignored fields) before giving up
_PARAMETER = re.compile(r';\s*([\w*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))')
_BOUNDARY = re.compile(r'boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)


class MaxPostPreDataLengthExceeded(S3Error):
    """The form fields before the file are too large."""

    code = "MaxPostPreDataLengthExceededError"
    status = 400
    default_message = "Your POST request fields preceding the upload file were too large."


class MalformedPOSTRequest(S3Error):
    """The body is not well-formed multipart/form-data."""

    code = "MalformedPOSTRequest"
    status = 400
    default_message = "The body of your POST request is not well-formed multipart/form-data."


@dataclass(frozen=True)
class FormPart:
    """One part's name (lower-cased) and, for the file, the filename it was sent with."""

    name: str
    filename: str | None = None


def boundary_of(content_type: str) -> str:
    """The ``boundary`` parameter of a ``multipart/form-data`` content type."""
    found = _BOUNDARY.search(content_type)
    if found is None:
        raise MalformedPOSTRequest()
    return found.group(1) or found.group(2)


class FormReader:
    """The parts of one form body, read from ASGI ``receive`` as they arrive."""

    def __init__(self, receive: Receive, boundary: str) -> None:
        self._receive = receive
        self._delimiter = b"\r\n--" + boundary.encode("latin-1")
        self._buffer = bytearray(b"\r\n")  # so the first delimiter looks like the others
        self._done = False
        self._field_bytes = 0

    async def fields(self) -> tuple[dict[str, str], FormPart | None]:
        """The fields before the file (names lower-cased), and the file part (``None``
        when the form has none)."""
        fields: dict[str, str] = {}
        await self._skip_to_delimiter()
        while await self._next_part():
            part = await self._part_headers()
            if part.filename is not None or part.name == "file":
                return fields, part
            value = await self._field_value()
            fields.setdefault(part.name, value.decode("utf-8", "replace"))
        return fields, None

    async def file_chunks(self) -> AsyncIterator[bytes]:
        """The file part's bytes, chunk by chunk, up to its closing delimiter."""
        keep = len(self._delimiter) - 1
        while True:
            found = self._buffer.find(self._delimiter)
            if found >= 0:
                chunk = bytes(self._buffer[:found])
                del self._buffer[: found + len(self._delimiter)]
                if chunk:
                    yield chunk
                return
            if len(self._buffer) > keep:
                chunk = bytes(self._buffer[:-keep])
                del self._buffer[:-keep]
                yield chunk
            await self._fill()

    async def drain(self) -> None:
        """Read what follows the file (ignored), so the connection can serve again."""
        read = 0
        while not self._done and read < _DRAIN_LIMIT:
            self._buffer.clear()
            await self._fill()
            read += len(self._buffer)
        self._buffer.clear()

    async def _skip_to_delimiter(self) -> None:
        while (found := self._buffer.find(self._delimiter)) < 0:
            if len(self._buffer) > MAX_HEADER_BYTES:
                raise MalformedPOSTRequest()
            await self._fill()
        del self._buffer[: found + len(self._delimiter)]

    async def _next_part(self) -> bool:
        """After a delimiter: ``True`` when a part follows, ``False`` at the end."""
        while len(self._buffer) < 2:
            await self._fill()
        return bytes(self._buffer[:2]) != b"--"

    async def _part_headers(self) -> FormPart:
        block = await self._until(b"\r\n\r\n", MAX_HEADER_BYTES, MalformedPOSTRequest)
        return _form_part(block.decode("utf-8", "replace"))

    async def _field_value(self) -> bytes:
        value = await self._until(self._delimiter, MAX_FIELDS_BYTES, MaxPostPreDataLengthExceeded)
        self._field_bytes += len(value)
        if self._field_bytes > MAX_FIELDS_BYTES:
            raise MaxPostPreDataLengthExceeded()
        return value

    async def _until(self, marker: bytes, limit: int, error: type[S3Error]) -> bytes:
        while (found := self._buffer.find(marker)) < 0:
            if len(self._buffer) > limit:
                raise error()
            await self._fill()
        value = bytes(self._buffer[:found])
        del self._buffer[: found + len(marker)]
        return value

    async def _fill(self) -> None:
        if self._done:
            raise IncompleteBody("The POST request body ended before its last boundary.")
        message = await self._receive()
        if message["type"] != "http.request":
            raise IncompleteBody("The client went away before the whole body arrived.")
        self._buffer += message.get("body", b"")
        self._done = not message.get("more_body", False)


def _form_part(block: str) -> FormPart:
    for line in block.split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-disposition":
            return _disposition(value)
    raise InvalidArgument(
        "Every part of a POST form needs a Content-Disposition header.",
        ArgumentName="Content-Disposition",
    )


def _disposition(value: str) -> FormPart:
    parameters: dict[str, str] = {}
    for match in _PARAMETER.finditer(value):
        quoted, bare = match.group(2), match.group(3)
        text = quoted.replace('\\"', '"') if quoted is not None else (bare or "").strip()
        parameters.setdefault(match.group(1).lower(), text)
    if "name" not in parameters:
        raise MalformedPOSTRequest()
    return FormPart(parameters["name"].lower(), parameters.get("filename"))
