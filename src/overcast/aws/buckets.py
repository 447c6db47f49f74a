"""S3 buckets from :class:`overcast.spec.Bucket` declarations, with secure defaults.

Every bucket:

- blocks all public access and enforces bucket-owner ownership (no ACLs);
- encrypts at rest with S3-managed keys (SSE-S3, free);
- denies any request not made over TLS 1.2 or later (``aws:SecureTransport`` false, or
  ``s3:TlsVersion`` < 1.2), the bucket policy AWS recommends;
- logs server access to the stack's access-log bucket, under ``<bucket>/``;
- aborts incomplete multipart uploads after 7 days (their parts are billed until then);
- is kept when its stack is deleted.

A service with distributions has one more bucket, for CloudFront's access logs
(:func:`cdn_log_bucket`), with the same defaults but ACLs, which CloudFront needs.

The bucket's name is CloudFormation's choice (S3 names are global); functions and
clients learn it from the environment and the stack's outputs.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from overcast import spec
from overcast.aws import nag
from overcast.aws.naming import construct_id

# What a function that declares a bucket may do with its objects.
OBJECT_ACTIONS = (
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)
_ABORT_UPLOADS_AFTER = Duration.days(7)
_KEEP_ACCESS_LOGS = Duration.days(90)


def access_log_bucket(scope: Construct) -> s3.Bucket:
    """The bucket that receives the stack's server access logs (kept 90 days)."""
    logs = _secure_bucket(
        scope,
        "AccessLogs",
        s3.LifecycleRule(
            expiration=_KEEP_ACCESS_LOGS,
            abort_incomplete_multipart_upload_after=_ABORT_UPLOADS_AFTER,
        ),
    )
    nag.acknowledge(logs, nag.ACCESS_LOG_BUCKET)
    return logs


def cdn_log_bucket(scope: Construct, access_logs: s3.IBucket | None) -> s3.Bucket:
    """The bucket that receives CloudFront's standard access logs (kept 90 days).

    CloudFront delivers standard logs by writing each object with an ACL granting the
    bucket owner full control ("Configure standard logging (legacy)": "the bucket must
    have ACL access enabled"), so this bucket, alone, is ``BucketOwnerPreferred``
    rather than ACL-free; its public access stays blocked. Its own server access
    logs go to the stack's access-log bucket when there is one.
    """
    logs = _secure_bucket(
        scope,
        "CdnLogs",
        s3.LifecycleRule(
            expiration=_KEEP_ACCESS_LOGS,
            abort_incomplete_multipart_upload_after=_ABORT_UPLOADS_AFTER,
        ),
        access_logs=access_logs,
        access_log_prefix="cdn-logs/" if access_logs else None,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
    )
    if access_logs is None:
        nag.acknowledge(logs, nag.CDN_LOG_BUCKET)
    return logs


def deploy_bucket(scope: Construct, declaration: spec.Bucket, access_logs: s3.IBucket) -> s3.Bucket:
    """The S3 bucket of a declaration."""
    return _secure_bucket(
        scope,
        construct_id("Bucket", declaration.name),
        s3.LifecycleRule(abort_incomplete_multipart_upload_after=_ABORT_UPLOADS_AFTER),
        access_logs=access_logs,
        access_log_prefix=f"{declaration.name}/",
    )


def grant_bucket(role: iam.IRole, bucket: s3.IBucket) -> None:
    """Let ``role`` list ``bucket`` and read, write and delete its objects (the caller
    acknowledges the ``bucket/*`` wildcard)."""
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn])
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=list(OBJECT_ACTIONS), resources=[bucket.arn_for_objects("*")])
    )


def _secure_bucket(
    scope: Construct,
    construct: str,
    lifecycle: s3.LifecycleRule,
    *,
    access_logs: s3.IBucket | None = None,
    access_log_prefix: str | None = None,
    object_ownership: s3.ObjectOwnership = s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
) -> s3.Bucket:
    return s3.Bucket(
        scope,
        construct,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=object_ownership,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        minimum_tls_version=1.2,
        removal_policy=RemovalPolicy.RETAIN,
        lifecycle_rules=[lifecycle],
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix=access_log_prefix,
    )
