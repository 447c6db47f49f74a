"""An upload in a filesystem bucket → its event → the thumbnail function in a worker
process → thumbnails in the bucket and the photo item updated in the SQLite table."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from PIL import Image

from overcast import spec
from overcast.apps.blog import service
from overcast.local.aws_services import ServiceResources
from overcast.local.cloud import function_resources
from overcast.local.events.dispatcher import ObjectEventDispatcher, subscriptions_of
from overcast.local.functions.invoker import FunctionInvoker
from overcast.ports.objects.filesystem import FilesystemBuckets
from overcast.ports.tables.sqlite import SqliteTable
from overcast.runtime.adapters import table_path
from overcast.runtime.config import RuntimeConfig

ACCOUNT = "000000000000"
BUCKET = "blog-photos"


def jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (90, 120, 200)).save(out, "JPEG")
    return out.getvalue()


async def deliver_all(data_dir: Path, buckets: FilesystemBuckets) -> None:
    declared = next(v for v in vars(service).values() if isinstance(v, spec.Service))
    resources = ServiceResources({}, {}, {"photos": BUCKET})
    thumbnails = next(f for f in declared.all_functions if f.name == "thumbnails")
    config = RuntimeConfig(service="blog", data_dir=data_dir)
    invoker = FunctionInvoker(
        "blog",
        [thumbnails],
        config.to_environ(),
        region="us-east-1",
        account_id=ACCOUNT,
        concurrency=1,
        variables={"thumbnails": function_resources("blog", thumbnails, resources)},
    )
    await invoker.start()
    try:
        dispatcher = ObjectEventDispatcher(
            buckets,
            subscriptions_of(declared, resources.buckets),
            invoker,
            region="us-east-1",
            account_id=ACCOUNT,
            retry_delays=(0.0, 0.0),
        )
        dispatcher.configure()
        buckets.store(BUCKET).put("uploads/good", jpeg(1600, 1200))
        buckets.store(BUCKET).put("uploads/bad", b"hello, I am text named bad.jpg")
        buckets.store(BUCKET).put("uploads/next", jpeg(500, 250))
        await dispatcher.run_once()
        assert await dispatcher.run_once() == 0  # nothing left, nothing failed
        assert dispatcher.failures(BUCKET) == []
    finally:
        await invoker.close()


def test_uploads_get_thumbnails_and_bad_ones_are_rejected_by_the_worker(tmp_path: Path) -> None:
    buckets = FilesystemBuckets(tmp_path / "s3" / "buckets")
    buckets.create(BUCKET)
    asyncio.run(deliver_all(tmp_path, buckets))
    keys = [info.key for info in buckets.store(BUCKET).list("thumbnails/").objects]
    assert keys == [
        "thumbnails/good/1200.jpg",
        "thumbnails/good/160.jpg",
        "thumbnails/good/480.jpg",
        "thumbnails/next/160.jpg",
        "thumbnails/next/480.jpg",
    ]
    config = RuntimeConfig(service="blog", data_dir=tmp_path)
    table = SqliteTable(service.blog_table, table_path(config, service.blog_table))
    good = table.get({"pk": "PHOTO#good", "sk": "PHOTO"})
    bad = table.get({"pk": "PHOTO#bad", "sk": "PHOTO"})
    assert good is not None
    assert (good["status"], good["sizes"]) == ("ready", [160, 480, 1200])
    assert bad is not None
    assert bad["status"] == "rejected"
    assert "not a JPEG" in bad["reason"]
