"""MyToDoList's per-user folders, end to end, with unmodified boto3 and real HTTPS.

A user signs in to the user pool, exchanges the ID token at the identity pool for
temporary credentials, and uses them with a plain boto3 S3 client. The IAM policy
of the pool's role confines them to ``<identity id>/`` of the files bucket: every
other request is AccessDenied and changes nothing (checked with root credentials).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from botocore.exceptions import ClientError

from overcast.local.endpoints import Endpoints
from tests.cloud_process import CloudProcess
from tests.e2e.conftest import (
    FilesUser,
    Users,
    bearer,
    files_user,
    s3_client,
    todo_url,
    trusting,
)
from tests.e2e.test_aws_cli_e2e import AWS, overcast_env

pytestmark = pytest.mark.e2e


@pytest.fixture
def alice(endpoints: Endpoints, users: Users) -> FilesUser:
    return files_user(endpoints, users)


@pytest.fixture
def bob(endpoints: Endpoints, users: Users) -> FilesUser:
    return files_user(endpoints, users)


def error_code(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return str(caught.value.response["Error"]["Code"])


def test_a_user_writes_lists_reads_and_deletes_in_their_own_folder(
    alice: FilesUser, files_bucket: str
) -> None:
    key = f"{alice.folder}notes/today.txt"

    alice.s3.put_object(Bucket=files_bucket, Key=key, Body=b"milk, eggs", ContentType="text/plain")
    listed = alice.s3.list_objects_v2(Bucket=files_bucket, Prefix=alice.folder)
    got = alice.s3.get_object(Bucket=files_bucket, Key=key)

    assert [entry["Key"] for entry in listed["Contents"]] == [key]
    assert got["Body"].read() == b"milk, eggs"
    assert got["ContentType"] == "text/plain"
    assert got["ETag"] == f'"{hashlib.md5(b"milk, eggs").hexdigest()}"'

    alice.s3.delete_object(Bucket=files_bucket, Key=key)
    assert alice.s3.list_objects_v2(Bucket=files_bucket, Prefix=alice.folder)["KeyCount"] == 0


def test_a_200_mb_file_goes_up_in_parts_and_comes_back_identical(
    alice: FilesUser, files_bucket: str, tmp_path: Path
) -> None:
    source = tmp_path / "big.bin"
    block = hashlib.sha512(b"overcast").digest() * 16384  # 1 MiB, not all zeros
    with source.open("wb") as file:
        for position in range(200):
            file.write(position.to_bytes(4, "big") + block[4:])
    key = f"{alice.folder}big.bin"
    parts = TransferConfig(multipart_threshold=8 * 2**20, multipart_chunksize=16 * 2**20)

    alice.s3.upload_file(str(source), files_bucket, key, Config=parts)
    head = alice.s3.head_object(Bucket=files_bucket, Key=key)
    copy = tmp_path / "back.bin"
    alice.s3.download_file(files_bucket, key, str(copy), Config=parts)

    assert head["ContentLength"] == 200 * 2**20
    assert head["ETag"].endswith('-13"')  # 13 parts of 16 MiB: a multipart ETag
    assert _sha256(copy) == _sha256(source)


def test_a_todo_can_attach_my_file_but_not_anothers(
    alice: FilesUser, bob: FilesUser, files_bucket: str, endpoints: Endpoints, https: httpx.Client
) -> None:
    mine = f"{alice.folder}receipt.pdf"
    alice.s3.put_object(Bucket=files_bucket, Key=mine, Body=b"%PDF-1.7")

    created = https.post(
        todo_url(endpoints),
        json={"title": "File the receipt", "attachments": [mine]},
        headers=bearer(alice.session),
    )
    refused = https.post(
        todo_url(endpoints),
        json={"title": "Steal", "attachments": [f"{bob.folder}secret.txt"]},
        headers=bearer(alice.session),
    )

    assert created.status_code == 201, created.text
    assert created.json()["attachments"] == [mine]
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"] == ["body", "attachments", 0]


def test_another_users_folder_and_the_bucket_root_are_denied_and_unchanged(
    alice: FilesUser, bob: FilesUser, files_bucket: str, root_s3: Any
) -> None:
    bobs = f"{bob.folder}diary.txt"
    bob.s3.put_object(Bucket=files_bucket, Key=bobs, Body=b"dear diary")
    outside = "top-level.txt"

    denied = {
        "list the bucket root": lambda: alice.s3.list_objects_v2(Bucket=files_bucket),
        "list bob's folder": lambda: alice.s3.list_objects_v2(
            Bucket=files_bucket, Prefix=bob.folder
        ),
        "read bob's file": lambda: alice.s3.get_object(Bucket=files_bucket, Key=bobs),
        "overwrite bob's file": lambda: alice.s3.put_object(
            Bucket=files_bucket, Key=bobs, Body=b"hacked"
        ),
        "delete bob's file": lambda: alice.s3.delete_object(Bucket=files_bucket, Key=bobs),
        "copy bob's file to mine": lambda: alice.s3.copy_object(
            Bucket=files_bucket,
            Key=f"{alice.folder}stolen.txt",
            CopySource={"Bucket": files_bucket, "Key": bobs},
        ),
        "write outside any folder": lambda: alice.s3.put_object(
            Bucket=files_bucket, Key=outside, Body=b"x"
        ),
        "list every bucket": lambda: alice.s3.list_buckets(),
        "create a bucket": lambda: alice.s3.create_bucket(Bucket="alices-own-bucket"),
    }
    codes = {what: error_code(call) for what, call in denied.items()}

    assert codes == dict.fromkeys(denied, "AccessDenied")
    assert root_s3.get_object(Bucket=files_bucket, Key=bobs)["Body"].read() == b"dear diary"
    assert error_code(lambda: root_s3.head_object(Bucket=files_bucket, Key=outside)) == "404"
    assert (
        error_code(
            lambda: root_s3.head_object(Bucket=files_bucket, Key=f"{alice.folder}stolen.txt")
        )
        == "404"
    )
    assert "alices-own-bucket" not in [b["Name"] for b in root_s3.list_buckets()["Buckets"]]


@pytest.mark.parametrize(
    ("suffix", "expected"),
    [
        pytest.param("../{other}x.txt", "InvalidArgument", id="dot-dot-segment"),
        pytest.param("a\x00b", "InvalidArgument", id="nul"),
        pytest.param("k" * 2048, "KeyTooLongError", id="2-kb-key"),
    ],
)
def test_keys_that_could_escape_or_break_a_folder_are_refused(
    alice: FilesUser, bob: FilesUser, files_bucket: str, root_s3: Any, suffix: str, expected: str
) -> None:
    key = alice.folder + suffix.format(other=bob.folder)

    code = error_code(lambda: alice.s3.put_object(Bucket=files_bucket, Key=key, Body=b"x"))

    assert code == expected
    listed = root_s3.list_objects_v2(Bucket=files_bucket, Prefix=alice.folder)
    assert listed["KeyCount"] == 0


def test_an_encoded_slash_is_part_of_the_key_and_cannot_climb_out(
    alice: FilesUser, bob: FilesUser, files_bucket: str, root_s3: Any, endpoints: Endpoints
) -> None:
    # The raw path "<alice>%2F..%2F<bob>%2Fx", signed as sent, decodes to the key
    # "<alice>/../<bob>/x": inside alice's folder by its prefix, but with a ".."
    # segment that path-mapping tools would resolve into bob's folder. Refused.
    escaped = quote(alice.identity_id) + "%2F..%2F" + quote(bob.identity_id) + "%2Fx"
    url = f"{endpoints.aws['s3']}/{files_bucket}/{escaped}"
    request = AWSRequest(method="PUT", url=url, data=b"x")
    request.headers["x-amz-content-sha256"] = hashlib.sha256(b"x").hexdigest()
    credentials = BotoCredentials(
        alice.credentials["AccessKeyId"],
        alice.credentials["SecretKey"],
        alice.credentials["SessionToken"],
    )
    S3SigV4Auth(credentials, "s3", endpoints.region).add_auth(request)
    with httpx.Client(verify=trusting(endpoints)) as client:
        response = client.put(url, content=b"x", headers=dict(request.headers.items()))

    assert response.status_code == 400, response.text
    assert b"InvalidArgument" in response.content
    assert root_s3.list_objects_v2(Bucket=files_bucket, Prefix=bob.folder)["KeyCount"] == 0
    assert root_s3.list_objects_v2(Bucket=files_bucket, Prefix=alice.folder)["KeyCount"] == 0


def test_wrong_secret_and_tampered_or_expired_presigned_urls_are_refused(
    alice: FilesUser, files_bucket: str, endpoints: Endpoints
) -> None:
    key = f"{alice.folder}photo.jpg"
    alice.s3.put_object(Bucket=files_bucket, Key=key, Body=b"jpeg")
    wrong_secret = s3_client(
        endpoints,
        aws_access_key_id=alice.credentials["AccessKeyId"],
        aws_secret_access_key="not-" + alice.credentials["SecretKey"],
        aws_session_token=alice.credentials["SessionToken"],
    )
    url = alice.s3.generate_presigned_url(
        "get_object", Params={"Bucket": files_bucket, "Key": key}, ExpiresIn=1
    )
    assert "Signature=" in url  # boto3's default presigned URL: Signature Version 2
    tampered = tamper_signature(url)

    with httpx.Client(verify=trusting(endpoints)) as client:
        fresh = client.get(url)
        forged = client.get(tampered)
        time.sleep(2.1)
        replayed = client.get(url)

    assert error_code(lambda: wrong_secret.get_object(Bucket=files_bucket, Key=key)) == (
        "SignatureDoesNotMatch"
    )
    assert (fresh.status_code, fresh.content) == (200, b"jpeg")
    assert forged.status_code == 403
    assert b"SignatureDoesNotMatch" in forged.content
    assert replayed.status_code == 403
    assert b"Request has expired" in replayed.content


def test_expired_credentials_are_refused(
    own_cloud: Callable[..., CloudProcess], tmp_path: Path
) -> None:
    project = tmp_path / "short-lived"
    project.mkdir()
    (project / "overcast.toml").write_text("credential_seconds = 2\n")
    cloud = own_cloud(project, "--quiet")
    endpoints = cloud.start()
    user = files_user(endpoints, Users(endpoints, cloud.data_dir))
    bucket = endpoints.services["todo"].buckets["files"]
    user.s3.put_object(Bucket=bucket, Key=f"{user.folder}a.txt", Body=b"a")

    time.sleep(2.5)
    code = error_code(
        lambda: user.s3.put_object(Bucket=bucket, Key=f"{user.folder}b.txt", Body=b"b")
    )

    assert code == "ExpiredToken"
    assert cloud.stop() == 0


def tamper_signature(url: str) -> str:
    """``url`` with one character of its signature changed."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    name = next(name for name, _ in query if name in ("Signature", "X-Amz-Signature"))
    changed = [
        (key, ("A" if value[0] != "A" else "B") + value[1:] if key == name else value)
        for key, value in query
    ]
    return urlunsplit(parts._replace(query=urlencode(changed)))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(2**20):
            digest.update(chunk)
    return digest.hexdigest()


