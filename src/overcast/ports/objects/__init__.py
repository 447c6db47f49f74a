"""The object store port: a bucket's objects, streamed in and out."""

from overcast.ports.objects.base import (
    ByteRange,
    ListPage,
    ObjectAttributes,
    ObjectInfo,
    ObjectReader,
    ObjectStore,
    ObjectWriter,
)
from overcast.ports.objects.exceptions import (
    InvalidKey,
    InvalidRange,
    NoSuchKey,
    ObjectStoreError,
    ObjectStoreUnavailable,
    PreconditionFailed,
)

__all__ = [
    "ByteRange",
    "InvalidKey",
    "InvalidRange",
    "ListPage",
    "NoSuchKey",
    "ObjectAttributes",
    "ObjectInfo",
    "ObjectReader",
    "ObjectStore",
    "ObjectStoreError",
    "ObjectStoreUnavailable",
    "ObjectWriter",
    "PreconditionFailed",
]
