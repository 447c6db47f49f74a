"""Photos: the API hands out presigned POSTs; the thumbnail function does the rest.

Item (shared with ``thumbnails.py``)::

    pk "PHOTO#<id>", sk "PHOTO", status ("pending" | "ready" | "rejected"),
    reason (rejected), sizes (widths, ready), extension (of the thumbnails, ready), owner
    (uid), content_type, created_at

``POST /api/photos`` writes a pending photo and answers an S3 presigned POST
(SigV4, made with the function role's credentials) for ``uploads/<id>`` whose policy
pins the ``Content-Type`` and a size range (S3 checks ``content-length-range`` and
refuses anything else with 400 ``EntityTooLarge``/``EntityTooSmall``). Thumbnails are
``thumbnails/<id>/<width>.<ext>``, and their URLs are the same paths on the site's
distribution (``/thumbnails/<id>/<width>.<ext>``, its ``/thumbnails/*`` behaviour):
same-origin for the pages, cached at the edge (each upload id is written once), and
never expiring, unlike presigned GETs, so they can be written into an article.
"""

from __future__ import annotations

import secrets
from abc import ABC, abstractmethod
from typing import Any

from overcast.apps.blog.domain import Clock, Invalid, NotFound, timestamp
from overcast.ports.tables import Table

CONTENT_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
UPLOAD_SECONDS = 900


class Presigner(ABC):
    """Presigned requests on the photos bucket."""

    @abstractmethod
    def upload(self, key: str, content_type: str) -> dict[str, Any]:
        """A presigned POST: ``{"url": ..., "fields": {...}}``."""


class S3Presigner(Presigner):
    """Presigns with boto3's ``s3`` client (SigV4) for ``bucket``."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def upload(self, key: str, content_type: str) -> dict[str, Any]:
        post: dict[str, Any] = self._client.generate_presigned_post(
            self._bucket,
            key,
            Fields={"Content-Type": content_type},
            Conditions=[
                {"Content-Type": content_type},
                ["content-length-range", 1, MAX_UPLOAD_BYTES],
            ],
            ExpiresIn=UPLOAD_SECONDS,
        )
        return post


def presigning_client(region: str, endpoint: str | None, ca_bundle: str | None) -> Any:
    """A boto3 S3 client that presigns with SigV4 (botocore's default for POST is SigV2)
    and, for a custom endpoint such as the local cloud's, path-style URLs."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3",
        region_name=region,
        endpoint_url=endpoint,
        verify=ca_bundle,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path" if endpoint else "virtual"},
        ),
    )


def thumbnail_key(photo_id: str, width: int, extension: str = "jpg") -> str:
    """Where the thumbnail function wrote a width (its extension: the source's format)."""
    return f"thumbnails/{photo_id}/{width}.{extension}"


def thumbnail_path(photo_id: str, width: int, extension: str = "jpg") -> str:
    """The thumbnail's path on the site's distribution (served from the photos bucket)."""
    return f"/{thumbnail_key(photo_id, width, extension)}"


class Photos:
    """Ask for uploads; report their state."""

    def __init__(self, table: Table, presigner: Presigner, clock: Clock) -> None:
        self._table = table
        self._presigner = presigner
        self._clock = clock

    def request_upload(self, owner: str, content_type: str) -> dict[str, Any]:
        if content_type not in CONTENT_TYPES:
            raise Invalid("content_type", f"must be one of {', '.join(sorted(CONTENT_TYPES))}")
        photo_id = secrets.token_hex(16)
        self._table.put(
            {
                "pk": f"PHOTO#{photo_id}",
                "sk": "PHOTO",
                "status": "pending",
                "owner": owner,
                "content_type": content_type,
                "created_at": timestamp(self._clock()),
            }
        )
        upload = self._presigner.upload(f"uploads/{photo_id}", content_type)
        return {"id": photo_id, "status": "pending", "upload": upload}

    def status(self, photo_id: str) -> dict[str, Any]:
        item = self._table.get({"pk": f"PHOTO#{photo_id}", "sk": "PHOTO"})
        if item is None:
            raise NotFound("photo")
        answer: dict[str, Any] = {"id": photo_id, "status": item.get("status", "pending")}
        if answer["status"] == "rejected":
            answer["reason"] = item.get("reason", "")
        if answer["status"] == "ready":
            widths = [int(width) for width in item.get("sizes", [])]
            extension = str(item.get("extension", "jpg"))
            answer["thumbnails"] = {
                str(width): thumbnail_path(photo_id, width, extension) for width in widths
            }
        return answer
