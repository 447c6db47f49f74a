"""A bucket's declared assets, deployed into it at start: CDK's ``BucketDeployment``.

``spec.Bucket(assets="package:folder")`` names a folder inside an importable package.
Each file becomes one object under its relative path (``css/app.css``), with the
``Content-Type`` its name implies and a ``Cache-Control`` by kind: HTML revalidates
within a minute (pages change with each deploy), everything else keeps five minutes.
Like ``BucketDeployment`` with ``prune=False``, objects the folder does not hold (the
blog's rendered article pages) are left alone. A file whose bytes already match the
object (same MD5) is not written again, so a restart neither rewrites the bucket nor
fires object-created events for unchanged files.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import mimetypes
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.abc import Traversable

from overcast.ports.objects import NoSuchKey, ObjectStore
from overcast.ports.objects.base import ObjectAttributes
from overcast.spec import Bucket, DeclarationError

HTML_CACHE_CONTROL = "max-age=60"
ASSET_CACHE_CONTROL = "max-age=300"
_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".svg": "image/svg+xml"}


@dataclass(frozen=True)
class Deployed:
    """What a deployment did: objects written and objects already up to date."""

    written: int
    unchanged: int


def asset_folder(bucket: Bucket) -> Traversable:
    """The folder ``bucket.assets`` names, or a :class:`DeclarationError` saying why not."""
    assert bucket.assets is not None
    package, _, folder = bucket.assets.partition(":")
    try:
        root = importlib.resources.files(package)
    except ModuleNotFoundError as exc:
        raise DeclarationError(
            f"Bucket {bucket.name!r}: assets package {package!r} cannot be imported."
        ) from exc
    found = root.joinpath(*folder.split("/"))
    if not found.is_dir():
        raise DeclarationError(
            f"Bucket {bucket.name!r}: assets folder {folder!r} is not in package {package!r}."
        )
    return found


def deploy_assets(bucket: Bucket, store: ObjectStore) -> Deployed:
    """Write every file of the bucket's asset folder into ``store``."""
    written = unchanged = 0
    for key, source in _files(asset_folder(bucket)):
        body = source.read_bytes()
        if _stored_md5(store, key) == hashlib.md5(body, usedforsecurity=False).hexdigest():
            unchanged += 1
            continue
        store.put(key, body, attributes_for(key))
        written += 1
    return Deployed(written, unchanged)


def attributes_for(key: str) -> ObjectAttributes:
    """The Content-Type and Cache-Control an asset is stored with."""
    suffix = "." + key.rpartition(".")[2].lower() if "." in key else ""
    content_type = _TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "binary/octet-stream"
    if content_type.startswith("text/") or content_type in ("application/json", "image/svg+xml"):
        content_type += "; charset=utf-8"
    is_html = content_type.startswith("text/html")
    return ObjectAttributes(
        content_type=content_type,
        cache_control=HTML_CACHE_CONTROL if is_html else ASSET_CACHE_CONTROL,
    )


def _files(folder: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    for entry in sorted(folder.iterdir(), key=lambda each: each.name):
        if entry.name.startswith(".") or entry.name == "__pycache__":
            continue
        if entry.is_dir():
            yield from _files(entry, f"{prefix}{entry.name}/")
        else:
            yield f"{prefix}{entry.name}", entry


def _stored_md5(store: ObjectStore, key: str) -> str | None:
    try:
        return store.head(key).etag
    except NoSuchKey:
        return None
