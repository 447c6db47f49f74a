"""The pieces of an AWS Signature Version 4, computed exactly as AWS specifies.

Reference: "Create a signed AWS API request" (AWS IAM user guide, SigV4) and
botocore's ``SigV4Auth``, the reference client implementation these functions are
tested against.

- **Canonical URI**: the path as sent, with dot segments and empty segments removed
  and then URI-encoded once more ("each path segment must be URI-encoded twice",
  except for S3, which uses the path as sent, encoded once).
- **Canonical query string**: each name and value URI-encoded (unreserved
  characters ``A-Z a-z 0-9 - _ . ~`` kept, space as ``%20``), sorted by name then
  value, a name without ``=`` given an empty value.
- **Canonical headers**: names lowercased and sorted, values trimmed with
  sequential spaces collapsed to one, repeated headers joined with ``,``.
- **Signing key**: ``HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
  "aws4_request")``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def uri_encode(value: str, *, keep_slash: bool = False) -> str:
    """AWS's URI encoding: everything but unreserved characters is %XX (uppercase hex)."""
    return quote(value, safe="-_.~/" if keep_slash else "-_.~")


def remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, and AWS also drops empty segments (``//``)."""
    if not path:
        return "/"
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment and segment != ".":
            segments.append(segment)
    leading = "/" if path.startswith("/") else ""
    trailing = "/" if path.endswith("/") and segments else ""
    return leading + "/".join(segments) + trailing


def canonical_path(raw_path: str, *, double_encode: bool = True) -> str:
    """The canonical URI of ``raw_path`` (the path exactly as the client sent it)."""
    if not double_encode:
        # S3: "Do not normalize URI paths"; the path is used as sent.
        return raw_path or "/"
    return uri_encode(remove_dot_segments(raw_path), keep_slash=True)


def query_pairs(raw_query: str, *, strict: bool = False) -> list[tuple[str, str]]:
    """The decoded ``(name, value)`` pairs of a raw query string, in order.

    Each name and value is percent-decoded once, as UTF-8, and ``+`` stays a plus: the
    canonical query re-encodes exactly what was decoded (a plus as ``%2B``), and AWS's
    SDKs send a space as ``%20``, never ``+``. An endpoint that reads the request's
    parameters must decode them with this same function, or a request could mean one
    thing to the signature and another to the operation. ``strict``: bytes that are
    not UTF-8 raise ``UnicodeDecodeError`` instead of becoming U+FFFD.
    """
    errors = "strict" if strict else "replace"
    pairs: list[tuple[str, str]] = []
    for part in raw_query.split("&") if raw_query else ():
        name, _, value = part.partition("=")
        pairs.append((unquote(name, errors=errors), unquote(value, errors=errors)))
    return pairs


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    """Encode each name and value, then sort by encoded name and value."""
    encoded = sorted((uri_encode(name), uri_encode(value)) for name, value in pairs)
    return "&".join(f"{name}={value}" for name, value in encoded)


def _trim_all(value: str) -> str:
    return " ".join(value.split())


def canonical_headers(headers: Sequence[tuple[str, str]], signed: Sequence[str]) -> str:
    """``name:value\\n`` for each signed header, in the order of ``signed`` (sorted)."""
    values: dict[str, list[str]] = {}
    for name, value in headers:
        values.setdefault(name.lower(), []).append(_trim_all(value))
    return "".join(f"{name}:{','.join(values.get(name, []))}\n" for name in signed)


def canonical_request(
    method: str,
    path: str,
    query: str,
    headers: str,
    signed_headers: Sequence[str],
    payload_hash: str,
) -> str:
    """The canonical request: one element a line, as AWS hashes it."""
    return "\n".join([method.upper(), path, query, headers, ";".join(signed_headers), payload_hash])


def string_to_sign(timestamp: str, scope: str, request: str) -> str:
    """``AWS4-HMAC-SHA256``, the ISO 8601 basic timestamp, the scope, the request's hash."""
    digest = hashlib.sha256(request.encode("utf-8")).hexdigest()
    return "\n".join([ALGORITHM, timestamp, scope, digest])


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_access_key: str, date: str, region: str, service: str) -> bytes:
    """The derived key for one day, region and service."""
    key = _hmac(f"AWS4{secret_access_key}".encode(), date)
    for part in (region, service, TERMINATOR):
        key = _hmac(key, part)
    return key


def signature(key: bytes, to_sign: str) -> str:
    """The hex signature of ``to_sign`` with a derived signing key."""
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
