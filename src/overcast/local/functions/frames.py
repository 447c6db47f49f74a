"""Length-prefixed frames between the local cloud and an execution environment.

A frame is a 4-byte big-endian length and that many bytes of JSON: one write and one
read per message on each side, whatever the size.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import BinaryIO

_LENGTH = struct.Struct(">I")

# The error a worker answers when the handler called sys.exit; it ends after the reply.
EXIT_ERROR = "Runtime.ExitError"


def error_reply(error_type: str, message: str) -> bytes:
    """A failed invocation's reply, as Lambda's runtime reports it."""
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


def frame(payload: bytes) -> bytes:
    return _LENGTH.pack(len(payload)) + payload


def write_frame(channel: socket.socket, payload: bytes) -> None:
    channel.sendall(frame(payload))


def read_frame(reader: BinaryIO) -> bytes | None:
    """The next frame's payload, or ``None`` when the other side has closed."""
    header = reader.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack(header)
    payload = reader.read(length)
    return payload if len(payload) == length else None


def take_frame(buffer: bytearray) -> bytes | None:
    """Remove and return the first whole frame's payload in ``buffer``, if there is one."""
    if len(buffer) < _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack_from(buffer)
    end = _LENGTH.size + length
    if len(buffer) < end:
        return None
    payload = bytes(buffer[_LENGTH.size : end])
    del buffer[:end]
    return payload
