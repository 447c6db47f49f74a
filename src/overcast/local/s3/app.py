"""The local S3 endpoint: a raw ASGI app serving S3's path-style REST API.

Unmodified boto3, the AWS CLI and presigned URLs work against it. Each request goes
through the steps S3 takes, in S3's order:

    read (bucket, key, operation) -> authenticate -> bucket -> authorize -> operation

- The request is read once (:mod:`.requests`): its query decoded exactly as its
  signature decodes it, a SigV2 URL's query-borne headers taken as headers.
- Authentication is SigV4, by header or query string, or a SigV2 presigned URL
  (:mod:`.auth`); the body is checked and decoded by the payload it returns
  (:mod:`.payload`), and how the request was signed becomes condition keys.
- A missing bucket is ``NoSuchBucket`` for a caller whose own policies would allow the
  operation on it (the account's root user always), and ``AccessDenied`` for anyone
  else, so that a stranger learns nothing about which buckets exist.
- Every request is authorized before any data is read or changed (:mod:`.actions`);
  a denied request changes nothing and reads nothing, not even its body.
- Every answer carries ``x-amz-request-id`` and ``x-amz-id-2``; errors are S3's XML
  (none for HEAD). An unexpected failure is a logged 500 ``InternalError``; so is a
  failure of the object store (a full disk, an I/O error), whose message tells what
  failed. Nothing is acknowledged that was not stored whole.
- A browser-based form upload (``POST /<bucket>``) is signed in its form, not its
  headers: it is authenticated and authorized by :mod:`.post_upload`.
- CORS (:mod:`.cors`): a preflight (``OPTIONS``) is answered from the bucket's CORS
  configuration before, and without, authentication; any other request with an
  ``Origin`` that a rule allows gets that rule's CORS headers, on errors too.
- Object bodies stream out in 256 KiB chunks straight from the object store's file,
  with ASGI flow control: a 5 GB object costs one chunk of memory.

Per request the hot path is: one pass over the headers, a SigV4 check, a ``stat`` of
the bucket's catalog, one policy evaluation, one catalog lookup, and the body's
chunks. Only commits that fsync, listings, deletes and multipart assembly go to a
worker thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from starlette.types import Message, Receive, Scope, Send

from overcast.local.events.origin import objects_created_by
from overcast.local.iam.evaluation import PolicyEvaluator
from overcast.local.iam.policy import Policy
from overcast.local.s3 import objects
from overcast.local.s3.actions import (
    ACTIONS,
    Access,
    operation_context,
    request_context,
)
from overcast.local.s3.auth import S3Authenticator, S3Request
from overcast.local.s3.buckets import BucketOperations
from overcast.local.s3.copy import CopyOperation
from overcast.local.s3.cors import Cors
from overcast.local.s3.cors_config import CorsConfigurations, MemoryCorsConfigurations
from overcast.local.s3.deletes import delete_objects
from overcast.local.s3.errors import AccessDenied, NoSuchBucket, S3Error
from overcast.local.s3.exchange import Buckets, Exchange, Handler
from overcast.local.s3.listing import ContinuationTokens, Listings
from overcast.local.s3.multipart import MultipartOperations
from overcast.local.s3.multipart_listing import MultipartListings
from overcast.local.s3.post_upload import PostUploads
from overcast.local.s3.requests import Operation, S3Call, read_call
from overcast.local.s3.responses import (
    RequestIds,
    S3Response,
    error_response,
    id_headers,
)
from overcast.local.s3.uploads import UploadStore
from overcast.local.s3.xml import Owner
from overcast.ports.objects import ObjectStore
from overcast.ports.objects import exceptions as port

logger = logging.getLogger(__name__)

TOKEN_KEY_FILE = ".listing-token-key"
# Bodies go out in 256 KiB writes: TLS encrypts them faster per byte than 1 MiB ones
# (the buffers stay in the CPU's cache); measured ~25% more 1 MiB GETs/s over HTTPS.
STREAM_CHUNK = 256 * 1024


class S3Endpoint:
    """S3's REST API over the local buckets, as an ASGI app (see the module docstring).

    ``bucket_policies(name)`` gives a bucket's policies; ``uploads_root`` keeps the
    multipart uploads in progress (and the key of the listings' continuation tokens).
    ``source_arn_header`` names the header through which the local CDN edge, signing
    as a service principal, tells ``aws:SourceArn``; ``None`` trusts no such header.
    ``cors`` keeps the buckets' CORS configurations (in memory unless given).
    """

    def __init__(
        self,
        buckets: Buckets,
        authenticator: S3Authenticator,
        evaluator: PolicyEvaluator,
        *,
        bucket_policies: Callable[[str], Sequence[Policy]],
        account_id: str,
        region: str,
        clock: Callable[[], datetime],
        uploads_root: Path,
        source_arn_header: str | None = None,
        cors: CorsConfigurations | None = None,
    ) -> None:
        self._buckets = buckets
        self._authenticator = authenticator
        self._evaluator = evaluator
        self._bucket_policies = bucket_policies
        self._account_id = account_id
        self._source_arn_header = source_arn_header
        self._ids = RequestIds()
        self.uploads = UploadStore(uploads_root, clock)
        self._post_uploads = PostUploads(
            buckets,
            authenticator,
            evaluator,
            bucket_policies=bucket_policies,
            account_id=account_id,
            clock=clock,
        )
        owner = Owner.of_account(account_id)
        multipart = MultipartOperations(self.uploads)
        self._cors = Cors(buckets, cors if cors is not None else MemoryCorsConfigurations())
        self._handlers = _handlers(
            BucketOperations(buckets, self.uploads, region=region, owner=owner),
            Listings(ContinuationTokens(uploads_root / TOKEN_KEY_FILE), owner),
            CopyOperation(buckets),
            multipart,
            MultipartListings(self.uploads, multipart, owner),
            self._cors,
        )

    def recover(self) -> None:
        """Clean what a crash left of multipart uploads: once, at start-up."""
        self.uploads.recover()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await _lifespan(receive, send)
            return
        request_id, host_id = self._ids.new()
        head = scope["method"] == "HEAD"
        resource = str(scope.get("path", "/"))
        body = _RequestBody(receive) if _has_body(scope) else None
        try:
            call = read_call(scope)
            resource = call.resource
            ids = (request_id, host_id)
            response = await self._serve(call, body.receive if body else receive, ids)
        except S3Error as error:
            if error.status >= 500:
                logger.warning("%s %s: %s", scope["method"], resource, error.message)
            response = error_response(error, resource, request_id, host_id, head=head)
        except Exception:
            logger.exception("%s %s: the local S3 endpoint failed", scope["method"], resource)
            response = error_response(S3Error(), resource, request_id, host_id, head=head)
        else:
            response.headers += id_headers(request_id, host_id)
        response.headers += self._cors.response_headers(scope)
        if body is not None and not body.read:
            # Answered before the body was read (an error, or a client that sent
            # "Expect: 100-continue" and now will not send it): the body's bytes
            # cannot be told from the next request's, so the connection ends here.
            response.headers.append((b"connection", b"close"))
        await _send(response, send)

    async def _serve(self, call: S3Call, receive: Receive, ids: tuple[str, str]) -> S3Response:
        if call.operation is Operation.POST_OBJECT:  # signed in its form, not its headers
            return await self._post_uploads.serve(call, receive, ids)
        if call.operation is Operation.PREFLIGHT:  # never signed
            return self._cors.preflight(call, ids)
        request = S3Request(
            call.method,
            call.raw_path,
            call.raw_query,
            call.header_pairs,
            call.secure,
            call.query_pairs,
        )
        authentication = self._authenticator.authenticate(request)
        session = authentication.session
        principal = session.principal if session is not None else None
        context = request_context(
            call, principal, authentication.signing, source_arn_header=self._source_arn_header
        )
        access = Access(
            self._evaluator,
            principal,
            context,
            account_id=self._account_id,
            bucket_policies=self._bucket_policies,
        )
        self._check_owner(call)
        store = self._bucket(call, access)
        self._authorize(call, access)
        exchange = Exchange(call, authentication.payload, access, receive, store)
        try:
            with objects_created_by(call, principal, *ids):  # what object events tell
                return await self._handlers[call.operation](exchange)
        except port.InvalidKey as exc:
            raise objects.key_error(exc, call.key) from exc
        except port.NoSuchBucket as exc:  # deleted while the request was served
            raise NoSuchBucket(BucketName=call.bucket) from exc
        except port.ObjectStoreUnavailable as exc:
            logger.error("%s %s: %s", call.method, call.resource, exc)
            raise S3Error(
                f"{S3Error.default_message} The local object store failed: {exc}"
            ) from exc

    def _check_owner(self, call: S3Call) -> None:
        # S3: a request naming another account in x-amz-expected-bucket-owner (or
        # x-amz-source-expected-bucket-owner, for a copy's source) is denied.
        for name in ("x-amz-expected-bucket-owner", "x-amz-source-expected-bucket-owner"):
            owner = call.headers.get(name)
            if owner is not None and owner != self._account_id:
                raise AccessDenied()

    def _bucket(self, call: S3Call, access: Access) -> ObjectStore | None:
        """The bucket's objects; for a missing bucket, S3's answer to this caller."""
        if not call.bucket or call.operation is Operation.CREATE_BUCKET:
            return None
        try:
            return self._buckets.store(call.bucket)
        except port.NoSuchBucket as exc:
            action = ACTIONS[call.operation] or "s3:DeleteObject"
            key = call.key or None
            if access.allows(action, call.bucket, key, bucket_exists=False):
                raise NoSuchBucket(BucketName=call.bucket) from exc
            raise AccessDenied() from exc

    def _authorize(self, call: S3Call, access: Access) -> None:
        action = ACTIONS[call.operation]
        if action is None:
            return  # authorized key by key inside the operation
        key = call.key or None
        extra = operation_context(call)
        exists = call.operation is not Operation.CREATE_BUCKET
        if not access.allows(action, call.bucket, key, extra, bucket_exists=exists):
            raise AccessDenied()


def _handlers(
    buckets: BucketOperations,
    listings: Listings,
    copy: CopyOperation,
    multipart: MultipartOperations,
    uploads: MultipartListings,
    cors: Cors,
) -> Mapping[Operation, Handler]:
    return {
        Operation.LIST_BUCKETS: buckets.list_buckets,
        Operation.CREATE_BUCKET: buckets.create_bucket,
        Operation.HEAD_BUCKET: buckets.head_bucket,
        Operation.DELETE_BUCKET: cors.forgetting(buckets.delete_bucket),
        Operation.GET_BUCKET_LOCATION: buckets.get_bucket_location,
        Operation.LIST_OBJECTS: listings.list_objects,
        Operation.LIST_OBJECTS_V2: listings.list_objects_v2,
        Operation.LIST_OBJECT_VERSIONS: listings.list_object_versions,
        Operation.LIST_MULTIPART_UPLOADS: uploads.list_uploads,
        Operation.DELETE_OBJECTS: delete_objects,
        Operation.PUT_OBJECT: objects.put_object,
        Operation.COPY_OBJECT: copy.copy_object,
        Operation.GET_OBJECT: objects.get_object,
        Operation.HEAD_OBJECT: objects.head_object,
        Operation.DELETE_OBJECT: objects.delete_object,
        Operation.CREATE_MULTIPART_UPLOAD: multipart.create,
        Operation.UPLOAD_PART: multipart.upload_part,
        Operation.COMPLETE_MULTIPART_UPLOAD: multipart.complete,
        Operation.ABORT_MULTIPART_UPLOAD: multipart.abort,
        Operation.LIST_PARTS: uploads.list_parts,
        Operation.GET_BUCKET_CORS: cors.get_bucket_cors,
        Operation.PUT_BUCKET_CORS: cors.put_bucket_cors,
        Operation.DELETE_BUCKET_CORS: cors.delete_bucket_cors,
    }


class _RequestBody:
    """Wraps ``receive`` to tell whether the request's body was read to its end."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.read = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.read = True
        return message


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return bool(value.strip() != b"0")
        if name == b"transfer-encoding":
            return True
    return False


async def _send(response: S3Response, send: Send) -> None:
    await send(
        {"type": "http.response.start", "status": response.status, "headers": response.headers}
    )
    reader = response.reader
    if reader is None:
        await send({"type": "http.response.body", "body": response.body})
        return
    with reader:
        chunks = reader.chunks(STREAM_CHUNK)
        pending = next(chunks, b"")
        for chunk in chunks:
            await send({"type": "http.response.body", "body": pending, "more_body": True})
            pending = chunk
        await send({"type": "http.response.body", "body": pending})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
