"""One request in flight through the S3 endpoint, and what every operation is given."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from starlette.types import Receive

from overcast.local.s3.actions import Access
from overcast.local.s3.payload import Payload
from overcast.local.s3.requests import S3Call
from overcast.local.s3.responses import S3Response
from overcast.ports.objects import ObjectStore
from overcast.ports.objects.base import BucketInfo


class Buckets(Protocol):
    """The buckets behind the endpoint (:class:`~overcast.ports.objects.filesystem.
    FilesystemBuckets` locally); raises the object store port's bucket errors."""

    def create(self, name: str) -> None: ...

    def exists(self, name: str) -> bool: ...

    def delete(self, name: str) -> None: ...

    def list(self) -> Sequence[BucketInfo]: ...

    def store(self, name: str) -> ObjectStore: ...


@dataclass(slots=True)
class Exchange:
    """A request being served: what it asks, how to read its body, who may do what,
    and the bucket's objects (``None`` for ListBuckets and CreateBucket)."""

    call: S3Call
    payload: Payload
    access: Access
    receive: Receive
    store: ObjectStore | None

    def objects(self) -> ObjectStore:
        """The bucket's objects, for operations on an existing bucket."""
        assert self.store is not None, f"{self.call.operation} needs its bucket"
        return self.store


Handler = Callable[[Exchange], Awaitable[S3Response]]
