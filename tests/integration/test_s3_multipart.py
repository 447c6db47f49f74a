"""Multipart uploads through the local S3 endpoint: boto3 calls, s3transfer, restarts."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError
from mypy_boto3_s3 import S3Client

from tests.integration.test_s3_fixtures import LocalS3, error_code, send_signed

MIB = 1024 * 1024


def _parts(*sizes: int) -> list[bytes]:
    return [bytes([number]) * size for number, size in enumerate(sizes, start=1)]


def _upload(
    client: S3Client, bucket: str, key: str, bodies: list[bytes]
) -> tuple[str, list[dict[str, object]]]:
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key, ContentType="video/mp4")[
        "UploadId"
    ]
    parts = []
    for number, body in enumerate(bodies, start=1):
        etag = client.upload_part(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
        )["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    return upload_id, parts


def test_three_parts_make_one_object_with_s3s_multipart_etag(client: S3Client, bucket: str) -> None:
    bodies = _parts(5 * MIB, 5 * MIB, 1000)
    upload_id, parts = _upload(client, bucket, "movie.mp4", bodies)
    assert client.list_objects_v2(Bucket=bucket)["KeyCount"] == 0  # not visible before completion
    done = client.complete_multipart_upload(
        Bucket=bucket, Key="movie.mp4", UploadId=upload_id, MultipartUpload={"Parts": parts}
    )
    digests = b"".join(hashlib.md5(body).digest() for body in bodies)
    expected = f'"{hashlib.md5(digests).hexdigest()}-3"'
    assert done["ETag"] == expected
    assert done["Location"].endswith(f"/{bucket}/movie.mp4")
    got = client.get_object(Bucket=bucket, Key="movie.mp4")
    assert got["Body"].read() == b"".join(bodies)
    assert got["ETag"] == expected
    assert got["ContentType"] == "video/mp4"
    with pytest.raises(ClientError) as raised:
        client.list_parts(Bucket=bucket, Key="movie.mp4", UploadId=upload_id)
    assert error_code(raised) == "NoSuchUpload"


def test_parts_must_be_listed_in_ascending_order(client: S3Client, bucket: str) -> None:
    upload_id, parts = _upload(client, bucket, "k", _parts(5 * MIB, 10))
    with pytest.raises(ClientError) as raised:
        client.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": parts[::-1]}
        )
    assert error_code(raised) == "InvalidPartOrder"


def test_a_part_with_another_etag_or_never_sent_is_invalid(client: S3Client, bucket: str) -> None:
    upload_id, parts = _upload(client, bucket, "k", _parts(10))
    wrong = [{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}]
    with pytest.raises(ClientError) as raised:
        client.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": wrong}
        )
    assert error_code(raised) == "InvalidPart"
    missing = [*parts, {"PartNumber": 2, "ETag": parts[0]["ETag"]}]
    with pytest.raises(ClientError) as raised:
        client.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": missing}
        )  # type: ignore[typeddict-item]
    assert error_code(raised) == "InvalidPart"
    # the upload is still there: completing it properly works
    client.complete_multipart_upload(
        Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": parts}
    )  # type: ignore[typeddict-item]
    assert client.get_object(Bucket=bucket, Key="k")["Body"].read() == b"\x01" * 10


def test_every_part_but_the_last_needs_5_mib(client: S3Client, bucket: str) -> None:
    upload_id, parts = _upload(client, bucket, "k", _parts(5 * MIB - 1, 10))
    with pytest.raises(ClientError) as raised:
        client.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": parts}
        )  # type: ignore[typeddict-item]
    assert error_code(raised) == "EntityTooSmall"
    assert client.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_an_empty_part_list_is_malformed(s3: LocalS3, client: S3Client, bucket: str) -> None:
    upload_id, _ = _upload(client, bucket, "k", _parts(10))
    answer = send_signed(
        s3, "POST", f"/{bucket}/k?uploadId={upload_id}", body=b"<CompleteMultipartUpload/>"
    )
    assert answer.status_code == 400
    assert "<Code>MalformedXML</Code>" in answer.text


@pytest.mark.parametrize("number", [0, 10001])
def test_part_numbers_run_from_1_to_10000(client: S3Client, bucket: str, number: int) -> None:
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    with pytest.raises(ClientError) as raised:
        client.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=number, Body=b"x")
    assert error_code(raised) == "InvalidArgument"


@pytest.mark.parametrize("upload_id", ["nope", "../../etc/passwd", "A" * 64])
def test_an_unknown_upload_id_is_no_such_upload(
    client: S3Client, bucket: str, upload_id: str
) -> None:
    with pytest.raises(ClientError) as raised:
        client.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"x")
    assert error_code(raised) == "NoSuchUpload"


def test_an_upload_belongs_to_its_key(client: S3Client, bucket: str) -> None:
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="mine")["UploadId"]
    with pytest.raises(ClientError) as raised:
        client.upload_part(Bucket=bucket, Key="other", UploadId=upload_id, PartNumber=1, Body=b"x")
    assert error_code(raised) == "NoSuchUpload"


def test_an_aborted_upload_is_gone(client: S3Client, bucket: str) -> None:
    upload_id, _ = _upload(client, bucket, "k", _parts(10))
    assert (
        client.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)[
            "ResponseMetadata"
        ]["HTTPStatusCode"]
        == 204
    )
    assert "Uploads" not in client.list_multipart_uploads(Bucket=bucket)
    with pytest.raises(ClientError) as raised:
        client.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)
    assert error_code(raised) == "NoSuchUpload"


def test_a_part_sent_again_replaces_the_first(client: S3Client, bucket: str) -> None:
    upload_id, _ = _upload(client, bucket, "k", [b"first"])
    etag = client.upload_part(
        Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"second"
    )["ETag"]
    listed = client.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)["Parts"]
    assert [(part["PartNumber"], part["ETag"], part["Size"]) for part in listed] == [(1, etag, 6)]
    client.complete_multipart_upload(
        Bucket=bucket,
        Key="k",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )
    assert client.get_object(Bucket=bucket, Key="k")["Body"].read() == b"second"


def test_list_parts_pages_by_part_number(client: S3Client, bucket: str) -> None:
    upload_id, parts = _upload(client, bucket, "k", _parts(1, 2, 3))
    first = client.list_parts(Bucket=bucket, Key="k", UploadId=upload_id, MaxParts=2)
    assert [part["PartNumber"] for part in first["Parts"]] == [1, 2]
    assert first["IsTruncated"]
    assert first["NextPartNumberMarker"] == 2
    assert first["Initiator"]["ID"].endswith(":root")
    rest = client.list_parts(Bucket=bucket, Key="k", UploadId=upload_id, PartNumberMarker=2)
    assert [part["ETag"] for part in rest["Parts"]] == [parts[2]["ETag"]]
    assert not rest["IsTruncated"]


def test_list_multipart_uploads_sorts_pages_and_rolls_up(client: S3Client, bucket: str) -> None:
    ids = {
        key: client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        for key in ("b", "a/1", "a/2", "c")
    }
    listed = client.list_multipart_uploads(Bucket=bucket)
    assert [upload["Key"] for upload in listed["Uploads"]] == ["a/1", "a/2", "b", "c"]
    rolled = client.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [upload["Key"] for upload in rolled["Uploads"]] == ["b", "c"]
    assert [prefix["Prefix"] for prefix in rolled["CommonPrefixes"]] == ["a/"]
    page = client.list_multipart_uploads(Bucket=bucket, MaxUploads=2)
    assert page["IsTruncated"]
    assert page["NextKeyMarker"] == "a/2"
    assert page["NextUploadIdMarker"] == ids["a/2"]
    rest = client.list_multipart_uploads(
        Bucket=bucket, KeyMarker=page["NextKeyMarker"], UploadIdMarker=page["NextUploadIdMarker"]
    )
    assert [upload["Key"] for upload in rest["Uploads"]] == ["b", "c"]
    assert [
        upload["Key"]
        for upload in client.list_multipart_uploads(Bucket=bucket, Prefix="a/")["Uploads"]
    ] == ["a/1", "a/2"]


def test_s3transfer_uploads_and_downloads_a_file_in_parts(
    client: S3Client, bucket: str, tmp_path: Path
) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(bytes(range(256)) * (11 * MIB // 256 + 3))
    config = TransferConfig(
        multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=3
    )
    client.upload_file(str(source), bucket, "file.bin", Config=config)
    assert client.head_object(Bucket=bucket, Key="file.bin")["ETag"].endswith('-3"')
    target = tmp_path / "target.bin"
    client.download_file(bucket, "file.bin", str(target), Config=config)
    assert target.read_bytes() == source.read_bytes()


def test_an_upload_in_progress_survives_a_restart(tmp_path: Path) -> None:
    local = LocalS3(tmp_path)
    with local.serve():
        before = local.client()
        before.create_bucket(Bucket="durable")
        upload_id, parts = _upload(before, "durable", "k", _parts(5 * MIB))
    with local.serve(local.endpoint()):
        after = local.client()
        etag = after.upload_part(
            Bucket="durable", Key="k", UploadId=upload_id, PartNumber=2, Body=b"tail"
        )["ETag"]
        assert [
            upload["UploadId"]
            for upload in after.list_multipart_uploads(Bucket="durable")["Uploads"]
        ] == [upload_id]
        after.complete_multipart_upload(
            Bucket="durable",
            Key="k",
            UploadId=upload_id,
            MultipartUpload={"Parts": [*parts, {"PartNumber": 2, "ETag": etag}]},  # type: ignore[typeddict-item]
        )
        assert (
            after.get_object(Bucket="durable", Key="k")["Body"].read()
            == b"\x01" * 5 * MIB + b"tail"
        )
    assert not any(
        path.is_file() for path in (tmp_path / "uploads").rglob("*") if ".listing" not in path.name
    )
