"""Cognito's operations by name: request shape, handler, and whether IAM signs it.

Each handler turns a validated request into a call on the domain and the result
into Cognito's response structure (names and shapes from botocore's service
model). Operations Cognito serves without AWS credentials (SignUp, InitiateAuth,
GetUser, ...) are public; the ``Admin*`` operations need a SigV4 signature, which
the protocol checks before a handler runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from overcast.local.identity import shapes
from overcast.local.identity.administration import Administration
from overcast.local.identity.authentication import Authentication, AuthOutcome, NewPasswordChallenge
from overcast.local.identity.codes import CodeDelivery
from overcast.local.identity.errors import InvalidParameter
from overcast.local.identity.records import User
from overcast.local.identity.registration import Registration
from overcast.local.identity.srp_sign_in import PasswordVerifierChallenge
from overcast.local.identity.users import attribute_list

Json = dict[str, Any]
R = TypeVar("R", bound=shapes.Shape)


@dataclass(frozen=True)
class UserPools:
    """The user pool operations, without HTTP."""

    registration: Registration
    authentication: Authentication
    administration: Administration


@dataclass(frozen=True)
class Operation(Generic[R]):
    """One ``X-Amz-Target`` operation."""

    request: type[R]
    handler: Callable[[UserPools, R], Json]
    signed: bool = False


def _delivery(delivery: CodeDelivery) -> Json:
    return {
        "Destination": delivery.destination,
        "DeliveryMedium": delivery.medium,
        "AttributeName": delivery.attribute,
    }


def _auth(outcome: AuthOutcome) -> Json:
    if isinstance(outcome, PasswordVerifierChallenge):
        # Cognito sends no Session with this challenge: the SECRET_BLOCK stands for it.
        return {
            "ChallengeName": "PASSWORD_VERIFIER",
            "ChallengeParameters": dict(outcome.parameters),
        }
    if isinstance(outcome, NewPasswordChallenge):
        return {
            "ChallengeName": "NEW_PASSWORD_REQUIRED",
            "Session": outcome.session,
            "ChallengeParameters": dict(outcome.parameters),
        }
    result: Json = {
        "AccessToken": outcome.access_token,
        "ExpiresIn": outcome.expires_in,
        "TokenType": "Bearer",
        "IdToken": outcome.id_token,
    }
    if outcome.refresh_token is not None:
        result["RefreshToken"] = outcome.refresh_token
    return {"ChallengeParameters": {}, "AuthenticationResult": result}


def _user_details(user: User, *, attributes_key: str) -> Json:
    return {
        "Username": user.sub,
        attributes_key: attribute_list(user),
        "UserCreateDate": user.created_at.timestamp(),
        "UserLastModifiedDate": user.modified_at.timestamp(),
        "Enabled": True,
        "UserStatus": user.status.value,
    }


def sign_up(pools: UserPools, request: shapes.SignUpRequest) -> Json:
    result = pools.registration.sign_up(
        request.ClientId,
        request.Username,
        request.Password,
        shapes.attribute_pairs(request.UserAttributes),
    )
    return {
        "UserConfirmed": result.confirmed,
        "UserSub": result.user_sub,
        "CodeDeliveryDetails": _delivery(result.delivery),
    }


def confirm_sign_up(pools: UserPools, request: shapes.ConfirmSignUpRequest) -> Json:
    pools.registration.confirm_sign_up(request.ClientId, request.Username, request.ConfirmationCode)
    return {}


def resend_confirmation_code(pools: UserPools, request: shapes.ClientUserRequest) -> Json:
    delivery = pools.registration.resend_confirmation_code(request.ClientId, request.Username)
    return {"CodeDeliveryDetails": _delivery(delivery)}


def forgot_password(pools: UserPools, request: shapes.ClientUserRequest) -> Json:
    delivery = pools.registration.forgot_password(request.ClientId, request.Username)
    return {"CodeDeliveryDetails": _delivery(delivery)}


def confirm_forgot_password(pools: UserPools, request: shapes.ConfirmForgotPasswordRequest) -> Json:
    pools.registration.confirm_forgot_password(
        request.ClientId, request.Username, request.ConfirmationCode, request.Password
    )
    return {}


def initiate_auth(pools: UserPools, request: shapes.InitiateAuthRequest) -> Json:
    outcome = pools.authentication.initiate_auth(
        request.ClientId, request.AuthFlow, request.AuthParameters or {}
    )
    return _auth(outcome)


def respond_to_auth_challenge(
    pools: UserPools, request: shapes.RespondToAuthChallengeRequest
) -> Json:
    authentication = pools.authentication
    responses = request.ChallengeResponses or {}
    if request.ChallengeName == "PASSWORD_VERIFIER":
        return _auth(authentication.respond_to_password_verifier(request.ClientId, responses))
    if request.ChallengeName != "NEW_PASSWORD_REQUIRED":
        # The local pools issue no other challenge (no MFA, no devices, no custom auth).
        raise InvalidParameter(
            f"{request.ChallengeName} is not a challenge the local user pools issue; "
            "only PASSWORD_VERIFIER and NEW_PASSWORD_REQUIRED are."
        )
    outcome = authentication.respond_to_new_password(request.ClientId, request.Session, responses)
    return _auth(outcome)


def get_user(pools: UserPools, request: shapes.AccessTokenRequest) -> Json:
    user = pools.authentication.get_user(request.AccessToken)
    return {"Username": user.sub, "UserAttributes": attribute_list(user)}


def global_sign_out(pools: UserPools, request: shapes.AccessTokenRequest) -> Json:
    pools.authentication.global_sign_out(request.AccessToken)
    return {}


def admin_create_user(pools: UserPools, request: shapes.AdminCreateUserRequest) -> Json:
    user = pools.administration.create_user(
        request.UserPoolId,
        request.Username,
        shapes.attribute_pairs(request.UserAttributes),
        request.TemporaryPassword,
        request.MessageAction,
        request.DesiredDeliveryMediums or (),
    )
    return {"User": _user_details(user, attributes_key="Attributes")}


def admin_set_user_password(pools: UserPools, request: shapes.AdminSetUserPasswordRequest) -> Json:
    pools.administration.set_user_password(
        request.UserPoolId, request.Username, request.Password, request.Permanent
    )
    return {}


def admin_confirm_sign_up(pools: UserPools, request: shapes.AdminUserRequest) -> Json:
    pools.administration.confirm_sign_up(request.UserPoolId, request.Username)
    return {}


def admin_initiate_auth(pools: UserPools, request: shapes.AdminInitiateAuthRequest) -> Json:
    outcome = pools.authentication.admin_initiate_auth(
        request.UserPoolId, request.ClientId, request.AuthFlow, request.AuthParameters or {}
    )
    return _auth(outcome)


def admin_get_user(pools: UserPools, request: shapes.AdminUserRequest) -> Json:
    user = pools.administration.get_user(request.UserPoolId, request.Username)
    return _user_details(user, attributes_key="UserAttributes")


def admin_delete_user(pools: UserPools, request: shapes.AdminUserRequest) -> Json:
    pools.administration.delete_user(request.UserPoolId, request.Username)
    return {}


OPERATIONS: Mapping[str, Operation[Any]] = {
    "SignUp": Operation(shapes.SignUpRequest, sign_up),
    "ConfirmSignUp": Operation(shapes.ConfirmSignUpRequest, confirm_sign_up),
    "ResendConfirmationCode": Operation(shapes.ClientUserRequest, resend_confirmation_code),
    "ForgotPassword": Operation(shapes.ClientUserRequest, forgot_password),
    "ConfirmForgotPassword": Operation(
        shapes.ConfirmForgotPasswordRequest, confirm_forgot_password
    ),
    "InitiateAuth": Operation(shapes.InitiateAuthRequest, initiate_auth),
    "RespondToAuthChallenge": Operation(
        shapes.RespondToAuthChallengeRequest, respond_to_auth_challenge
    ),
    "GetUser": Operation(shapes.AccessTokenRequest, get_user),
    "GlobalSignOut": Operation(shapes.AccessTokenRequest, global_sign_out),
    "AdminCreateUser": Operation(shapes.AdminCreateUserRequest, admin_create_user, signed=True),
    "AdminSetUserPassword": Operation(
        shapes.AdminSetUserPasswordRequest, admin_set_user_password, signed=True
    ),
    "AdminConfirmSignUp": Operation(shapes.AdminUserRequest, admin_confirm_sign_up, signed=True),
    "AdminInitiateAuth": Operation(
        shapes.AdminInitiateAuthRequest, admin_initiate_auth, signed=True
    ),
    "AdminGetUser": Operation(shapes.AdminUserRequest, admin_get_user, signed=True),
    "AdminDeleteUser": Operation(shapes.AdminUserRequest, admin_delete_user, signed=True),
}
