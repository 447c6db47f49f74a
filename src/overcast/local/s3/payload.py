"""How S3 checks and decodes a request body, streamed from ASGI without buffering it.

What it mirrors from S3 ("Authenticating Requests (AWS Signature Version 4)",
"Checking object integrity", "Transferring Payload in Multiple Chunks"):

- ``x-amz-content-sha256`` is a hex SHA-256 of the body (checked:
  ``XAmzContentSHA256Mismatch``), ``UNSIGNED-PAYLOAD``, or one of the ``STREAMING-*``
  values, whose body is ``aws-chunked`` (see :mod:`overcast.local.auth.chunked`):
  ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` (signed chunks), its ``-TRAILER`` variant
  (signed chunks and trailers), and ``STREAMING-UNSIGNED-PAYLOAD-TRAILER`` (what
  botocore sends for ``PutObject``/``UploadPart`` over HTTPS). A streaming body has
  ``x-amz-decoded-content-length`` bytes once decoded (else ``IncompleteBody``); S3
  requires that header with signed chunks (``MissingContentLength``); without it an
  unsigned-trailer body is accepted at whatever length it decodes to.
- ``Content-MD5`` is the base64 MD5 of the body: malformed is ``InvalidDigest``,
  different is ``BadDigest`` (with ``ExpectedDigest`` in hex and
  ``CalculatedDigest`` in base64, as S3 reports them).
- One additional checksum, as an ``x-amz-checksum-*`` header or a trailer named
  by ``x-amz-trailer`` (see :mod:`overcast.local.s3.checksums`); a second one is
  ``InvalidRequest``, a wrong one ``BadDigest``.

Every check that needs the whole body runs before :meth:`Payload.chunks` finishes,
so a consumer that commits only after its loop ends never commits a bad body.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol, TypeVar

from starlette.types import Receive

from overcast.local.auth import chunked
from overcast.local.s3 import checksums
from overcast.local.s3.errors import (
    BadDigest,
    EntityTooLarge,
    IncompleteBody,
    InvalidArgument,
    InvalidChunkSizeError,
    InvalidDigest,
    InvalidRequest,
    MalformedTrailerError,
    MissingContentLength,
    SignatureDoesNotMatch,
    XAmzContentSHA256Mismatch,
)

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
SIGNED_STREAMING = frozenset({STREAMING_SIGNED, STREAMING_SIGNED_TRAILER})
STREAMING = SIGNED_STREAMING | {STREAMING_UNSIGNED_TRAILER}
SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
_T = TypeVar("_T")


@dataclass(frozen=True)
class Expectations:
    """What a body must satisfy: each field ``None``/empty when not asked for."""

    sha256: str | None = None  # hex, from x-amz-content-sha256
    md5: bytes | None = None  # from Content-MD5
    checksums: dict[str, bytes] = field(default_factory=dict)  # algorithm -> digest (headers)
    trailers: tuple[str, ...] = ()  # algorithms whose value comes as a trailer
    decoded_length: int | None = None  # x-amz-decoded-content-length


@dataclass(frozen=True)
class Framing:
    """An ``aws-chunked`` body: its signature chain (signed streaming) and trailer rule."""

    chain: chunked.ChunkChain | None = None
    signed_trailers: bool = False


class Payload:
    """How to check and decode one request body; see the module docstring.

    ``Payload()`` passes the body through unchecked. After :meth:`chunks` finished,
    ``checksums`` holds the verified checksums by algorithm (``{"CRC32": "<base64>"}``)
    and ``content_md5`` the verified MD5 in hex when ``Content-MD5`` was sent.
    """

    def __init__(
        self, expectations: Expectations | None = None, framing: Framing | None = None
    ) -> None:
        self._expect = expectations or Expectations()
        self._framing = framing
        self.checksums: dict[str, str] = {}
        self.content_md5: str | None = None

    async def chunks(self, receive: Receive) -> AsyncIterator[bytes]:
        """The object's bytes as they arrive; raises :class:`S3Error` for a bad body."""
        digests = _Digests(self._expect)
        decoder = self._decoder()
        length = 0
        async for body in _bodies(receive):
            for piece in _decode(decoder.feed, body):
                length += len(piece)
                self._check_length(length, final=False)
                digests.update(piece)
                yield piece
        trailers = _decode(decoder.finish)
        self._check_length(length, final=True)
        self._verify(digests, self._trailer_checksums(trailers))

    async def read_all(self, receive: Receive, limit: int) -> bytes:
        """The whole (small) body, checked; ``EntityTooLarge`` past ``limit`` bytes."""
        parts: list[bytes] = []
        size = 0
        async for piece in self.chunks(receive):
            size += len(piece)
            if size > limit:
                raise EntityTooLarge(ProposedSize=str(size), MaxSizeAllowed=str(limit))
            parts.append(piece)
        return b"".join(parts)

    def _decoder(self) -> _Decoder:
        if self._framing is None:
            return _Identity()
        return chunked.AwsChunkedDecoder(
            self._framing.chain, signed_trailers=self._framing.signed_trailers
        )

    def _check_length(self, length: int, *, final: bool) -> None:
        declared = self._expect.decoded_length
        if declared is None or length == declared or (length < declared and not final):
            return
        raise IncompleteBody(
            f"The decoded body has {'more' if length > declared else 'fewer'} bytes than "
            f"x-amz-decoded-content-length ({declared})."
        )

    def _trailer_checksums(self, trailers: Sequence[tuple[str, str]]) -> dict[str, bytes]:
        wanted = {checksums.HEADER_PREFIX + name.lower(): name for name in self._expect.trailers}
        found: dict[str, bytes] = {}
        for name, value in trailers:
            algorithm = wanted.get(name)
            if algorithm is None or algorithm in found:
                raise MalformedTrailerError(f"Unexpected trailer: {name}")
            found[algorithm] = checksums.decode_value(algorithm, value, where="trailer")
        if len(found) != len(wanted):
            raise MalformedTrailerError(
                "The trailer named by x-amz-trailer was not sent: " + ", ".join(sorted(wanted))
            )
        return found

    def _verify(self, digests: _Digests, trailer_checksums: dict[str, bytes]) -> None:
        expect = self._expect
        if expect.sha256 is not None:
            actual = digests.sha256_hex()
            if not hmac.compare_digest(actual, expect.sha256.lower()):
                raise XAmzContentSHA256Mismatch(
                    ClientComputedContentSHA256=expect.sha256, S3ComputedContentSHA256=actual
                )
        if expect.md5 is not None:
            computed = digests.md5()
            if not hmac.compare_digest(computed, expect.md5):
                raise BadDigest(
                    ExpectedDigest=expect.md5.hex(),
                    CalculatedDigest=base64.b64encode(computed).decode("ascii"),
                )
            self.content_md5 = computed.hex()
        for algorithm, wanted in {**expect.checksums, **trailer_checksums}.items():
            computed = digests.checksum(algorithm)
            if not hmac.compare_digest(computed, wanted):
                raise BadDigest(
                    f"The {algorithm} you specified did not match the calculated checksum."
                )
            self.checksums[algorithm] = checksums.encode(computed)


