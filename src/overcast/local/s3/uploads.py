"""Multipart uploads in progress, kept on disk so they survive a restart, as on S3.

Layout under the endpoint's ``uploads_root``::

    <upload id>/upload.json            bucket, key, initiated, initiator, attributes
    <upload id>/part-00001.json        the part's current data file, ETag, size, time
    <upload id>/data-00001-<random>    the part's bytes (never rewritten)
    <upload id>/tmp-<random>           a part being received

- Upload ids are 64 URL-safe characters from the system's CSPRNG. An id a client
  sends becomes a path only after it matched that shape exactly; any other string
  is ``NoSuchUpload``, so no id can name a file outside ``uploads_root``.
- A part streams to a temporary file (never into memory), hashed as it arrives.
  Committing it flushes and fsyncs the file, renames it to a fresh data file, then
  replaces the part's record atomically (temporary file, fsync, rename, fsync the
  directory) and unlinks the data it replaced. Every byte is written or the write
  fails: a full disk or an I/O error is the object store port's
  ``ObjectStoreUnavailable`` (S3's 500 ``InternalError``), the part's files are
  removed, and the part it would have replaced stays current: nothing is
  acknowledged that is not on disk whole. Data files are immutable, so completing an
  upload while a part is re-sent reads either the old part or the new one, whole.
- Aborting or completing moves the upload's directory out of sight in one rename,
  then deletes it; a part still arriving for it then finds no upload.
- :meth:`UploadStore.recover` (once, at start-up) removes what a crash left:
  temporary files, data no record names, half-created uploads.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from overcast.local.s3.errors import NoSuchUpload
from overcast.ports.objects import ObjectAttributes, ObjectStoreUnavailable

UPLOAD_RECORD = "upload.json"
_UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{64}")
_TRASH = ".trash"

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Upload:
    """A multipart upload in progress."""

    upload_id: str
    bucket: str
    key: str
    initiated: datetime
    initiator: str  # the ARN of who started it ("anonymous" for nobody)
    attributes: ObjectAttributes


@dataclass(frozen=True)
class Part:
    """A part received, and the file that holds its bytes."""

    number: int
    etag: str  # hex MD5 of the part
    size: int
    last_modified: datetime
    path: Path
    checksums: Mapping[str, str] = field(default_factory=dict)


class PartWriter:
    """A part being received: appended to a temporary file, hashed as it goes.

    The file is buffered: its ``write`` writes every byte or raises (a raw file's
    ``write`` may write fewer bytes than given, and say so only in its return value).
    """

    def __init__(self, directory: Path, number: int, clock: Clock) -> None:
        self._directory = directory
        self._number = number
        self._clock = clock
        self._path = directory / f"tmp-{secrets.token_hex(8)}"
        try:
            self._file = open(self._path, "xb")  # noqa: SIM115 (closed in commit/abort)
        except FileNotFoundError as exc:
            raise NoSuchUpload() from exc
        except OSError as exc:
            raise _unavailable(exc) from exc
        self._md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0

    def write(self, chunk: bytes) -> None:
        try:
            self._file.write(chunk)
        except OSError as exc:
            self.abort()
            raise _unavailable(exc) from exc
        self._md5.update(chunk)
        self.size += len(chunk)

    def commit(self, checksums: Mapping[str, str]) -> Part:
        """Make the part durable and current (fsyncs: call it off the event loop)."""
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
        except OSError as exc:
            self.abort()
            raise _unavailable(exc) from exc
        data = self._directory / f"data-{self._number:05d}-{secrets.token_hex(8)}"
        part = Part(
            self._number,
            self._md5.hexdigest(),
            self.size,
            self._clock().replace(microsecond=0),
            data,
            dict(checksums),
        )
        try:
            os.rename(self._path, data)
            replaced = _read_part(self._directory, self._number)
            _write_atomically(self._directory / _part_record(self._number), _part_json(part))
        except FileNotFoundError as exc:  # aborted or completed meanwhile
            _unlink(data)
            raise NoSuchUpload() from exc
        except OSError as exc:
            _unlink(self._path)
            _unlink(data)
            raise _unavailable(exc) from exc
        if replaced is not None:
            _unlink(replaced.path)
        return part

    def abort(self) -> None:
        """Discard the part; a no-op after :meth:`commit`."""
        if not self._file.closed:
            with contextlib.suppress(OSError):  # flushing what a full disk refused
                self._file.close()
            _unlink(self._path)


class UploadStore:
    """The multipart uploads in progress, under ``root`` (see the module docstring)."""

    def __init__(self, root: Path, clock: Clock) -> None:
        self.root = Path(root)
        self._clock = clock
        self._known: dict[str, Upload] = {}  # records never change once written

    def create(self, bucket: str, key: str, attributes: ObjectAttributes, initiator: str) -> Upload:
        upload_id = secrets.token_urlsafe(48)
        upload = Upload(upload_id, bucket, key, self._clock(), initiator, attributes)
        directory = self.root / upload_id
        directory.mkdir(parents=True)
        _write_atomically(directory / UPLOAD_RECORD, _upload_json(upload))
        self._known[upload_id] = upload
        return upload

    def find(self, upload_id: str, bucket: str, key: str) -> Upload:
        """The upload ``upload_id`` of ``bucket``/``key`` (``NoSuchUpload``)."""
        upload = self._load(upload_id)
        if upload is None or upload.bucket != bucket or upload.key != key:
            raise NoSuchUpload(UploadId=upload_id)
        return upload

    def part_writer(self, upload: Upload, number: int) -> PartWriter:
        return PartWriter(self.root / upload.upload_id, number, self._clock)

    def parts(self, upload: Upload) -> list[Part]:
        """The parts received, in ascending part number."""
        directory = self.root / upload.upload_id
        try:
            names = os.listdir(directory)
        except FileNotFoundError as exc:
            raise NoSuchUpload(UploadId=upload.upload_id) from exc
        numbers = sorted(int(name[5:10]) for name in names if _is_part_record(name))
        found = (_read_part(directory, number) for number in numbers)
        return [part for part in found if part is not None]

    def remove(self, upload: Upload) -> None:
        """Forget the upload and delete its parts (abort, or after completion)."""
        self._known.pop(upload.upload_id, None)
        trash = self.root / _TRASH / f"{upload.upload_id}-{secrets.token_hex(4)}"
        trash.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(self.root / upload.upload_id, trash)
        except FileNotFoundError as exc:
            raise NoSuchUpload(UploadId=upload.upload_id) from exc
        shutil.rmtree(trash, ignore_errors=True)

    def uploads(self, bucket: str) -> list[Upload]:
        """The bucket's uploads in progress, by key, then by time initiated."""
        found = (self._load(name) for name in self._ids())
        mine = [upload for upload in found if upload is not None and upload.bucket == bucket]
        return sorted(mine, key=lambda upload: (upload.key, upload.initiated, upload.upload_id))

    def remove_bucket(self, bucket: str) -> None:
        """Delete every upload of a bucket that was deleted."""
        for upload in self.uploads(bucket):
            try:
                self.remove(upload)
            except NoSuchUpload:
                continue

    def recover(self) -> None:
        """Remove what a crash left; run once at start-up, before serving."""
        shutil.rmtree(self.root / _TRASH, ignore_errors=True)
        for upload_id in self._ids():
            directory = self.root / upload_id
            if not (directory / UPLOAD_RECORD).is_file():
                shutil.rmtree(directory, ignore_errors=True)
                continue
            names = os.listdir(directory)
            parts = (_read_part(directory, int(n[5:10])) for n in names if _is_part_record(n))
            kept = {part.path.name for part in parts if part is not None}
            for name in names:
                if name.startswith(("tmp-", "data-")) and name not in kept:
                    _unlink(directory / name)

    def _ids(self) -> list[str]:
        try:
            return [name for name in os.listdir(self.root) if _UPLOAD_ID.fullmatch(name)]
        except FileNotFoundError:
            return []

    def _load(self, upload_id: str) -> Upload | None:
        if not _UPLOAD_ID.fullmatch(upload_id):
            return None  # never a path
        known = self._known.get(upload_id)
        if known is not None:
            return known
        try:
            record = json.loads((self.root / upload_id / UPLOAD_RECORD).read_bytes())
        except (FileNotFoundError, NotADirectoryError):
            return None
        upload = _upload_from(upload_id, record)
        self._known[upload_id] = upload
        return upload


