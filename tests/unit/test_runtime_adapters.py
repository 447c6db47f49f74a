"""Each port's adapter is picked from the function's configuration: local or AWS.

Building a boto3 client needs neither network nor credentials, so the AWS branch is
checked here by the clients it builds; the adapters' behaviour against AWS is tested
against moto in ``tests/integration``.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from overcast import spec
from overcast.ports.mail.ses import SesMailer
from overcast.ports.mail.smtp import SmtpMailer
from overcast.ports.objects.filesystem import FilesystemBuckets, FilesystemObjectStore
from overcast.ports.objects.s3 import S3ObjectStore
from overcast.ports.tables.cached import CachedTable
from overcast.ports.tables.dynamodb import DynamoDbTable
from overcast.ports.tables.sqlite import SqliteTable
from overcast.runtime import RuntimeConfig
from overcast.runtime.adapters import open_bucket, open_mailer, open_table
from overcast.runtime.config import resource_variable

NOTES = spec.Table("notes", spec.Key("id"))
CACHED = spec.Table("cached-notes", spec.Key("id"), read_cache=spec.ReadCache())
PHOTOS = spec.Bucket("photos")
RESOURCES = {
    resource_variable("TABLE", "notes"): "blog-prod-notes-1A2B",
    resource_variable("TABLE", "cached-notes"): "blog-prod-cached-3C4D",
    resource_variable("BUCKET", "photos"): "blog-prod-photos",
}


def aws(**changes: object) -> RuntimeConfig:
    fields: dict[str, object] = {
        "service": "blog",
        "backend": "aws",
        "region": "eu-west-1",
        "resources": RESOURCES,
    }
    fields.update(changes)
    return RuntimeConfig(**fields)  # type: ignore[arg-type]


def local(data_dir: Path) -> RuntimeConfig:
    return RuntimeConfig(
        service="blog", backend="local", data_dir=data_dir, smtp_port=2525, resources=RESOURCES
    )


# --- AWS -------------------------------------------------------------------------------------


def test_on_aws_a_table_is_dynamodb_by_its_deployed_name_in_the_functions_region() -> None:
    table = open_table(NOTES, aws())

    assert isinstance(table, DynamoDbTable)
    assert table.table_name == "blog-prod-notes-1A2B"
    assert table.client.meta.region_name == "eu-west-1"
    assert table.client.meta.endpoint_url == "https://dynamodb.eu-west-1.amazonaws.com"


def test_on_aws_one_client_serves_every_adapter_of_a_region_and_endpoint() -> None:
    first, second = open_table(NOTES, aws()), open_table(CACHED, aws())
    elsewhere = open_table(NOTES, aws(region="ap-south-1"))
    emulated = open_table(NOTES, aws(aws_endpoint="http://127.0.0.1:5000"))

    assert isinstance(first, DynamoDbTable)
    assert isinstance(second, DynamoDbTable)
    assert isinstance(elsewhere, DynamoDbTable)
    assert isinstance(emulated, DynamoDbTable)
    assert first.client is second.client
    assert elsewhere.client is not first.client
    assert elsewhere.client.meta.region_name == "ap-south-1"
    assert emulated.client.meta.endpoint_url == "http://127.0.0.1:5000"


def test_on_aws_a_read_cache_without_a_dax_endpoint_reads_dynamodb_directly() -> None:
    table = open_table(CACHED, aws())

    assert isinstance(table, DynamoDbTable)
    assert not isinstance(table, CachedTable)
    assert table.table_name == "blog-prod-cached-3C4D"


@pytest.mark.skipif(
    importlib.util.find_spec("amazondax") is not None, reason="the DAX client is installed"
)
def test_on_aws_a_dax_endpoint_without_the_dax_client_says_what_to_install() -> None:
    dax = {resource_variable("DAX", "cached-notes"): "daxs://cluster.abc.dax-clusters.aws"}
    config = aws(resources={**RESOURCES, **dax})

    with pytest.raises(RuntimeError, match="amazon-dax-client"):
        open_table(CACHED, config)


def test_on_aws_a_bucket_is_s3_with_a_client_that_adds_no_checksums_of_its_own() -> None:
    store = open_bucket(PHOTOS, aws())

    assert isinstance(store, S3ObjectStore)
    assert store.name == "blog-prod-photos"
    assert store.client.meta.region_name == "eu-west-1"
    assert store.client.meta.config.request_checksum_calculation == "when_required"


def test_on_aws_mail_goes_through_ses_v2_in_the_functions_region() -> None:
    mailer = open_mailer(aws())

    assert isinstance(mailer, SesMailer)
    assert mailer.client.meta.service_model.service_name == "sesv2"
    assert mailer.client.meta.region_name == "eu-west-1"


def test_a_resource_the_function_was_not_given_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match="OVERCAST_RESOURCE_TABLE_NOTES"):
        open_table(NOTES, aws(resources={}))
    with pytest.raises(ValueError, match="OVERCAST_RESOURCE_BUCKET_PHOTOS"):
        open_bucket(PHOTOS, aws(resources={}))


# --- local -----------------------------------------------------------------------------------


def test_locally_a_table_is_its_sqlite_file_behind_its_read_cache(tmp_path: Path) -> None:
    plain, cached = open_table(NOTES, local(tmp_path)), open_table(CACHED, local(tmp_path))
    plain.put({"id": "n1"})

    assert isinstance(plain, SqliteTable)
    assert isinstance(cached, CachedTable)
    assert (tmp_path / "tables" / "blog" / "notes.sqlite3").is_file()


def test_locally_with_a_dynamodb_endpoint_tables_are_dynamodb_there_and_buckets_stay_local(
    tmp_path: Path,
) -> None:
    # Given the local cloud keeps its tables in a DynamoDB-compatible endpoint
    config = replace(local(tmp_path), dynamodb_endpoint="http://127.0.0.1:5999")

    # When a function opens its tables and its bucket
    plain, cached = open_table(NOTES, config), open_table(CACHED, config)
    FilesystemBuckets(tmp_path / "s3" / "buckets").create("blog-prod-photos")
    bucket = open_bucket(PHOTOS, config)

    # Then the tables are DynamoDB at that endpoint (the read cache still in-process)
    assert isinstance(plain, DynamoDbTable)
    assert plain.table_name == "blog-prod-notes-1A2B"
    assert plain.client.meta.endpoint_url == "http://127.0.0.1:5999"
    assert isinstance(cached, CachedTable)
    assert not (tmp_path / "tables").exists()
    # And the bucket is still the local cloud's filesystem bucket
    assert isinstance(bucket, FilesystemObjectStore)


def test_locally_a_bucket_is_the_local_clouds_filesystem_bucket(tmp_path: Path) -> None:
    # Given the bucket as the local cloud creates it under its data directory
    FilesystemBuckets(tmp_path / "s3" / "buckets").create("blog-prod-photos")

    # When the function opens it twice, then writes
    store = open_bucket(PHOTOS, local(tmp_path))
    again = open_bucket(PHOTOS, local(tmp_path))
    store.put("a.jpg", b"jpeg")

    # Then it is one store, and the cloud's own view of the bucket holds the object
    assert isinstance(store, FilesystemObjectStore)
    assert again is store
    cloud_view = FilesystemBuckets(tmp_path / "s3" / "buckets").store("blog-prod-photos")
    assert cloud_view.get("a.jpg") == b"jpeg"


def test_locally_a_bucket_needs_the_data_directory() -> None:
    config = RuntimeConfig(service="blog", backend="local", resources=RESOURCES)

    with pytest.raises(ValueError, match="OVERCAST_DATA_DIR"):
        open_bucket(PHOTOS, config)


def test_locally_mail_goes_to_the_configured_smtp_server(tmp_path: Path) -> None:
    mailer = open_mailer(local(tmp_path))

    assert isinstance(mailer, SmtpMailer)
    assert (mailer.host, mailer.port) == ("127.0.0.1", 2525)


def test_the_local_runtime_never_imports_boto3(tmp_path: Path) -> None:
    script = f"""
import sys
from pathlib import Path
from overcast import spec
from overcast.runtime import RuntimeConfig
from overcast.runtime.adapters import open_mailer, open_table
config = RuntimeConfig(service="blog", backend="local", data_dir=Path({str(tmp_path)!r}))
open_table(spec.Table("notes", spec.Key("id")), config)
open_mailer(config)
print("boto3" in sys.modules, "botocore" in sys.modules)
"""
    answer = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )

    assert answer.stdout.split() == ["False", "False"]
