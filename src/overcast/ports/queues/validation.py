"""SQS's rules for messages, checked before anything is written, and SQS's digests.

Rules mirrored (SQS ``SendMessage`` and "Amazon SQS message attributes"):

- A body is 1 or more characters of ``#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD |
  #x10000-#x10FFFF``; body plus attributes (names, types and values) at most 1 MiB
  ("Name, type, value and the message body ... are part of the message size restriction
  (1 MiB or 1,048,576 bytes)").
- At most 10 attributes. A name is up to 256 of ``A-Za-z0-9_-.``, does not start with
  ``AWS.`` or ``Amazon.`` (any case), does not start or end with a period and has no two
  periods in a row. A type is ``String``, ``Number`` or ``Binary``, optionally followed by
  ``.label``, up to 256 characters; a value is not empty; a Number is a number of at
  most 38 digits.
- Per-message delay 0-900 s, and none on FIFO queues ("you can't set DelaySeconds per
  message" on FIFO queues). FIFO messages need a group id, and a deduplication id unless
  the queue deduplicates by content; both are 1-128 alphanumeric or punctuation
  characters.

Digests: ``MD5OfMessageBody`` is the MD5 of the UTF-8 body. ``MD5OfMessageAttributes``
follows "Calculating the MD5 message digest for message attributes": attributes sorted
by name; for each, the name, the type, a transport byte (1 for String and Number, 2 for
Binary) and the value, each string or binary part preceded by its length as a 4-byte
big-endian integer; the MD5 of the concatenation.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from overcast.ports.queues.exceptions import InvalidMessage

if TYPE_CHECKING:
    from overcast.ports.queues.base import MessageAttribute

MAX_MESSAGE_BYTES = 1_048_576
MAX_ATTRIBUTES = 10
MAX_DELAY_SECONDS = 900
_BAD_CHARACTER = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
_DATA_TYPE = re.compile(r"^(String|Number|Binary)(\..+)?$")
_FIFO_ID = re.compile(r"^[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}$")
_TRANSPORT = {"String": 1, "Number": 1, "Binary": 2}


def check_body(body: str) -> None:
    if not isinstance(body, str) or not body:
        raise InvalidMessage("The message body must be a non-empty string, as SQS requires.")
    bad = _BAD_CHARACTER.search(body)
    if bad:
        raise InvalidMessage(
            f"The message body holds character {ord(bad.group()):#x}, which SQS refuses."
        )


def check_attributes(attributes: Mapping[str, MessageAttribute]) -> int:
    """Check ``attributes`` against SQS's rules; return their size in bytes."""
    if len(attributes) > MAX_ATTRIBUTES:
        raise InvalidMessage(
            f"{len(attributes)} message attributes; SQS allows at most {MAX_ATTRIBUTES}."
        )
    return sum(_check_attribute(name, value) for name, value in attributes.items())


def _check_attribute(name: str, value: MessageAttribute) -> int:
    if not _ATTRIBUTE_NAME.match(name) or ".." in name or name[0] == "." or name[-1] == ".":
        raise InvalidMessage(
            f"Message attribute name {name!r} is invalid: up to 256 of A-Z a-z 0-9 _ - ., "
            "not starting or ending with a period, no two periods in a row."
        )
    if name.lower().startswith(("aws.", "amazon.")):
        raise InvalidMessage(f"Message attribute name {name!r}: 'AWS.' and 'Amazon.' are reserved.")
    kind = _DATA_TYPE.match(value.data_type)
    if not kind or len(value.data_type) > 256:
        raise InvalidMessage(
            f"Message attribute {name!r}: type {value.data_type!r} must be String, Number or "
            "Binary, optionally followed by '.label'."
        )
    if kind.group(1) == "Binary":
        if not value.binary_value or value.string_value is not None:
            raise InvalidMessage(f"Message attribute {name!r}: a Binary needs a binary_value.")
        size = len(value.binary_value)
    else:
        if not value.string_value or value.binary_value is not None:
            raise InvalidMessage(f"Message attribute {name!r}: it needs a non-empty string_value.")
        check_body(value.string_value)
        if kind.group(1) == "Number":
            _check_number(name, value.string_value)
        size = len(value.string_value.encode())
    return len(name.encode()) + len(value.data_type.encode()) + size


MIN_NUMBER, MAX_NUMBER = Decimal("1e-128"), Decimal("1e126")


def _check_number(name: str, text: str) -> None:
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or len(number.as_tuple().digits) > 38:
        raise InvalidMessage(
            f"Message attribute {name!r}: {text!r} is not a Number SQS accepts (38 digits)."
        )
    # SQS: a Number "can be positive, negative, or zero"; values "from 10^-128 to
    # 10^+126" in magnitude.
    if number and not MIN_NUMBER <= abs(number) <= MAX_NUMBER:
        raise InvalidMessage(
            f"Message attribute {name!r}: {text!r} is outside SQS's Number range "
            "(10^-128 to 10^+126 in magnitude)."
        )


def check_size(body: str, attributes_size: int) -> None:
    size = len(body.encode()) + attributes_size
    if size > MAX_MESSAGE_BYTES:
        raise InvalidMessage(
            f"The message is {size} bytes; SQS allows {MAX_MESSAGE_BYTES} (body and attributes)."
        )


def check_fifo_id(label: str, value: str) -> None:
    if not _FIFO_ID.match(value):
        raise InvalidMessage(
            f"{label} {value!r} must be 1-128 alphanumeric or punctuation characters."
        )


def md5_of_body(body: str) -> str:
    return hashlib.md5(body.encode(), usedforsecurity=False).hexdigest()


def md5_of_attributes(attributes: Mapping[str, MessageAttribute]) -> str | None:
    """SQS's ``MD5OfMessageAttributes``; ``None`` when there are no attributes."""
    if not attributes:
        return None
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attributes):
        value = attributes[name]
        digest.update(_part(name.encode()) + _part(value.data_type.encode()))
        transport = _TRANSPORT[value.data_type.split(".", 1)[0]]
        raw = value.binary_value if transport == 2 else (value.string_value or "").encode()
        digest.update(bytes([transport]) + _part(raw or b""))
    return digest.hexdigest()


def _part(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data