class _Decoder(Protocol):
    """What :class:`Payload` asks of a body decoder."""

    def feed(self, data: bytes) -> list[bytes]: ...

    def finish(self) -> list[tuple[str, str]]: ...


class _Identity:
    def feed(self, data: bytes) -> list[bytes]:
        return [data]

    def finish(self) -> list[tuple[str, str]]:
        return []


class _Digests:
    """The running digests a body's checks need, and nothing more."""

    def __init__(self, expect: Expectations) -> None:
        self._sha256 = hashlib.sha256() if expect.sha256 is not None else None
        self._md5 = hashlib.md5(usedforsecurity=False) if expect.md5 is not None else None
        algorithms = {*expect.checksums, *expect.trailers}
        self._checksums = {name: checksums.new_checksum(name) for name in algorithms}
        self._all: list[checksums.Checksum] = [
            digest for digest in (self._sha256, self._md5) if digest is not None
        ] + list(self._checksums.values())

    def update(self, piece: bytes) -> None:
        for digest in self._all:
            digest.update(piece)

    def sha256_hex(self) -> str:
        assert self._sha256 is not None
        return self._sha256.hexdigest()

    def md5(self) -> bytes:
        assert self._md5 is not None
        return self._md5.digest()

    def checksum(self, algorithm: str) -> bytes:
        return self._checksums[algorithm].digest()


