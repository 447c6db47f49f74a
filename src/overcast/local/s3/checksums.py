"""The additional checksums S3 verifies on upload (S3 user guide, "Checking object integrity").

A client names one algorithm and sends its checksum either as a header
(``x-amz-checksum-crc32: <value>``) or as a trailer of an ``aws-chunked`` body
(``x-amz-trailer: x-amz-checksum-crc32``). The value is the base64 of the
big-endian digest: 4 bytes for CRC32 and CRC32C, 8 for CRC64NVME, 20 for SHA1 and
32 for SHA256. S3 recomputes it over the object and answers ``BadDigest`` ("The
CRC32 you specified did not match the calculated checksum.") when they differ.

CRC32, SHA1 and SHA256 come from the standard library (``zlib``, ``hashlib``).
CRC32C and CRC64NVME need a native implementation (botocore uses ``awscrt``,
which is not installed); a pure-Python table CRC runs at a few MB/s, far too slow
for multi-gigabyte parts, so the local endpoint refuses those two with
``InvalidRequest`` rather than store a checksum it never verified.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections.abc import Callable
from typing import Protocol

from overcast.local.s3.errors import InvalidRequest

HEADER_PREFIX = "x-amz-checksum-"
DIGEST_SIZES = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}
UNSUPPORTED = frozenset({"CRC32C", "CRC64NVME"})


class Checksum(Protocol):
    """A running digest: what ``hashlib`` objects and :class:`Crc32` share."""

    def update(self, data: bytes, /) -> None: ...

    def digest(self) -> bytes: ...


class Crc32:
    """CRC-32 (ISO-HDLC, as zlib) fed incrementally; ``digest`` is big-endian."""

    def __init__(self) -> None:
        self._value = 0

    def update(self, data: bytes, /) -> None:
        self._value = zlib.crc32(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(4, "big")


_FACTORIES: dict[str, Callable[[], Checksum]] = {
    "CRC32": Crc32,
    "SHA1": hashlib.sha1,
    "SHA256": hashlib.sha256,
}


def algorithm_of(name: str) -> str | None:
    """``CRC32`` for ``x-amz-checksum-crc32``; ``None`` for other headers.

    ``x-amz-checksum-type``, ``-mode`` and ``-algorithm`` share the prefix but carry
    no checksum.
    """
    if not name.lower().startswith(HEADER_PREFIX):
        return None
    algorithm = name[len(HEADER_PREFIX) :].upper()
    return algorithm if algorithm in DIGEST_SIZES else None


def check_supported(algorithm: str) -> None:
    """Refuse an algorithm this endpoint cannot compute (see the module docstring)."""
    if algorithm in UNSUPPORTED:
        raise InvalidRequest(
            f"The {algorithm} checksum algorithm is not supported by the local S3 endpoint; "
            "use CRC32, SHA1 or SHA256."
        )
    if algorithm not in _FACTORIES:
        raise InvalidRequest(f"Checksum algorithm {algorithm} is not supported.")


def new_checksum(algorithm: str) -> Checksum:
    """A fresh running digest for ``algorithm`` (one of ``CRC32``, ``SHA1``, ``SHA256``)."""
    check_supported(algorithm)
    return _FACTORIES[algorithm]()


def decode_value(algorithm: str, value: str, *, where: str = "header") -> bytes:
    """The digest a base64 checksum value stands for, or ``InvalidRequest``."""
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != DIGEST_SIZES[algorithm]:
        name = HEADER_PREFIX + algorithm.lower()
        raise InvalidRequest(f"Value for {name} {where} is invalid.")
    return digest


def encode(digest: bytes) -> str:
    """The base64 form S3 uses for checksum values."""
    return base64.b64encode(digest).decode("ascii")
