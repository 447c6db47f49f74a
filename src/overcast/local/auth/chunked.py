"""The ``aws-chunked`` content encoding of SigV4 streaming uploads, decoded as it arrives.

The body grammar (S3 API reference, "Signature Calculations for the Authorization
Header: Transferring Payload in Multiple Chunks" and "... Including Trailing Headers")::

    chunk    = hex-size [ ";chunk-signature=" 64HEXDIG ] CRLF data CRLF
    final    = "0" [ ";chunk-signature=" 64HEXDIG ] CRLF
    trailers = *( name ":" value CRLF ) [ "x-amz-trailer-signature:" 64HEXDIG CRLF ] CRLF

- **Signed chunks** chain: chunk *n* is signed over "AWS4-HMAC-SHA256-PAYLOAD",
  the request time, the scope, the signature of chunk *n-1* (the request's own
  signature, the *seed*, for the first), the SHA-256 of the empty string and the
  SHA-256 of the chunk's data. The zero-length final chunk is signed the same way.
- **Signed trailers** are signed over "AWS4-HMAC-SHA256-TRAILER", the request time,
  the scope, the final chunk's signature and the SHA-256 of the trailers written
  ``name:value\\n`` each.
- "The chunk size must be at least 8 KB ... except for the last chunk", checked
  only where chunks are signed (S3 answers ``InvalidChunkSizeError``).

Chunk headers may be split anywhere across network reads; data is never held
back: each read's data is handed out as soon as it is framed. The decoder knows
nothing of HTTP or S3 errors; it raises :class:`ChunkedEncodingError` subclasses
that the S3 endpoint maps to S3's codes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from string import hexdigits

from overcast.local.auth import canonical

CHUNK_ALGORITHM = "AWS4-HMAC-SHA256-PAYLOAD"
TRAILER_ALGORITHM = "AWS4-HMAC-SHA256-TRAILER"
TRAILER_SIGNATURE = "x-amz-trailer-signature"
MIN_SIGNED_CHUNK = 8 * 1024
_SIGNATURE_PREFIX = b"chunk-signature="
_MAX_HEADER_LINE = 4096
_MAX_TRAILER_SECTION = 16 * 1024
_HEX = frozenset(hexdigits.encode())


class ChunkedEncodingError(Exception):
    """An ``aws-chunked`` body that cannot be accepted."""


class MalformedChunk(ChunkedEncodingError):
    """A chunk header or the CRLF after a chunk's data is not as the grammar says."""


class TruncatedBody(ChunkedEncodingError):
    """The body ended before the final zero-length chunk."""


class ChunkSignatureMismatch(ChunkedEncodingError):
    """A chunk's (or the trailers') signature is not the one the chain expects."""


class MalformedTrailer(ChunkedEncodingError):
    """The trailer section after the final chunk is not ``name:value`` lines."""


class ChunkTooSmall(ChunkedEncodingError):
    """A signed chunk other than the last carries less than 8 KiB."""

    def __init__(self, number: int, size: int) -> None:
        super().__init__(f"chunk {number} has {size} bytes")
        self.number = number
        self.size = size


class ChunkChain:
    """The signatures of a signed streaming body, each chained on the one before."""

    def __init__(self, key: bytes, timestamp: str, scope: str, seed: str) -> None:
        self._key = key
        self._prefix = f"{timestamp}\n{scope}\n"
        self._previous = seed

    def _sign(self, algorithm: str, tail: str) -> str:
        to_sign = f"{algorithm}\n{self._prefix}{self._previous}\n{tail}"
        return canonical.signature(self._key, to_sign)

    def chunk(self, data_sha256: str, claimed: str) -> bool:
        """Whether ``claimed`` signs the next chunk; on success the chain moves on."""
        expected = self._sign(CHUNK_ALGORITHM, f"{canonical.EMPTY_SHA256}\n{data_sha256}")
        return self._advance(expected, claimed)

    def trailer(self, trailers: Sequence[tuple[str, str]], claimed: str) -> bool:
        """Whether ``claimed`` signs ``trailers`` after the final chunk."""
        text = "".join(f"{name}:{value}\n" for name, value in trailers)
        expected = self._sign(TRAILER_ALGORITHM, hashlib.sha256(text.encode()).hexdigest())
        return self._advance(expected, claimed)

    def _advance(self, expected: str, claimed: str) -> bool:
        if not hmac.compare_digest(expected.encode(), claimed.encode()):
            return False
        self._previous = expected
        return True


_HEADER, _DATA, _DATA_END, _TRAILERS = range(4)


