"""The thumbnail function: S3 object-created events on ``uploads/`` → ``thumbnails/``.

For each uploaded ``uploads/<id>`` the function reads the object, verifies it is an
image it accepts, and writes one thumbnail per width in :data:`WIDTHS` to
``thumbnails/<id>/<width>.<ext>``, then marks the photo item (``pk = PHOTO#<id>``,
``sk = PHOTO``) ``ready`` with its ``sizes``, or ``rejected`` with a ``reason``.

- **Accepted**: JPEG, PNG, WebP and GIF, as Pillow identifies them from the bytes (the
  key's name and the declared content type are never trusted). Anything else — an
  empty object, text named ``.jpg`` — is rejected.
- **Decompression bombs**: an image with more than ``Image.MAX_IMAGE_PIXELS`` pixels is
  rejected from its header alone, before any pixel is decoded; Pillow's
  ``DecompressionBombWarning`` is an error here, not a warning.
- **Truncated files** fail to decode (``ImageFile.LOAD_TRUNCATED_IMAGES`` stays off)
  and are rejected.
- **Orientation**: the EXIF orientation is applied (``ImageOps.exif_transpose``), so
  widths are those of the image as a viewer shows it.
- **Metadata**: none is carried over — no EXIF (GPS included), ICC, XMP or comments:
  each thumbnail is saved from pixels with an emptied ``info``.
- **Speed**: JPEGs are decoded in draft mode (``Image.draft``): libjpeg scales by
  1/2, 1/4 or 1/8 while decoding, to the smallest scale still at least as wide as the
  largest thumbnail. Each smaller width is resized from the next larger one.
- **Never upscaled**: widths wider than the image are skipped; an image narrower
  than every width gets one thumbnail at its own width.
- **Formats out**: JPEG sources give ``.jpg`` (quality 85); PNG and GIF give ``.png``
  (transparency kept; a GIF's first frame); WebP gives ``.webp``.

Errors: a bad image is not a failure of the function — the photo is marked rejected
and the handler returns normally, so the worker serves the next upload. A failure of
the infrastructure (the table, the bucket) raises, so Lambda's asynchronous retries
apply. The function is triggered on ``uploads/`` only, so its own writes under
``thumbnails/`` can never trigger it again.
"""

from __future__ import annotations

import io
import logging
import math
import tempfile
import urllib.parse
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from aws_lambda_powertools.utilities.data_classes import S3Event
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from overcast import spec
from overcast.ports.objects import NoSuchKey, ObjectAttributes, ObjectStore
from overcast.ports.tables import Table
from overcast.runtime import ColdStart, RuntimeConfig

logger = logging.getLogger(__name__)

WIDTHS = (160, 480, 1200)
UPLOADS = "uploads/"
THUMBNAILS = "thumbnails/"
ACCEPTED = ("JPEG", "PNG", "WEBP", "GIF")
# Output format by source format: (Pillow format, extension, content type).
_OUTPUTS = {
    "JPEG": ("JPEG", "jpg", "image/jpeg"),
    "PNG": ("PNG", "png", "image/png"),
    "GIF": ("PNG", "png", "image/png"),
    "WEBP": ("WEBP", "webp", "image/webp"),
}
# EXIF orientations 5-8 turn the image by 90°: its stored width is the shown height.
_TURNED = (5, 6, 7, 8)
_ORIENTATION = 0x0112
_SPOOL_BYTES = 8 * 1024 * 1024
_CHUNK = 1024 * 1024


class Rejected(Exception):
    """The object is not an image the blog accepts; the message is the reason."""


@dataclass(frozen=True)
class Thumbnail:
    """One encoded thumbnail."""

    width: int
    height: int
    extension: str
    content_type: str
    body: bytes


