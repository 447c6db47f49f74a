"""Authorizing an S3 request as S3 does: each operation's IAM action, resource and keys.

What it mirrors ("Actions, resources, and condition keys for Amazon S3", "How Amazon S3
authorizes a request"):

- Each operation is one action on one resource: ``s3:GetObject`` on
  ``arn:aws:s3:::<bucket>/<key>``, ``s3:ListBucket`` on ``arn:aws:s3:::<bucket>``,
  ``s3:ListAllMyBuckets`` on every bucket. Operations without an action of their own
  use the action S3 documents for them: HeadObject is ``s3:GetObject``, HeadBucket and
  ListObjects(V2) are ``s3:ListBucket``, ListObjectVersions ``s3:ListBucketVersions``,
  the multipart calls that write (Create, UploadPart, Complete) are ``s3:PutObject``,
  AbortMultipartUpload ``s3:AbortMultipartUpload``, ListParts
  ``s3:ListMultipartUploadParts``, ListMultipartUploads
  ``s3:ListBucketMultipartUploads``, GetBucketCors ``s3:GetBucketCORS``, PutBucketCors
  and DeleteBucketCors both ``s3:PutBucketCORS``. DeleteObjects is authorized key by key
  as ``s3:DeleteObject``; CopyObject needs ``s3:GetObject`` on its source as well as
  ``s3:PutObject`` on its destination. A CORS preflight is not authorized at all.
- Condition keys of the request: ``aws:SecureTransport``, ``aws:SourceIp``,
  ``s3:TlsVersion`` over TLS (when the server tells the version); for signed requests
  those of the signature (``s3:authType``, ``s3:signatureversion``,
  ``s3:signatureAge``, ``s3:x-amz-content-sha256``: see :mod:`.signing`).
- Condition keys of the operation, when the request has the parameter or header:
  ``s3:prefix``, ``s3:delimiter`` and ``s3:max-keys`` for the listings;
  ``s3:x-amz-copy-source``, ``s3:x-amz-metadata-directive`` and
  ``s3:x-amz-server-side-encryption`` for the writes (``s3:PutObject``: PutObject,
  CopyObject, CreateMultipartUpload), as S3's service authorization reference lists
  them for that action.
- ``aws:SourceArn`` is set by an AWS service calling on a customer's behalf (CloudFront
  with origin access control). The local CDN edge signs its origin requests as the
  service principal and names its distribution in a header; the endpoint trusts that
  header only from a service principal (``Principal.arn`` such as
  ``cloudfront.amazonaws.com``), and only when it was told the header's name.
- Both the caller's identity policies and the bucket's policy apply (evaluated by
  :class:`~overcast.local.iam.evaluation.PolicyEvaluator`); the bucket belongs to the
  endpoint's account.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from overcast.local.iam.evaluation import AuthorizationRequest, PolicyEvaluator
from overcast.local.iam.policy import Policy
from overcast.local.iam.principals import Principal
from overcast.local.s3.errors import AccessDenied
from overcast.local.s3.requests import Operation, S3Call
from overcast.local.s3.signing import Signing

BucketPolicies = Callable[[str], Sequence[Policy]]
Context = dict[str, str]

ALL_BUCKETS = "arn:aws:s3:::*"

# The action each operation needs (None: authorized inside the operation, key by key).
ACTIONS: Mapping[Operation, str | None] = {
    Operation.LIST_BUCKETS: "s3:ListAllMyBuckets",
    Operation.CREATE_BUCKET: "s3:CreateBucket",
    Operation.HEAD_BUCKET: "s3:ListBucket",
    Operation.DELETE_BUCKET: "s3:DeleteBucket",
    Operation.GET_BUCKET_LOCATION: "s3:GetBucketLocation",
    Operation.LIST_OBJECTS: "s3:ListBucket",
    Operation.LIST_OBJECTS_V2: "s3:ListBucket",
    Operation.LIST_OBJECT_VERSIONS: "s3:ListBucketVersions",
    Operation.LIST_MULTIPART_UPLOADS: "s3:ListBucketMultipartUploads",
    Operation.DELETE_OBJECTS: None,
    Operation.PUT_OBJECT: "s3:PutObject",
    Operation.COPY_OBJECT: "s3:PutObject",
    Operation.GET_OBJECT: "s3:GetObject",
    Operation.HEAD_OBJECT: "s3:GetObject",
    Operation.DELETE_OBJECT: "s3:DeleteObject",
    Operation.CREATE_MULTIPART_UPLOAD: "s3:PutObject",
    Operation.UPLOAD_PART: "s3:PutObject",
    Operation.COMPLETE_MULTIPART_UPLOAD: "s3:PutObject",
    Operation.ABORT_MULTIPART_UPLOAD: "s3:AbortMultipartUpload",
    Operation.LIST_PARTS: "s3:ListMultipartUploadParts",
    Operation.GET_BUCKET_CORS: "s3:GetBucketCORS",
    Operation.PUT_BUCKET_CORS: "s3:PutBucketCORS",
    Operation.DELETE_BUCKET_CORS: "s3:PutBucketCORS",  # S3 has no delete action for CORS
}

_LISTINGS = frozenset(
    {Operation.LIST_OBJECTS, Operation.LIST_OBJECTS_V2, Operation.LIST_OBJECT_VERSIONS}
)
# Listing parameters and the condition keys S3 gives them.
_LIST_KEYS = {"prefix": "s3:prefix", "delimiter": "s3:delimiter", "max-keys": "s3:max-keys"}
_WRITES = frozenset(
    {Operation.PUT_OBJECT, Operation.COPY_OBJECT, Operation.CREATE_MULTIPART_UPLOAD}
)
# Headers of the writes and the condition keys S3 gives them.
_WRITE_KEYS = {
    name: f"s3:{name}"
    for name in (
        "x-amz-copy-source",
        "x-amz-metadata-directive",
        "x-amz-server-side-encryption",
    )
}


def resource_arn(bucket: str, key: str | None = None) -> str:
    """The ARN of a bucket, or of an object when ``key`` is given."""
    if not bucket:
        return ALL_BUCKETS
    return f"arn:aws:s3:::{bucket}" if key is None else f"arn:aws:s3:::{bucket}/{key}"


def request_context(
    call: S3Call,
    principal: Principal | None,
    signing: Signing | None,
    *,
    source_arn_header: str | None = None,
) -> Context:
    """The condition keys a request carries, whatever its operation."""
    context = {
        "aws:SecureTransport": "true" if call.secure else "false",
        "aws:SourceIp": call.source_ip,
    }
    if call.tls_version is not None:
        context["s3:TlsVersion"] = call.tls_version
    if signing is not None:
        context.update(signing.condition_keys())
    if principal is not None and source_arn_header is not None and is_service(principal):
        source_arn = call.headers.get(source_arn_header)
        if source_arn:
            context["aws:SourceArn"] = source_arn
    return context


def operation_context(call: S3Call) -> Context:
    """The condition keys of the operation itself (its parameters and headers)."""
    if call.operation in _LISTINGS:
        return {key: call.query[name] for name, key in _LIST_KEYS.items() if name in call.query}
    if call.operation in _WRITES:
        headers = call.headers
        return {key: headers[name] for name, key in _WRITE_KEYS.items() if name in headers}
    return {}


def is_service(principal: Principal) -> bool:
    """An AWS service principal (``cloudfront.amazonaws.com``), not a user or role."""
    return not principal.arn.startswith("arn:") and principal.arn.endswith(".amazonaws.com")


class Access:
    """What one caller may do during one request: every check of the request goes here."""

    def __init__(
        self,
        evaluator: PolicyEvaluator,
        principal: Principal | None,
        context: Context,
        *,
        account_id: str,
        bucket_policies: BucketPolicies,
    ) -> None:
        self.principal = principal
        self._evaluator = evaluator
        self._context = context
        self._account_id = account_id
        self._bucket_policies = bucket_policies

    @property
    def signed(self) -> bool:
        return self.principal is not None

    def allows(
        self,
        action: str,
        bucket: str,
        key: str | None = None,
        extra: Context | None = None,
        *,
        bucket_exists: bool = True,
    ) -> bool:
        """Whether ``action`` on the bucket (or its ``key``) is allowed; a missing bucket
        has no bucket policy."""
        context = {**self._context, **extra} if extra else self._context
        request = AuthorizationRequest(
            principal=self.principal,
            action=action,
            resource=resource_arn(bucket, key),
            context=context,
            resource_account=self._account_id,
        )
        policies = self._bucket_policies(bucket) if bucket and bucket_exists else ()
        return self._evaluator.allowed(request, policies)

    def require(
        self, action: str, bucket: str, key: str | None = None, extra: Context | None = None
    ) -> None:
        """Raise ``AccessDenied`` unless :meth:`allows`."""
        if not self.allows(action, bucket, key, extra):
            raise AccessDenied()
