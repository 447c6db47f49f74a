"""The thumbnail function on generated images, with in-memory bucket and table."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import pytest
from PIL import Image

from overcast.apps.blog import service
from overcast.apps.blog.thumbnails import Rejected, ThumbnailFunction, make_thumbnails
from overcast.ports.objects import ObjectStoreUnavailable
from overcast.ports.objects.memory import MemoryObjectStore
from overcast.ports.tables.memory import MemoryTable

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg(width: int, height: int, *, orientation: int | None = None, gps: bool = False) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.paste((20, 20, 220), (0, 0, width // 2, height // 2))  # the top-left quarter blue
    exif = Image.Exif()
    if orientation is not None:
        exif[ORIENTATION] = orientation
    if gps:
        exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def encoded(fmt: str, size: tuple[int, int] = (640, 480), mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (10, 200, 10, 128) if mode == "RGBA" else 7).save(out, fmt)
    return out.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims ``width`` x ``height``, with a few bytes of pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = png_chunk(b"IDAT", zlib.compress(bytes(16)))
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + pixels + png_chunk(b"IEND", b"")


def reject_reason(data: bytes) -> str:
    with pytest.raises(Rejected) as caught:
        make_thumbnails(io.BytesIO(data))
    return str(caught.value)


def test_a_big_photo_gets_every_width_and_is_never_upscaled() -> None:
    thumbnails = make_thumbnails(io.BytesIO(jpeg(2400, 1600)))
    assert [(t.width, t.height) for t in thumbnails] == [(1200, 800), (480, 320), (160, 107)]
    assert {t.content_type for t in thumbnails} == {"image/jpeg"}
    small = make_thumbnails(io.BytesIO(jpeg(300, 200)))
    assert [(t.width, t.height) for t in small] == [(160, 107)]
    tiny = make_thumbnails(io.BytesIO(jpeg(100, 50)))
    assert [(t.width, t.height) for t in tiny] == [(100, 50)]


def test_exif_orientation_is_applied_and_no_metadata_survives() -> None:
    # Stored 1600 wide x 800 high; orientation 6 means it is shown turned 90° clockwise.
    thumbnails = make_thumbnails(io.BytesIO(jpeg(1600, 800, orientation=6, gps=True)))
    assert [(t.width, t.height) for t in thumbnails] == [(480, 960), (160, 320)]
    for thumbnail in thumbnails:
        image = Image.open(io.BytesIO(thumbnail.body))
        assert "exif" not in image.info
        assert not image.getexif()
        assert GPS_IFD not in image.getexif()
        assert b"GPS" not in thumbnail.body
        assert b"Exif" not in thumbnail.body
    # Turned clockwise, the blue top-left quarter is now the top-right one.
    shown = Image.open(io.BytesIO(thumbnails[0].body)).convert("RGB")
    red, _, blue = shown.getpixel((400, 100))  # type: ignore[misc]
    assert blue > 150
    assert red < 100


@pytest.mark.parametrize(
    ("fmt", "mode", "extension"),
    [("PNG", "RGBA", "png"), ("GIF", "P", "png"), ("WEBP", "RGBA", "webp")],
)
def test_png_gif_and_webp_are_accepted(fmt: str, mode: str, extension: str) -> None:
    thumbnails = make_thumbnails(io.BytesIO(encoded(fmt, mode=mode)))
    assert [t.width for t in thumbnails] == [480, 160]
    assert {t.extension for t in thumbnails} == {extension}


def test_a_truncated_jpeg_is_rejected() -> None:
    data = jpeg(800, 600)
    assert "truncated" in reject_reason(data[: len(data) // 2])


def test_a_header_claiming_30000_by_30000_is_rejected_without_decoding() -> None:
    assert "too large" in reject_reason(png_header_claiming(30000, 30000))


def test_an_image_just_over_the_pixel_limit_is_rejected_not_warned() -> None:
    limit = Image.MAX_IMAGE_PIXELS
    assert limit is not None
    assert "too large" in reject_reason(png_header_claiming(limit // 1000 + 1, 1000))


@pytest.mark.parametrize(
    "data", [b"", b"hello, I am a text file named photo.jpg\n", b"%PDF-1.7\n", encoded("BMP")]
)
def test_what_is_not_an_accepted_image_is_rejected(data: bytes) -> None:
    assert "not a JPEG, PNG, WebP or GIF" in reject_reason(data)


def event(*keys: str) -> dict[str, Any]:
    return {
        "Records": [
            {"eventName": "ObjectCreated:Post", "s3": {"object": {"key": key, "size": 1}}}
            for key in keys
        ]
    }


def function() -> tuple[ThumbnailFunction, MemoryObjectStore, MemoryTable]:
    bucket = MemoryObjectStore("photos")
    table = MemoryTable(service.blog_table)
    return ThumbnailFunction(bucket, table), bucket, table


def test_an_upload_gets_thumbnails_and_its_photo_becomes_ready() -> None:
    thumbnailer, bucket, table = function()
    table.put({"pk": "PHOTO#p1", "sk": "PHOTO", "status": "pending", "owner": "u1"})
    bucket.put("uploads/p1", jpeg(1300, 900))
    thumbnailer.handle(event("uploads/p1"))
    keys = [info.key for info in bucket.list("thumbnails/").objects]
    assert keys == ["thumbnails/p1/1200.jpg", "thumbnails/p1/160.jpg", "thumbnails/p1/480.jpg"]
    assert bucket.head("thumbnails/p1/160.jpg").attributes.content_type == "image/jpeg"
    photo = table.get({"pk": "PHOTO#p1", "sk": "PHOTO"})
    assert photo is not None
    assert (photo["status"], photo["sizes"], photo["owner"]) == ("ready", [160, 480, 1200], "u1")


def test_a_bad_upload_is_rejected_and_the_next_one_still_served() -> None:
    thumbnailer, bucket, table = function()
    bucket.put("uploads/bad", b"not an image")
    bucket.put("uploads/good", jpeg(200, 100))
    thumbnailer.handle(event("uploads/bad", "uploads/good"))
    bad = table.get({"pk": "PHOTO#bad", "sk": "PHOTO"})
    good = table.get({"pk": "PHOTO#good", "sk": "PHOTO"})
    assert bad is not None
    assert bad["status"] == "rejected"
    assert "not a JPEG" in bad["reason"]
    assert good is not None
    assert good["status"] == "ready"
    assert good["sizes"] == [160]


def test_keys_are_url_decoded_and_keys_outside_uploads_ignored() -> None:
    thumbnailer, bucket, table = function()
    bucket.put("uploads/my photo", jpeg(200, 100))
    bucket.put("thumbnails/x/160.jpg", jpeg(200, 100))
    thumbnailer.handle(event("uploads/my+photo", "thumbnails/x/160.jpg", "uploads/gone"))
    assert table.get({"pk": "PHOTO#my photo", "sk": "PHOTO"}) is not None
    assert [i.key for i in bucket.list("thumbnails/x/").objects] == ["thumbnails/x/160.jpg"]
    assert table.get({"pk": "PHOTO#gone", "sk": "PHOTO"}) is None


class BrokenBucket(MemoryObjectStore):
    def open(self, key: str, byte_range: Any = None) -> Any:
        raise ObjectStoreUnavailable("disk on fire")


def test_an_infrastructure_failure_raises_so_lambda_retries() -> None:
    thumbnailer = ThumbnailFunction(BrokenBucket("photos"), MemoryTable(service.blog_table))
    with pytest.raises(ObjectStoreUnavailable):
        thumbnailer.handle(event("uploads/p1"))