def make_thumbnails(source: IO[bytes], widths: Sequence[int] = WIDTHS) -> list[Thumbnail]:
    """The thumbnails of the image in ``source``, widest first (:class:`Rejected`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = _decoded(source, max(widths))
        except Image.DecompressionBombWarning as exc:
            raise Rejected(f"The image is too large: {exc}") from exc
        except Image.DecompressionBombError as exc:
            raise Rejected(f"The image is too large: {exc}") from exc
    fmt, extension, content_type = _OUTPUTS[_format_of(image)]
    targets = [width for width in sorted(widths, reverse=True) if width <= image.width]
    current = _pixels(image, fmt)
    thumbnails = []
    for width in targets or [image.width]:
        height = max(1, round(current.height * width / current.width))
        if (width, height) != current.size:
            current = current.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=2.0)
        thumbnails.append(Thumbnail(width, height, extension, content_type, _encoded(current, fmt)))
    return thumbnails


def _decoded(source: IO[bytes], widest: int) -> Image.Image:
    """The image, verified, decoded (at reduced size when it can) and turned upright."""
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        image = Image.open(source, formats=ACCEPTED)
    except UnidentifiedImageError as exc:
        raise Rejected("The file is not a JPEG, PNG, WebP or GIF image.") from exc
    _check_pixels(image)
    try:
        _draft(image, widest)
        image.load()
        upright = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
        raise Rejected(f"The image cannot be decoded (truncated or corrupt): {exc}") from exc
    upright.format = image.format  # exif_transpose returns a copy without it
    return upright


def _check_pixels(image: Image.Image) -> None:
    # Pillow's own guard raises only beyond twice the limit and warns below it; the
    # warning is an error here, and the check is explicit, from the header alone.
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and image.width * image.height > limit:
        raise Rejected(
            f"The image is too large: {image.width}x{image.height} pixels exceeds "
            f"the limit of {limit} pixels (a possible decompression bomb)."
        )


def _draft(image: Image.Image, widest: int) -> None:
    """Let libjpeg decode a JPEG at the smallest scale still ``widest`` wide (shown)."""
    if image.format != "JPEG":
        return
    turned = image.getexif().get(_ORIENTATION) in _TURNED
    shown_width = image.height if turned else image.width
    if shown_width <= widest:
        return
    scale = widest / shown_width
    image.draft("RGB", (math.ceil(image.width * scale), math.ceil(image.height * scale)))


def _format_of(image: Image.Image) -> str:
    fmt = image.format or ""
    if fmt not in _OUTPUTS:
        raise Rejected("The file is not a JPEG, PNG, WebP or GIF image.")
    return fmt


def _pixels(image: Image.Image, fmt: str) -> Image.Image:
    """The image in a mode its output format can hold."""
    if fmt == "JPEG":
        return image if image.mode in ("RGB", "L") else image.convert("RGB")
    return image if image.mode in ("RGB", "RGBA", "L", "LA") else image.convert("RGBA")


def _encoded(image: Image.Image, fmt: str) -> bytes:
    image.info.clear()  # no EXIF, ICC, XMP, comments: nothing from the source
    out = io.BytesIO()
    options: dict[str, Any] = {"quality": 85} if fmt in ("JPEG", "WEBP") else {}
    image.save(out, fmt, **options)
    return out.getvalue()


# --- the function -----------------------------------------------------------------------


class ThumbnailFunction:
    """Turns object-created events into thumbnails and photo statuses."""

    def __init__(
        self,
        bucket: ObjectStore,
        table: Table,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        widths: Sequence[int] = WIDTHS,
    ) -> None:
        self._bucket = bucket
        self._table = table
        self._clock = clock
        self._widths = widths

    def handle(self, event: dict[str, Any]) -> None:
        for key in uploaded_keys(event):
            self.process(key)

    def process(self, key: str) -> None:
        """Make ``key``'s thumbnails, or mark it rejected; infrastructure errors raise."""
        if not key.startswith(UPLOADS) or "/" in key[len(UPLOADS) :] or key == UPLOADS:
            logger.info("Ignoring %r: not an upload.", key)
            return
        photo_id = key[len(UPLOADS) :]
        try:
            with self._spooled(key) as source:
                thumbnails = make_thumbnails(source, self._widths)
        except NoSuchKey:
            logger.info("Ignoring %r: deleted since it was uploaded.", key)
            return
        except Rejected as exc:
            logger.info("Rejected %r: %s", key, exc)
            self._mark(photo_id, {"status": "rejected", "reason": str(exc)}, ("sizes",))
            return
        for thumbnail in thumbnails:
            self._bucket.put(
                f"{THUMBNAILS}{photo_id}/{thumbnail.width}.{thumbnail.extension}",
                thumbnail.body,
                ObjectAttributes(content_type=thumbnail.content_type),
            )
        sizes = sorted(thumbnail.width for thumbnail in thumbnails)
        extension = thumbnails[0].extension  # one format per photo: its source's
        self._mark(
            photo_id, {"status": "ready", "sizes": sizes, "extension": extension}, ("reason",)
        )

    def _spooled(self, key: str) -> IO[bytes]:
        """The object's body in a temporary file (in memory while small)."""
        # Returned open: the caller closes it (``with``).
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115
        try:
            with self._bucket.open(key) as reader:
                for chunk in reader.chunks(_CHUNK):
                    spool.write(chunk)
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return spool

    def _mark(self, photo_id: str, changes: dict[str, Any], removals: Iterable[str]) -> None:
        changes = {**changes, "processed_at": self._clock().isoformat()}
        self._table.update({"pk": f"PHOTO#{photo_id}", "sk": "PHOTO"}, changes, tuple(removals))


def uploaded_keys(event: dict[str, Any]) -> list[str]:
    """The object keys an S3 notification event names.

    S3 URL-encodes the key in its notifications (a space as ``+``), and Powertools'
    ``S3Object.key`` returns it as sent, so it is decoded here.
    """
    return [urllib.parse.unquote_plus(r.s3.get_object.key) for r in S3Event(event).records]


def _declared(kind: type[Any], name: str) -> Any:
    """The blog service's declared table or bucket ``name`` (from its ``service.py``)."""
    from overcast.apps.blog import service as module

    for value in vars(module).values():
        if isinstance(value, spec.Service) and value.name == "blog":
            found = [r for r in (*value.tables, *value.buckets) if isinstance(r, kind)]
            for resource in found:
                if resource.name == name:
                    return resource
    raise LookupError(f"The blog service declares no {kind.__name__} {name!r}.")


def bootstrap(config: RuntimeConfig) -> ThumbnailFunction:
    """The composition root: the photos bucket and the blog table for this environment."""
    from overcast.runtime.adapters import open_bucket, open_table

    bucket = open_bucket(_declared(spec.Bucket, "photos"), config)
    return ThumbnailFunction(bucket, open_table(_declared(spec.Table, "blog"), config))


dependencies = ColdStart(bootstrap)


def handler(event: dict[str, Any], context: object) -> None:
    """The Lambda handler (``overcast.apps.blog.thumbnails:handler``)."""
    dependencies().handle(event)
