"""IAM policy documents that declarations imply, written once for the local cloud and AWS.

The local cloud evaluates these documents itself; the AWS deployer attaches the very
same documents to the roles it creates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# The identity id of the caller of an identity pool's role, as a policy variable
# (https://docs.aws.amazon.com/cognito/latest/developerguide/iam-roles.html).
IDENTITY_ID_VARIABLE = "${cognito-identity.amazonaws.com:sub}"

PolicyDocument = dict[str, Any]


def user_folder_policy(bucket_name: str) -> PolicyDocument:
    """AWS's per-user-folder policy: each identity lists, reads, writes and deletes
    under ``<identity id>/`` of the bucket, and nowhere else.

    Mirrors "Amazon S3: Allows Amazon Cognito users to access objects in their bucket"
    (IAM User Guide, example policies): ``s3:ListBucket`` on the bucket only with an
    ``s3:prefix`` inside the folder; object actions on ``bucket/<identity id>/*``.
    Multipart uploads are authorized as ``s3:PutObject``; aborting one and listing
    its parts are actions of their own, granted on the same folder.
    """
    folder = f"{IDENTITY_ID_VARIABLE}/"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ListYourFolder",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": f"arn:aws:s3:::{bucket_name}",
                "Condition": {"StringLike": {"s3:prefix": f"{folder}*"}},
            },
            {
                "Sid": "ReadWriteYourFolder",
                "Effect": "Allow",
                "Action": [
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:DeleteObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ],
                "Resource": f"arn:aws:s3:::{bucket_name}/{folder}*",
            },
        ],
    }


def identity_pool_trust_policy(identity_pool_id: str) -> PolicyDocument:
    """The authenticated role's trust policy: only this pool's authenticated identities
    may assume it with web identity (Cognito's documented role trust policy)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": "cognito-identity.amazonaws.com"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {"cognito-identity.amazonaws.com:aud": identity_pool_id},
                    "ForAnyValue:StringLike": {
                        "cognito-identity.amazonaws.com:amr": "authenticated"
                    },
                },
            }
        ],
    }


# What a function may do with each kind of resource it declares.
TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
)
OBJECT_ACTIONS = (
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)

INVALIDATION_ACTION = "cloudfront:CreateInvalidation"
CLOUDFRONT_SERVICE = "cloudfront.amazonaws.com"


def function_policy(
    *,
    table_arns: Sequence[str] = (),
    bucket_names: Sequence[str] = (),
    user_pool_arns: Sequence[str] = (),
    distribution_arns: Sequence[str] = (),
) -> PolicyDocument:
    """A function role's permissions: exactly what the function declares it uses.

    Tables: item and query actions on the table and its indexes (DynamoDB authorizes a
    query of an index on ``<table arn>/index/<name>``). Buckets: object actions on
    ``<bucket>/*`` and ``s3:ListBucket`` on the bucket. User pools: the admin
    operations (``cognito-idp:Admin*``) on the pool's ARN. Distributions:
    ``cloudfront:CreateInvalidation`` on the distribution's ARN. Scans are not granted:
    no request path of an Overcast app scans.
    """
    statements: list[dict[str, Any]] = []
    if table_arns:
        resources = [arn for table in table_arns for arn in (table, f"{table}/index/*")]
        statements.append(_allow("Tables", list(TABLE_ACTIONS), resources))
    if bucket_names:
        buckets = [f"arn:aws:s3:::{name}" for name in bucket_names]
        statements.append(_allow("ListBuckets", ["s3:ListBucket"], buckets))
        objects = [f"{bucket}/*" for bucket in buckets]
        statements.append(_allow("Objects", list(OBJECT_ACTIONS), objects))
    if user_pool_arns:
        statements.append(_allow("UserPools", ["cognito-idp:Admin*"], list(user_pool_arns)))
    if distribution_arns:
        statements.append(_allow("Invalidations", [INVALIDATION_ACTION], list(distribution_arns)))
    return {"Version": "2012-10-17", "Statement": statements}


def _allow(sid: str, actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}


def lambda_trust_policy() -> PolicyDocument:
    """A function role's trust policy: Lambda may assume it (as the deployer's roles)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def oac_bucket_policy(bucket_name: str, distribution_arns: Sequence[str]) -> PolicyDocument:
    """The bucket policy of an S3 origin behind origin access control: CloudFront's
    service principal may read objects, for these distributions only.

    Mirrors the policy of "Restrict access to an Amazon S3 origin" (CloudFront Developer
    Guide), which CDK's ``S3BucketOrigin.withOriginAccessControl`` writes: ``Allow``
    ``s3:GetObject`` on ``arn:aws:s3:::<bucket>/*`` to ``{"Service":
    "cloudfront.amazonaws.com"}`` on condition ``StringEquals`` ``AWS:SourceArn`` = the
    distribution's ARN (several ARNs: any of them). Nothing else is allowed, so anonymous
    reads, listings and writes stay refused.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowCloudFrontServicePrincipalReadOnly",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDFRONT_SERVICE},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket_name}/*",
                "Condition": {"StringEquals": {"AWS:SourceArn": list(distribution_arns)}},
            }
        ],
    }
