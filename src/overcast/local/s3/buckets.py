"""The bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
GetBucketLocation.

What they mirror from S3:

- Bucket names follow S3's rules for general purpose buckets (3-63 characters;
  lowercase letters, digits, dots, hyphens; beginning and ending with a letter or
  digit; no ``..``; not an IP address; no reserved prefix or suffix):
  ``InvalidBucketName`` otherwise.
- CreateBucket takes an optional ``CreateBucketConfiguration`` body. In us-east-1 its
  ``LocationConstraint`` must be absent (``us-east-1`` itself is
  ``InvalidLocationConstraint``); in any other region it must name that region:
  ``IllegalLocationConstraintException`` ("The unspecified location constraint is
  incompatible for the region specific endpoint this request was sent to.")
  otherwise. A local cloud serves one region, so a constraint naming another one is
  refused rather than honoured.
- Re-creating a bucket you own: ``BucketAlreadyOwnedByYou`` (409), "in all AWS
  Regions except in the North Virginia Region. For legacy compatibility, if you
  re-create an existing bucket that you already own in the North Virginia Region,
  Amazon S3 returns 200 OK". Every local bucket belongs to the endpoint's account.
- DeleteBucket of a bucket with objects: ``BucketNotEmpty`` (409). Multipart uploads
  still in progress do not keep a bucket alive; they go with it.
- HeadBucket answers ``x-amz-bucket-region``; GetBucketLocation answers an empty
  ``LocationConstraint`` for us-east-1, as S3 does, else the region.
"""

from __future__ import annotations

import asyncio

from overcast.local.s3 import xml
from overcast.local.s3.errors import (
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    IllegalLocationConstraintException,
    InvalidBucketName,
    InvalidLocationConstraint,
    NoSuchBucket,
)
from overcast.local.s3.exchange import Buckets, Exchange
from overcast.local.s3.metadata import attributes_from
from overcast.local.s3.responses import S3Response, empty_response, iso_time, xml_response
from overcast.local.s3.uploads import UploadStore
from overcast.ports.objects import exceptions as port
from overcast.ports.objects.base import check_bucket_name

US_EAST_1 = "us-east-1"
MAX_CONFIGURATION_BYTES = 64 * 1024


class BucketOperations:
    """The operations on buckets themselves, for one account in one region."""

    def __init__(
        self, buckets: Buckets, uploads: UploadStore, *, region: str, owner: xml.Owner
    ) -> None:
        self._buckets = buckets
        self._uploads = uploads
        self._region = region
        self._owner = owner

    async def list_buckets(self, exchange: Exchange) -> S3Response:
        listed = await asyncio.to_thread(self._buckets.list)
        entries = [
            xml.group(
                "Bucket",
                [
                    xml.element("Name", bucket.name),
                    xml.element("CreationDate", iso_time(bucket.created)),
                    xml.element("BucketRegion", self._region),
                ],
            )
            for bucket in listed
        ]
        parts = [self._owner.render(), xml.group("Buckets", entries)]
        return xml_response(xml.document("ListAllMyBucketsResult", parts))

    async def create_bucket(self, exchange: Exchange) -> S3Response:
        name = exchange.call.bucket
        try:
            check_bucket_name(name)
        except port.InvalidBucketName as exc:
            raise InvalidBucketName(str(exc), BucketName=name) from exc
        attributes_from(exchange.call.headers)  # refuses ACLs, as S3 does
        body = await exchange.payload.read_all(exchange.receive, MAX_CONFIGURATION_BYTES)
        self._check_location(_location_constraint(body))
        try:
            await asyncio.to_thread(self._buckets.create, name)
        except port.BucketAlreadyExists as exc:
            if self._region != US_EAST_1:
                raise BucketAlreadyOwnedByYou(BucketName=name) from exc
        return empty_response(200, [(b"location", f"/{name}".encode())])

    async def head_bucket(self, exchange: Exchange) -> S3Response:
        headers = [
            (b"x-amz-bucket-region", self._region.encode()),
            (b"x-amz-access-point-alias", b"false"),
        ]
        return empty_response(200, headers)

    async def delete_bucket(self, exchange: Exchange) -> S3Response:
        name = exchange.call.bucket
        try:
            await asyncio.to_thread(self._buckets.delete, name)
        except port.BucketNotEmpty as exc:
            raise BucketNotEmpty(BucketName=name) from exc
        except port.NoSuchBucket as exc:
            raise NoSuchBucket(BucketName=name) from exc
        await asyncio.to_thread(self._uploads.remove_bucket, name)
        return empty_response(204)

    async def get_bucket_location(self, exchange: Exchange) -> S3Response:
        region = None if self._region == US_EAST_1 else self._region
        body = xml.document("LocationConstraint", [xml.escape(region or "")])
        return xml_response(body)

    def _check_location(self, constraint: str | None) -> None:
        if self._region == US_EAST_1:
            if not constraint:
                return
            if constraint == US_EAST_1:
                raise InvalidLocationConstraint(LocationConstraint=constraint)
        elif constraint == self._region:
            return
        if not constraint:
            raise IllegalLocationConstraintException()
        raise IllegalLocationConstraintException(
            f"The {constraint} location constraint is incompatible for the region specific "
            "endpoint this request was sent to."
        )


def _location_constraint(body: bytes) -> str | None:
    if not body.strip():
        return None
    configuration = xml.parse(body, "CreateBucketConfiguration")
    return xml.child_text(configuration, "LocationConstraint")