def _part_record(number: int) -> str:
    return f"part-{number:05d}.json"


def _is_part_record(name: str) -> bool:
    return len(name) == 15 and name.startswith("part-") and name.endswith(".json")


def _read_part(directory: Path, number: int) -> Part | None:
    try:
        record = json.loads((directory / _part_record(number)).read_bytes())
    except FileNotFoundError:
        return None
    return Part(
        number,
        record["etag"],
        record["size"],
        datetime.fromisoformat(record["last_modified"]),
        directory / record["file"],
        record.get("checksums", {}),
    )


def _part_json(part: Part) -> dict[str, Any]:
    return {
        "file": part.path.name,
        "etag": part.etag,
        "size": part.size,
        "last_modified": part.last_modified.isoformat(),
        "checksums": dict(part.checksums),
    }


def _upload_json(upload: Upload) -> dict[str, Any]:
    attributes = asdict(upload.attributes)
    return {
        "bucket": upload.bucket,
        "key": upload.key,
        "initiated": upload.initiated.isoformat(),
        "initiator": upload.initiator,
        "attributes": {**attributes, "metadata": dict(upload.attributes.metadata)},
    }


def _upload_from(upload_id: str, record: dict[str, Any]) -> Upload:
    return Upload(
        upload_id,
        record["bucket"],
        record["key"],
        datetime.fromisoformat(record["initiated"]),
        record["initiator"],
        ObjectAttributes(**record["attributes"]),
    )


def _unavailable(error: OSError) -> ObjectStoreUnavailable:
    return ObjectStoreUnavailable(f"Cannot store a part of a multipart upload: {error}.")


def _write_atomically(path: Path, record: dict[str, Any]) -> None:
    temporary = path.with_name(f"tmp-{secrets.token_hex(8)}")
    try:
        with open(temporary, "xb") as file:
            file.write(json.dumps(record).encode())
            file.flush()
            os.fsync(file.fileno())
        os.rename(temporary, path)
    except BaseException:
        _unlink(temporary)
        raise
    descriptor = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
