"""A bucket's CORS configuration: S3's ``CORSConfiguration`` document, read, checked,
written back, and kept with the bucket.

What it mirrors (PutBucketCors / GetBucketCors API reference, "Elements of a CORS
configuration" in the S3 user guide, and S3's answers as clients recorded them):

- ``<CORSConfiguration><CORSRule>...</CORSRule>...</CORSConfiguration>``, each rule with
  ``ID`` (at most 255 characters), ``AllowedHeader``\\*, ``AllowedMethod``\\+,
  ``AllowedOrigin``\\+, ``ExposeHeader``\\* and ``MaxAgeSeconds`` (an integer). "You can add
  up to 100 rules to the configuration." No rule, more than 100, a rule without an origin
  or a method, an element S3's schema does not have, or a ``MaxAgeSeconds`` that is not
  an integer: ``MalformedXML``.
- "Valid values are GET, PUT, HEAD, POST, and DELETE": any other method is
  ``InvalidRequest`` "Found unsupported HTTP method in CORS config. Unsupported method is
  X". An origin or an allowed header "can contain at most one * wild character":
  ``InvalidRequest`` 'AllowedOrigin "X" can not have more than one wildcard.'; an
  ``ExposeHeader`` with ``*`` is refused as well ("We currently do not support wildcard
  for ExposeHeader."), and so is one that cannot be a header value (a control
  character: the local endpoint's own check). Values are kept as sent, in order, cases
  kept (an empty origin too).
- GetBucketCors gives the rules back in the API model's member order; without a
  configuration it is 404 ``NoSuchCORSConfiguration`` "The CORS configuration does not
  exist" with a ``BucketName``.

Where it is kept (:class:`FileCorsConfigurations`): ``cors.json`` in the bucket's own
directory, replaced atomically (written, fsynced, renamed, the directory fsynced). The
configuration lives and dies with its bucket, as on S3: deleting the bucket removes its
directory, and a bucket created again under that name starts without one. A crash
mid-write may leave a ``.cors-*.json`` file beside it, which nothing reads. Reads stat the
file and parse it again only when it changed, so the check of a cross-origin request costs
one ``stat``.
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol
from xml.etree.ElementTree import Element

from overcast import spec
from overcast.local.s3 import xml
from overcast.local.s3.errors import InvalidRequest, MalformedXML, S3Error
from overcast.ports.objects import exceptions as port
from overcast.ports.objects.base import check_bucket_name

MAX_RULES = spec.MAX_CORS_RULES
MAX_ID_LENGTH = 255
METHODS = ("GET", "PUT", "HEAD", "POST", "DELETE")
FILE_NAME = "cors.json"
# A rule's elements as S3's schema names them: the repeated ones (lists), then the single.
_LISTS = {
    "AllowedHeader": "allowed_headers",
    "AllowedMethod": "allowed_methods",
    "AllowedOrigin": "allowed_origins",
    "ExposeHeader": "expose_headers",
}
_SINGLE = frozenset({"ID", "MaxAgeSeconds"})
# What a header value may hold (RFC 9110, 5.5): no control characters, nothing past Latin-1.
_HEADER_TEXT = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


class NoSuchCORSConfiguration(S3Error):
    """GetBucketCors of a bucket without a CORS configuration."""

    code: ClassVar[str] = "NoSuchCORSConfiguration"
    status: ClassVar[int] = 404
    default_message: ClassVar[str] = "The CORS configuration does not exist"


@dataclass(frozen=True, slots=True)
class CorsRule:
    """One ``CORSRule``: values as the bucket owner wrote them."""

    allowed_origins: tuple[str, ...]
    allowed_methods: tuple[str, ...]
    allowed_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age_seconds: int | None = None
    id: str | None = None

    @classmethod
    def declared(cls, rule: spec.CorsRule) -> CorsRule:
        """The rule a declaration (``spec.Bucket.cors``) stands for."""
        return cls(
            tuple(rule.allowed_origins),
            tuple(rule.allowed_methods),
            tuple(rule.allowed_headers),
            tuple(rule.expose_headers),
            rule.max_age_seconds,
        )


CorsConfiguration = tuple[CorsRule, ...]


def parse_configuration(body: bytes) -> CorsConfiguration:
    """The rules of a PutBucketCors body, or S3's error for it."""
    document = xml.parse(body, "CORSConfiguration")
    elements = list(document)
    if not elements or len(elements) > MAX_RULES:
        raise MalformedXML()
    if any(xml.local_name(element.tag) != "CORSRule" for element in elements):
        raise MalformedXML()
    rules = tuple(_read_rule(element) for element in elements)
    for rule in rules:
        _check_rule(rule)
    return rules