async def _bodies(receive: Receive) -> AsyncIterator[bytes]:
    """The body of each ``http.request`` message; a disconnect is an incomplete body."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise IncompleteBody("The request body terminated unexpectedly")
        body: bytes = message.get("body", b"")
        if body:
            yield body
        if not message.get("more_body", False):
            return


def _decode(step: Callable[..., _T], *args: bytes) -> _T:
    """Run a decoder step, answering its framing errors as S3 does."""
    try:
        return step(*args)
    except chunked.ChunkTooSmall as error:
        raise InvalidChunkSizeError(Chunk=str(error.number), BadChunkSize=str(error.size)) from None
    except chunked.ChunkSignatureMismatch:
        raise SignatureDoesNotMatch() from None
    except chunked.TruncatedBody:
        raise IncompleteBody("The request body terminated unexpectedly") from None
    except chunked.MalformedTrailer as error:
        raise MalformedTrailerError(f"{MalformedTrailerError.default_message} ({error})") from None
    except chunked.ChunkedEncodingError as error:
        raise InvalidRequest(f"Invalid aws-chunked encoding: {error}.") from None


def payload_from_headers(
    headers: Sequence[tuple[str, str]],
    content_sha256: str | None,
    chain: chunked.ChunkChain | None = None,
) -> Payload:
    """The checks a request's headers announce for its body; bad headers raise S3 errors.

    ``content_sha256`` is the payload hash the signature covered (``None`` for an
    anonymous request that sent none); ``chain`` checks signed streaming chunks.
    """
    values = {name.lower(): value for name, value in reversed(headers)}
    header_checksums = _header_checksums(headers, values.get("x-amz-sdk-checksum-algorithm"))
    expect = Expectations(
        md5=decode_content_md5(values.get("content-md5")), checksums=header_checksums
    )
    if content_sha256 is None or content_sha256 == UNSIGNED_PAYLOAD:
        return Payload(expect)
    check_content_sha256(content_sha256)
    if content_sha256 not in STREAMING:
        return Payload(replace(expect, sha256=content_sha256))
    if content_sha256 in SIGNED_STREAMING and chain is None:
        raise InvalidRequest(f"x-amz-content-sha256 {content_sha256} needs a signed request.")
    trailers: tuple[str, ...] = ()
    if content_sha256.endswith("-TRAILER"):
        trailers = _trailer_algorithms(values.get("x-amz-trailer"))
    if len(trailers) + len(header_checksums) > 1:
        raise InvalidRequest(_MULTIPLE_CHECKSUMS)
    length = _decoded_length(values.get("x-amz-decoded-content-length"), required=chain is not None)
    framing = Framing(chain, signed_trailers=content_sha256 == STREAMING_SIGNED_TRAILER)
    return Payload(replace(expect, trailers=trailers, decoded_length=length), framing)


def check_content_sha256(value: str) -> None:
    """S3 accepts a hex SHA-256 or one of its named payload kinds; SigV4a ones are not served."""
    if value == UNSIGNED_PAYLOAD or value in STREAMING or SHA256_HEX.fullmatch(value):
        return
    if value.startswith("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"):
        raise InvalidRequest(f"x-amz-content-sha256 {value} (SigV4a) is not supported locally.")
    raise InvalidArgument(
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, "
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, "
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
        ArgumentName="x-amz-content-sha256",
        ArgumentValue=value,
    )


def decode_content_md5(value: str | None) -> bytes | None:
    """The digest of a ``Content-MD5`` header; ``InvalidDigest`` when it is not one."""
    if value is None:
        return None
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 16:
        raise InvalidDigest(**{"Content-MD5": value})
    return digest


_MULTIPLE_CHECKSUMS = (
    "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
)


def _header_checksums(
    headers: Sequence[tuple[str, str]], sdk_algorithm: str | None
) -> dict[str, bytes]:
    if sdk_algorithm is not None:
        _check_sdk_algorithm(sdk_algorithm.strip().upper())
    found: dict[str, bytes] = {}
    for name, value in headers:
        algorithm = checksums.algorithm_of(name)
        if algorithm is None:
            continue
        if found:
            raise InvalidRequest(_MULTIPLE_CHECKSUMS)
        checksums.check_supported(algorithm)
        found[algorithm] = checksums.decode_value(algorithm, value)
    return found


def _check_sdk_algorithm(algorithm: str) -> None:
    # x-amz-sdk-checksum-algorithm names the checksum the SDK computes; one this
    # endpoint cannot verify is refused up front, as the checksum itself would be.
    if algorithm not in checksums.DIGEST_SIZES:
        raise InvalidRequest("Value for x-amz-sdk-checksum-algorithm header is invalid.")
    checksums.check_supported(algorithm)


def _trailer_algorithms(value: str | None) -> tuple[str, ...]:
    if value is None or not value.strip():
        return ()
    algorithms: list[str] = []
    for name in value.split(","):
        algorithm = checksums.algorithm_of(name.strip())
        if algorithm is None:
            raise InvalidRequest("The value specified in the x-amz-trailer header is not supported")
        checksums.check_supported(algorithm)
        algorithms.append(algorithm)
    return tuple(algorithms)


def _decoded_length(value: str | None, *, required: bool) -> int | None:
    if value is None:
        if required:
            raise MissingContentLength(
                "You must provide the x-amz-decoded-content-length header with aws-chunked."
            )
        return None
    if not value.strip().isdigit():
        raise InvalidArgument(
            "x-amz-decoded-content-length is not a valid number.",
            ArgumentName="x-amz-decoded-content-length",
            ArgumentValue=value,
        )
    return int(value)
