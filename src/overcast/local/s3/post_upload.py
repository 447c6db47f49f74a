"""S3's browser-based uploads: ``POST /<bucket>`` with a ``multipart/form-data`` form.

What it mirrors ("Browser-Based Uploads Using POST", "POST Object" in the S3 API
reference), in S3's order:

1. The form's fields are read (:mod:`.post_upload_form`); the file comes last and is
   not read yet. ``key`` is required ("Bucket POST must contain a field named 'key'");
   ``${filename}`` in it becomes the file's name. A form without a file is
   ``InvalidArgument`` ("POST requires exactly one file upload per request").
2. The signature over the policy names the caller (:mod:`.post_upload_auth`); the
   policy must hold for every field (:mod:`.post_upload_policy`).
3. The bucket must exist (``NoSuchBucket`` for a caller who may write to it, else
   ``AccessDenied``), and the caller must be allowed ``s3:PutObject`` on the key, by
   its identity policies and the bucket's policy, with ``s3:authType`` = ``POST`` and
   ``s3:signatureversion`` = ``AWS4-HMAC-SHA256`` ("Amazon S3 Signature Version 4
   Authentication Specific Policy Keys"). A denied upload reads no file and stores
   nothing.
4. The file streams into an object writer; ``content-length-range`` is checked as it
   grows (``EntityTooLarge``) and at its end (``EntityTooSmall``). The object is
   committed only if the whole file arrived and every check held. Its attributes come
   from the form fields as PutObject takes them from headers (``Content-Type``,
   ``Cache-Control``, ``x-amz-meta-*``, ``acl`` as ``x-amz-acl``...). The event it
   makes is ``ObjectCreated:Post``.
5. The answer: ``success_action_redirect`` gives a 303 to that URL with ``bucket``,
   ``key`` and ``etag`` in its query; else ``success_action_status`` 200 or 201 (201
   with ``<PostResponse>``: ``Location``, ``Bucket``, ``Key``, ``ETag``), anything
   else 204. ``ETag`` and ``Location`` headers either way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime
from urllib.parse import quote, urlencode

from starlette.types import Receive

from overcast.local.events.origin import POST, creation_of
from overcast.local.iam.evaluation import PolicyEvaluator
from overcast.local.iam.principals import Principal
from overcast.local.s3 import metadata, objects
from overcast.local.s3.actions import Access, BucketPolicies, request_context
from overcast.local.s3.auth import S3Authenticator
from overcast.local.s3.errors import AccessDenied, InvalidArgument, NoSuchBucket
from overcast.local.s3.exchange import Buckets
from overcast.local.s3.post_upload_auth import PostAuthenticator
from overcast.local.s3.post_upload_form import FormPart, FormReader, boundary_of
from overcast.local.s3.post_upload_policy import PostPolicy, check_size
from overcast.local.s3.requests import S3Call
from overcast.local.s3.responses import S3Response, empty_response, quoted, xml_response
from overcast.local.s3.signing import SIGV4
from overcast.local.s3.xml import document, element
from overcast.ports.objects import ObjectInfo, ObjectStore
from overcast.ports.objects import exceptions as port
from overcast.ports.objects.filesystem_events import creating

_STATUSES = {"200": 200, "201": 201}
# Form fields that are headers of PutObject under another name.
_FIELD_HEADERS = {"acl": "x-amz-acl"}


class PostUploads:
    """Serves ``POST /<bucket>`` form uploads (see the module docstring)."""

    def __init__(
        self,
        buckets: Buckets,
        authenticator: S3Authenticator,
        evaluator: PolicyEvaluator,
        *,
        bucket_policies: BucketPolicies,
        account_id: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._buckets = buckets
        self._authenticator = PostAuthenticator(authenticator)
        self._evaluator = evaluator
        self._bucket_policies = bucket_policies
        self._account_id = account_id
        self._clock = clock

    async def serve(self, call: S3Call, receive: Receive, ids: tuple[str, str]) -> S3Response:
        """Store the form's file under its key, or raise S3's error having stored nothing."""
        form = FormReader(receive, boundary_of(call.headers.get("content-type", "")))
        fields, file = await form.fields()
        key = _key(fields, file)
        now = self._clock()
        session = self._authenticator.authenticate(fields, now)
        policy = PostPolicy.decode(fields["policy"]) if "policy" in fields else None
        if policy is not None:
            policy.check_fields({**fields, "key": key}, call.bucket, now)
        principal = session.principal if session is not None else None
        store = self._authorize(call, principal, key)
        length_range = policy.length_range() if policy is not None else (0, None)
        with creating(creation_of(call, principal, *ids, POST)):
            info = await _store(store, key, fields, form, length_range)
        await form.drain()
        return _answer(call, fields, key, info)

    def _authorize(self, call: S3Call, principal: Principal | None, key: str) -> ObjectStore:
        context = request_context(call, principal, None)
        if principal is not None:
            context.update({"s3:authType": "POST", "s3:signatureversion": SIGV4})
        access = Access(
            self._evaluator,
            principal,
            context,
            account_id=self._account_id,
            bucket_policies=self._bucket_policies,
        )
        try:
            store = self._buckets.store(call.bucket)
        except port.NoSuchBucket as exc:
            if access.allows("s3:PutObject", call.bucket, key, bucket_exists=False):
                raise NoSuchBucket(BucketName=call.bucket) from exc
            raise AccessDenied() from exc
        access.require("s3:PutObject", call.bucket, key)
        return store


def _key(fields: Mapping[str, str], file: FormPart | None) -> str:
    if "key" not in fields:
        raise InvalidArgument(
            "Bucket POST must contain a field named 'key'.  If it is specified, please check "
            "the order of the fields.",
            ArgumentName="key",
        )
    if file is None:
        raise InvalidArgument(
            "POST requires exactly one file upload per request.", ArgumentName="file"
        )
    return objects.checked_key(fields["key"].replace("${filename}", file.filename or ""))


async def _store(
    store: ObjectStore,
    key: str,
    fields: Mapping[str, str],
    form: FormReader,
    length_range: tuple[int, int | None],
) -> ObjectInfo:
    headers = {_FIELD_HEADERS.get(name, name): value for name, value in fields.items()}
    attributes = metadata.attributes_from(headers)
    writer = store.writer(key)
    try:
        async for chunk in form.file_chunks():
            writer.write(chunk)
            check_size(writer.size, length_range, complete=False)
        check_size(writer.size, length_range, complete=True)
        # The commit fsyncs: off the event loop (the thread keeps the creation context).
        return await asyncio.to_thread(writer.commit, attributes)
    finally:
        writer.abort()


def _answer(call: S3Call, fields: Mapping[str, str], key: str, info: ObjectInfo) -> S3Response:
    etag = quoted(info.etag)
    location = _location(call, key)
    headers = [(b"etag", etag.encode()), (b"location", location.encode())]
    redirect = fields.get("success_action_redirect") or fields.get("redirect")
    if redirect:
        query = urlencode({"bucket": call.bucket, "key": key, "etag": etag})
        separator = "&" if "?" in redirect else "?"
        headers[1] = (b"location", f"{redirect}{separator}{query}".encode())
        return empty_response(303, headers)
    status = _STATUSES.get(fields.get("success_action_status", ""), 204)
    if status != 201:
        return empty_response(status, headers)
    parts = [
        element("Location", location),
        element("Bucket", call.bucket),
        element("Key", key),
        element("ETag", etag),
    ]
    return xml_response(document("PostResponse", parts, namespace=False), 201, headers)


def _location(call: S3Call, key: str) -> str:
    scheme = "https" if call.secure else "http"
    host = call.headers.get("host", "localhost")
    return f"{scheme}://{host}/{quote(call.bucket)}/{quote(key)}"