def render_configuration(rules: CorsConfiguration) -> bytes:
    """GetBucketCors's answer."""
    return xml.document("CORSConfiguration", [_render_rule(rule) for rule in rules])


def _read_rule(element: Element) -> CorsRule:
    lists: dict[str, list[str]] = {field: [] for field in _LISTS.values()}
    single: dict[str, str] = {}
    for child in element:
        name = xml.local_name(child.tag)
        if name in _LISTS:
            lists[_LISTS[name]].append(child.text or "")
        elif name in _SINGLE and name not in single:
            single[name] = child.text or ""
        else:
            raise MalformedXML()
    if not lists["allowed_origins"] or not lists["allowed_methods"]:
        raise MalformedXML()
    rule_id = single.get("ID")
    if rule_id is not None and len(rule_id) > MAX_ID_LENGTH:
        raise MalformedXML()
    return CorsRule(
        **{field: tuple(values) for field, values in lists.items()},
        max_age_seconds=_max_age(single.get("MaxAgeSeconds")),
        id=rule_id,
    )


def _max_age(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError as exc:
        raise MalformedXML() from exc


def _check_rule(rule: CorsRule) -> None:
    for method in rule.allowed_methods:
        if method not in METHODS:
            raise InvalidRequest(
                f"Found unsupported HTTP method in CORS config. Unsupported method is {method}"
            )
    for kind, values in (
        ("AllowedOrigin", rule.allowed_origins),
        ("AllowedHeader", rule.allowed_headers),
    ):
        for value in values:
            if value.count("*") > 1:
                raise InvalidRequest(f'{kind} "{value}" can not have more than one wildcard.')
    for header in rule.expose_headers:
        if "*" in header:
            raise InvalidRequest(
                f'ExposeHeader "{header}" contains wildcard. We currently do not support '
                "wildcard for ExposeHeader."
            )
        if not _HEADER_TEXT.fullmatch(header):  # it goes into a response header as it is
            raise InvalidRequest(f"ExposeHeader {header!r} is not a valid header name.")


def _render_rule(rule: CorsRule) -> str:
    parts = [xml.element("ID", rule.id)]
    for tag, values in (
        ("AllowedHeader", rule.allowed_headers),
        ("AllowedMethod", rule.allowed_methods),
        ("AllowedOrigin", rule.allowed_origins),
        ("ExposeHeader", rule.expose_headers),
    ):
        parts += [xml.element(tag, value) for value in values]
    parts.append(xml.element("MaxAgeSeconds", rule.max_age_seconds))
    return xml.group("CORSRule", parts)


class CorsConfigurations(Protocol):
    """Where buckets' CORS configurations are kept. ``put`` raises the object store
    port's ``NoSuchBucket`` for a bucket that is gone, ``ObjectStoreUnavailable`` when
    the storage fails; so does ``get``."""

    def get(self, bucket: str) -> CorsConfiguration | None: ...

    def put(self, bucket: str, rules: CorsConfiguration) -> None: ...

    def delete(self, bucket: str) -> None: ...


class MemoryCorsConfigurations:
    """Configurations in a dict, for an endpoint over in-memory buckets (and tests)."""

    def __init__(self) -> None:
        self.rules: dict[str, CorsConfiguration] = {}

    def get(self, bucket: str) -> CorsConfiguration | None:
        return self.rules.get(bucket)

    def put(self, bucket: str, rules: CorsConfiguration) -> None:
        self.rules[bucket] = rules

    def delete(self, bucket: str) -> None:
        self.rules.pop(bucket, None)


_Version = tuple[int, int, int]  # inode, mtime (ns), size: which file was parsed


class FileCorsConfigurations:
    """Each configuration in ``cors.json`` of its bucket's directory (see the module
    docstring); ``bucket_directory(name)`` is that directory."""

    def __init__(self, bucket_directory: Callable[[str], Path]) -> None:
        self._directory = bucket_directory
        self._parsed: dict[str, tuple[_Version, CorsConfiguration]] = {}
        self._lock = threading.Lock()

    def get(self, bucket: str) -> CorsConfiguration | None:
        try:
            path = self._bucket_directory(bucket) / FILE_NAME
            stat = os.stat(path)
            version = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
            cached = self._parsed.get(bucket)
            if cached is not None and cached[0] == version:
                return cached[1]
            rules = _from_json(path.read_bytes())
        except (FileNotFoundError, port.NoSuchBucket):
            return None
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise port.ObjectStoreUnavailable(
                f"Cannot read the CORS configuration of bucket {bucket!r}: {exc}."
            ) from exc
        with self._lock:
            self._parsed[bucket] = (version, rules)
        return rules

    def put(self, bucket: str, rules: CorsConfiguration) -> None:
        directory = self._bucket_directory(bucket)
        staging = directory / f".cors-{uuid.uuid4().hex}.json"
        try:
            with open(staging, "xb") as file:
                file.write(_to_json(rules))
                file.flush()
                os.fsync(file.fileno())
            os.replace(staging, directory / FILE_NAME)
            _fsync_directory(directory)
        except FileNotFoundError as exc:
            raise port.NoSuchBucket(bucket) from exc
        except OSError as exc:
            staging.unlink(missing_ok=True)
            raise port.ObjectStoreUnavailable(
                f"Cannot store the CORS configuration of bucket {bucket!r}: {exc}."
            ) from exc

    def delete(self, bucket: str) -> None:
        try:
            directory = self._bucket_directory(bucket)
            os.unlink(directory / FILE_NAME)
            _fsync_directory(directory)
        except (FileNotFoundError, port.NoSuchBucket):
            return
        except OSError as exc:
            raise port.ObjectStoreUnavailable(
                f"Cannot delete the CORS configuration of bucket {bucket!r}: {exc}."
            ) from exc

    def _bucket_directory(self, bucket: str) -> Path:
        try:
            check_bucket_name(bucket)  # a name is never a path: no "..", no "/"
        except port.InvalidBucketName as exc:
            raise port.NoSuchBucket(bucket) from exc
        return self._directory(bucket)


def configure_declared(
    configurations: CorsConfigurations, bucket: str, rules: Sequence[spec.CorsRule]
) -> None:
    """Give ``bucket`` the CORS rules its declaration lists (``overcast up``); a bucket
    declaring none keeps whatever configuration it was given through the API."""
    if rules:
        configurations.put(bucket, tuple(CorsRule.declared(rule) for rule in rules))


def _to_json(rules: CorsConfiguration) -> bytes:
    return json.dumps({"rules": [_rule_fields(rule) for rule in rules]}).encode()


def _rule_fields(rule: CorsRule) -> dict[str, Any]:
    return {
        "allowed_origins": rule.allowed_origins,
        "allowed_methods": rule.allowed_methods,
        "allowed_headers": rule.allowed_headers,
        "expose_headers": rule.expose_headers,
        "max_age_seconds": rule.max_age_seconds,
        "id": rule.id,
    }


def _from_json(data: bytes) -> CorsConfiguration:
    rules = json.loads(data)["rules"]
    return tuple(
        CorsRule(
            tuple(rule["allowed_origins"]),
            tuple(rule["allowed_methods"]),
            tuple(rule["allowed_headers"]),
            tuple(rule["expose_headers"]),
            rule["max_age_seconds"],
            rule["id"],
        )
        for rule in rules
    )


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
