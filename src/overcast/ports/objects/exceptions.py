"""The object store's exceptions; no adapter lets a backend error escape.

::

    ObjectStoreError
    ├── NoSuchKey            the key holds no object
    ├── InvalidKey           the key is not a valid object key (empty, too long, NUL, ...)
    ├── InvalidRange         the byte range starts at or past the end of the object
    ├── PreconditionFailed   an If-Match style precondition did not hold
    ├── ConditionalWriteUnsupported  the adapter cannot check a write's precondition
    ├── NoSuchBucket         no bucket has this name (or it was deleted meanwhile)
    ├── InvalidBucketName    the name breaks S3's bucket naming rules
    ├── BucketAlreadyExists  a bucket of this name exists already
    ├── BucketNotEmpty       a bucket that still holds objects cannot be deleted
    └── ObjectStoreUnavailable  the backend failed (disk full, I/O error, ...)
"""

from __future__ import annotations


class ObjectStoreError(Exception):
    """Base of every object store error."""


class NoSuchKey(ObjectStoreError):
    def __init__(self, key: str) -> None:
        super().__init__(f"No object with key {key!r}.")
        self.key = key


class InvalidKey(ObjectStoreError):
    """The key cannot name an object; the message says why."""


class InvalidRange(ObjectStoreError):
    def __init__(self, size: int) -> None:
        super().__init__(f"The requested range is not satisfiable (object size {size}).")
        self.size = size


class PreconditionFailed(ObjectStoreError):
    """A conditional write or copy found another version of the object."""


class ConditionalWriteUnsupported(ObjectStoreError):
    """The adapter cannot check a write's precondition atomically with the write, so it
    refuses the write rather than ignore the precondition."""


class NoSuchBucket(ObjectStoreError):
    def __init__(self, bucket: str) -> None:
        super().__init__(f"No bucket named {bucket!r}.")
        self.bucket = bucket


class InvalidBucketName(ObjectStoreError):
    """The name cannot name a bucket; the message says why."""


class BucketAlreadyExists(ObjectStoreError):
    def __init__(self, bucket: str) -> None:
        super().__init__(f"A bucket named {bucket!r} exists already.")
        self.bucket = bucket


class BucketNotEmpty(ObjectStoreError):
    def __init__(self, bucket: str) -> None:
        super().__init__(f"Bucket {bucket!r} still holds objects; delete them first.")
        self.bucket = bucket


class ObjectStoreUnavailable(ObjectStoreError):
    """The storage backend failed; nothing was changed."""
