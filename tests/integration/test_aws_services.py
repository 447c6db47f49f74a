"""The local cloud's AWS services, composed on a real data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from overcast import spec
from overcast.local.aws_services import AwsServices
from tests.fixtures.aws_services import local_aws


def services(data_dir: Path) -> AwsServices:
    return local_aws(data_dir, "https://127.0.0.1:4566")


def with_files(name: str, bucket: str, pool: str) -> spec.Service:
    users = spec.UserPool("users")
    identities = spec.IdentityPool(pool, users)
    return spec.Service(
        name,
        user_pools=(users,),
        identity_pools=(identities,),
        buckets=(spec.Bucket(bucket, user_folders=identities),),
    )


def test_a_services_buckets_and_pools_are_created_once_and_found_again(tmp_path: Path) -> None:
    first = services(tmp_path)
    registered = first.register(with_files("todo", "files", "files"))
    first.close()

    again = services(tmp_path)
    found = again.register(with_files("todo", "files", "files"))
    again.close()

    assert registered.buckets == found.buckets == {"files": "todo-files"}
    assert registered.identity_pools["files"].id == found.identity_pools["files"].id
    assert registered.user_pools["users"].pool_id == found.user_pools["users"].pool_id


@pytest.mark.parametrize(
    ("second", "clash"),
    [
        pytest.param(with_files("todo-x", "files", "other"), "bucket 'todo-x-files'", id="bucket"),
        pytest.param(
            with_files("todo-x", "things", "files"), "IAM role 'todo-x-files-authenticated'",
            id="role",
        ),
    ],
)  # fmt: skip
def test_two_services_whose_names_would_share_a_global_name_are_refused(
    tmp_path: Path, second: spec.Service, clash: str
) -> None:
    aws = services(tmp_path)
    aws.register(with_files("todo", "x-files", "x-files"))

    with pytest.raises(spec.DeclarationError, match=clash):
        aws.register(second)
    aws.close()
