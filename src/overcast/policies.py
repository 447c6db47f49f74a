"""IAM policy documents that declarations imply, written once for the local cloud and AWS.

The local cloud evaluates these documents itself; the AWS deployer attaches the very
same documents to the roles it creates.
"""

from __future__ import annotations

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