def test_the_aws_cli_copies_lists_and_syncs_in_my_folder_only(
    cloud: CloudProcess, alice: FilesUser, files_bucket: str, tmp_path: Path
) -> None:
    env = {
        **overcast_env(cloud),
        "AWS_ACCESS_KEY_ID": alice.credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": alice.credentials["SecretKey"],
        "AWS_SESSION_TOKEN": alice.credentials["SessionToken"],
    }
    folder = f"s3://{files_bucket}/{alice.folder}"
    local = tmp_path / "photos"
    local.mkdir()
    for name in ("a.jpg", "b.jpg"):
        (local / name).write_bytes(name.encode() * 1000)
    big = tmp_path / "video.mp4"
    big.write_bytes(b"v" * (12 * 2**20))  # over the CLI's 8 MiB threshold: multipart

    run_aws(env, "s3", "sync", str(local), f"{folder}photos/")
    run_aws(env, "s3", "cp", str(big), f"{folder}video.mp4")
    listing = run_aws(env, "s3", "ls", "--recursive", folder)
    run_aws(env, "s3", "cp", f"{folder}video.mp4", str(tmp_path / "back.mp4"))
    denied = run_aws(env, "s3", "ls", f"s3://{files_bucket}/", expect_failure=True)

    assert sorted(line.split()[-1] for line in listing.splitlines()) == [
        f"{alice.folder}photos/a.jpg",
        f"{alice.folder}photos/b.jpg",
        f"{alice.folder}video.mp4",
    ]
    assert (tmp_path / "back.mp4").read_bytes() == big.read_bytes()
    assert "AccessDenied" in denied


def run_aws(env: dict[str, str], *args: str, expect_failure: bool = False) -> str:
    """The AWS CLI's output (stdout, or stderr when it is expected to fail)."""
    isolated = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    completed = subprocess.run(
        [AWS, *args],
        env={**isolated, **env, "AWS_CONFIG_FILE": os.devnull},
        capture_output=True,
        text=True,
        check=False,
    )
    if expect_failure:
        assert completed.returncode != 0, completed.stdout
        return completed.stderr
    assert completed.returncode == 0, completed.stderr
    return completed.stdout