class AwsChunkedDecoder:
    """Feeds on the raw body and hands out the object's bytes; ``finish`` gives the trailers.

    With a ``chain`` every chunk must carry its signature and the chain is checked
    chunk by chunk; ``signed_trailers`` also requires ``x-amz-trailer-signature``.
    """

    def __init__(self, chain: ChunkChain | None = None, *, signed_trailers: bool = False) -> None:
        self._chain = chain
        self._signed_trailers = signed_trailers and chain is not None
        self._state = _HEADER
        self._pending = bytearray()  # a partial header line, CRLF or the trailer section
        self._remaining = 0
        self._size = 0
        self._count = 0
        self._previous_size: int | None = None
        self._claimed = ""
        self._hasher = hashlib.sha256()

    def feed(self, data: bytes) -> list[bytes]:
        """The object bytes framed in ``data``, without copying when all of it is data."""
        pieces: list[bytes] = []
        position, end = 0, len(data)
        while position < end:
            if self._state == _DATA:
                position = self._take_data(data, position, pieces)
            elif self._state == _HEADER:
                position = self._take_header(data, position)
            elif self._state == _DATA_END:
                position = self._take_crlf(data, position)
            else:
                self._take_trailers(data, position)
                position = end
        return pieces

    def finish(self) -> list[tuple[str, str]]:
        """The trailers (lower-case names), once the whole body was fed."""
        if self._state != _TRAILERS:
            raise TruncatedBody("the body ended before its final chunk")
        trailers = _parse_trailers(bytes(self._pending))
        if not self._signed_trailers:
            return trailers
        signature = [value for name, value in trailers if name == TRAILER_SIGNATURE]
        rest = [(name, value) for name, value in trailers if name != TRAILER_SIGNATURE]
        if len(signature) != 1:
            raise MalformedTrailer("the trailers carry no x-amz-trailer-signature")
        assert self._chain is not None
        if not self._chain.trailer(rest, signature[0]):
            raise ChunkSignatureMismatch("the trailer signature does not match")
        return rest

    def _take_data(self, data: bytes, position: int, pieces: list[bytes]) -> int:
        take = min(self._remaining, len(data) - position)
        piece = data if take == len(data) else data[position : position + take]
        pieces.append(piece)
        if self._chain is not None:
            self._hasher.update(piece)
        self._remaining -= take
        if self._remaining == 0:
            self._end_of_data()
        return position + take

    def _take_header(self, data: bytes, position: int) -> int:
        newline = data.find(b"\n", position)
        stop = len(data) if newline < 0 else newline
        self._pending += data[position:stop]
        if len(self._pending) > _MAX_HEADER_LINE:
            raise MalformedChunk("a chunk header longer than 4 KiB")
        if newline < 0:
            return stop
        line = bytes(self._pending).removesuffix(b"\r")
        self._pending.clear()
        self._start_chunk(line)
        return newline + 1

    def _take_crlf(self, data: bytes, position: int) -> int:
        take = min(2 - len(self._pending), len(data) - position)
        self._pending += data[position : position + take]
        if len(self._pending) == 2:
            if self._pending != b"\r\n":
                raise MalformedChunk("a chunk's data is not followed by CRLF")
            self._pending.clear()
            self._state = _HEADER
        return position + take

    def _take_trailers(self, data: bytes, position: int) -> None:
        self._pending += data[position:]
        if len(self._pending) > _MAX_TRAILER_SECTION:
            raise MalformedTrailer("a trailer section longer than 16 KiB")

    def _start_chunk(self, line: bytes) -> None:
        size_text, _, extension = line.partition(b";")
        if not 0 < len(size_text) <= 16 or not _HEX.issuperset(size_text):
            raise MalformedChunk(f"a chunk header that is not a hex size: {line[:64]!r}")
        size = int(size_text, 16)
        if self._chain is not None:
            self._claimed = _chunk_signature(extension)
            self._check_previous_size(size)
        self._count += 1
        self._size = self._remaining = size
        self._hasher = hashlib.sha256()
        if size == 0:
            self._end_of_data()
            self._state = _TRAILERS
        else:
            self._state = _DATA

    def _check_previous_size(self, size: int) -> None:
        previous = self._previous_size
        if size > 0 and previous is not None and previous < MIN_SIGNED_CHUNK:
            raise ChunkTooSmall(self._count, previous)

    def _end_of_data(self) -> None:
        if self._chain is not None and not self._chain.chunk(
            self._hasher.hexdigest(), self._claimed
        ):
            raise ChunkSignatureMismatch(f"the signature of chunk {self._count} does not match")
        self._previous_size = self._size
        self._state = _DATA_END


def _chunk_signature(extension: bytes) -> str:
    if not extension.startswith(_SIGNATURE_PREFIX):
        raise MalformedChunk("a signed chunk without its chunk-signature")
    signature = extension[len(_SIGNATURE_PREFIX) :]
    if len(signature) != 64 or not _HEX.issuperset(signature):
        raise MalformedChunk("a chunk-signature that is not 64 hex digits")
    return signature.decode("ascii")


def _parse_trailers(section: bytes) -> list[tuple[str, str]]:
    lines = [line.removesuffix("\r") for line in section.decode("latin-1").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    trailers: list[tuple[str, str]] = []
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise MalformedTrailer(f"a trailer line that is not name:value: {line[:64]!r}")
        trailers.append((name.strip().lower(), value.strip()))
    return trailers
