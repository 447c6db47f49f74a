"""Cognito Identity's operations by name: request shape, handler, and whether IAM signs it.

Shapes and response members follow botocore's ``cognito-identity`` model.
``GetId``, ``GetOpenIdToken`` and ``GetCredentialsForIdentity`` are called without
AWS credentials (``authtype: none``); ``DescribeIdentityPool`` and
``ListIdentityPools`` are administration APIs and need a SigV4 signature, which
the protocol checks before a handler runs.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from pydantic import Field, StringConstraints

from overcast.local.federation.errors import InvalidParameter
from overcast.local.federation.identities import IdentityPools
from overcast.local.federation.pools import ActiveIdentityPool
from overcast.local.identity.shapes import Shape

Json = dict[str, Any]
R = TypeVar("R", bound=Shape)

IdentityPoolIdType = Annotated[
    str, StringConstraints(min_length=1, max_length=55, pattern=r"^[\w-]+:[0-9a-f-]+$")
]
IdentityIdType = IdentityPoolIdType
ProviderName = Annotated[str, StringConstraints(min_length=1, max_length=128)]
ProviderToken = Annotated[str, StringConstraints(min_length=1, max_length=50000)]
LoginsMap = Annotated[dict[ProviderName, ProviderToken], Field(max_length=10)]


class GetIdRequest(Shape):
    IdentityPoolId: IdentityPoolIdType
    AccountId: Annotated[str, StringConstraints(min_length=1, max_length=15)] | None = None
    Logins: LoginsMap | None = None


class IdentityRequest(Shape):
    """GetOpenIdToken and GetCredentialsForIdentity."""

    IdentityId: IdentityIdType
    Logins: LoginsMap | None = None
    CustomRoleArn: Annotated[str, StringConstraints(min_length=20, max_length=2048)] | None = None


class DescribeIdentityPoolRequest(Shape):
    IdentityPoolId: IdentityPoolIdType


class ListIdentityPoolsRequest(Shape):
    MaxResults: int
    NextToken: Annotated[str, StringConstraints(min_length=1, max_length=65535)] | None = None


@dataclass(frozen=True)
class Operation(Generic[R]):
    """One ``X-Amz-Target`` operation."""

    request: type[R]
    handler: Callable[[IdentityPools, R], Json]
    signed: bool = False


def get_id(pools: IdentityPools, request: GetIdRequest) -> Json:
    return {"IdentityId": pools.get_id(request.IdentityPoolId, request.Logins)}


def get_open_id_token(pools: IdentityPools, request: IdentityRequest) -> Json:
    token = pools.open_id_token(request.IdentityId, request.Logins)
    return {"IdentityId": request.IdentityId, "Token": token}


def get_credentials_for_identity(pools: IdentityPools, request: IdentityRequest) -> Json:
    session = pools.credentials(request.IdentityId, request.Logins, request.CustomRoleArn)
    assert session.expires_at is not None
    return {
        "IdentityId": request.IdentityId,
        "Credentials": {
            "AccessKeyId": session.credentials.access_key_id,
            "SecretKey": session.credentials.secret_access_key,
            "SessionToken": session.credentials.session_token,
            "Expiration": int(session.expires_at.timestamp()),
        },
    }


def describe_identity_pool(pools: IdentityPools, request: DescribeIdentityPoolRequest) -> Json:
    return _description(pools.directory.pool(request.IdentityPoolId))


def _description(pool: ActiveIdentityPool) -> Json:
    return {
        "IdentityPoolId": pool.pool_id,
        "IdentityPoolName": pool.name,
        "AllowUnauthenticatedIdentities": False,
        "AllowClassicFlow": True,  # GetOpenIdToken + AssumeRoleWithWebIdentity work
        "CognitoIdentityProviders": [
            {"ProviderName": provider.name, "ClientId": client_id, "ServerSideTokenCheck": False}
            for provider in pool.providers.values()
            for client_id in provider.client_ids
        ],
        "IdentityPoolTags": {},
    }


def list_identity_pools(pools: IdentityPools, request: ListIdentityPoolsRequest) -> Json:
    if not 1 <= request.MaxResults <= 60:
        raise InvalidParameter(
            f"1 validation error detected: Value '{request.MaxResults}' at 'maxResults' "
            "failed to satisfy constraint: Member must have value between 1 and 60"
        )
    everything = pools.directory.all()
    start = _start_after(request.NextToken, [pool.pool_id for pool in everything])
    page = everything[start : start + request.MaxResults]
    result: Json = {
        "IdentityPools": [
            {"IdentityPoolId": pool.pool_id, "IdentityPoolName": pool.name} for pool in page
        ]
    }
    if start + request.MaxResults < len(everything):
        result["NextToken"] = _token(page[-1].pool_id)
    return result


def _token(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode("ascii")


def _start_after(token: str | None, ids: list[str]) -> int:
    """The position after the pool a ``NextToken`` names (pools are ordered by id)."""
    if token is None:
        return 0
    try:
        last = base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise InvalidParameter("The pagination token is invalid.") from None
    return sum(1 for pool_id in ids if pool_id <= last)


OPERATIONS: dict[str, Operation[Any]] = {
    "GetId": Operation(GetIdRequest, get_id),
    "GetOpenIdToken": Operation(IdentityRequest, get_open_id_token),
    "GetCredentialsForIdentity": Operation(IdentityRequest, get_credentials_for_identity),
    "DescribeIdentityPool": Operation(
        DescribeIdentityPoolRequest, describe_identity_pool, signed=True
    ),
    "ListIdentityPools": Operation(ListIdentityPoolsRequest, list_identity_pools, signed=True),
}
