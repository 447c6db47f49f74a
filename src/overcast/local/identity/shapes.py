"""The operations' request shapes, from botocore's ``cognito-idp`` service model.

Requests are validated before anything runs, and a request that fails changes
nothing. Errors follow AWS's JSON protocol:

- The body is not a JSON object, or a member has the wrong JSON type:
  ``SerializationException`` (e.g. ``NUMBER_VALUE can not be converted to a String``).
- Missing required members and broken constraints (length, pattern, enum):
  ``InvalidParameterException: 2 validation errors detected: Value null at
  'username' failed to satisfy constraint: Member must not be null; ...``, members
  named in lower camel case and list items as ``userAttributes.1.member.name``.
  Values of sensitive members (passwords, usernames, tokens) are never echoed.

Members the local pools do not use (``AnalyticsMetadata``, ``ClientMetadata``,
``UserContextData``, ...) are accepted and ignored, as Cognito ignores them
without the Lambda triggers and analytics they feed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError
from pydantic_core import ErrorDetails

from overcast.local.identity.errors import InvalidParameter, SerializationError

S = TypeVar("S", bound="Shape")

ClientIdType = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[\w+]+$")]
UserPoolIdType = Annotated[
    str, StringConstraints(min_length=1, max_length=55, pattern=r"^[\w-]+_[0-9a-zA-Z]+$")
]
UsernameType = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$"),
]
PasswordType = Annotated[str, StringConstraints(max_length=256, pattern=r"[\S]+")]
ConfirmationCodeType = Annotated[
    str, StringConstraints(min_length=1, max_length=2048, pattern=r"[\S]+")
]
TokenModelType = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-_=.]+$")]
SessionType = Annotated[str, StringConstraints(min_length=20, max_length=4096)]
AttributeNameType = Annotated[str, StringConstraints(min_length=1, max_length=32)]
AttributeValueType = Annotated[str, StringConstraints(max_length=2048)]
AuthFlowType = Literal[
    "USER_SRP_AUTH",
    "REFRESH_TOKEN_AUTH",
    "REFRESH_TOKEN",
    "CUSTOM_AUTH",
    "ADMIN_NO_SRP_AUTH",
    "USER_PASSWORD_AUTH",
    "ADMIN_USER_PASSWORD_AUTH",
    "USER_AUTH",
]
ChallengeNameType = Literal[
    "SMS_MFA",
    "EMAIL_OTP",
    "SOFTWARE_TOKEN_MFA",
    "SELECT_MFA_TYPE",
    "MFA_SETUP",
    "PASSWORD_VERIFIER",
    "CUSTOM_CHALLENGE",
    "SELECT_CHALLENGE",
    "DEVICE_SRP_AUTH",
    "DEVICE_PASSWORD_VERIFIER",
    "ADMIN_NO_SRP_AUTH",
    "NEW_PASSWORD_REQUIRED",
    "SMS_OTP",
    "PASSWORD",
    "WEB_AUTHN",
    "PASSWORD_SRP",
]
_SENSITIVE = {"Username", "Password", "TemporaryPassword", "AccessToken", "Session", "Value"}


class Shape(BaseModel):
    """A request structure: JSON types strictly, unknown members ignored."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class Attribute(Shape):
    Name: AttributeNameType
    Value: AttributeValueType | None = None


def attribute_pairs(attributes: list[Attribute] | None) -> list[tuple[str, str]]:
    return [(item.Name, item.Value or "") for item in attributes or ()]


class SignUpRequest(Shape):
    ClientId: ClientIdType
    Username: UsernameType
    Password: PasswordType
    UserAttributes: list[Attribute] | None = None


class ConfirmSignUpRequest(Shape):
    ClientId: ClientIdType
    Username: UsernameType
    ConfirmationCode: ConfirmationCodeType


class ClientUserRequest(Shape):
    """ResendConfirmationCode and ForgotPassword."""

    ClientId: ClientIdType
    Username: UsernameType


class ConfirmForgotPasswordRequest(Shape):
    ClientId: ClientIdType
    Username: UsernameType
    ConfirmationCode: ConfirmationCodeType
    Password: PasswordType


class InitiateAuthRequest(Shape):
    AuthFlow: AuthFlowType
    ClientId: ClientIdType
    AuthParameters: dict[str, str] | None = None


class RespondToAuthChallengeRequest(Shape):
    ClientId: ClientIdType
    ChallengeName: ChallengeNameType
    Session: SessionType | None = None
    ChallengeResponses: dict[str, str] | None = None


class AccessTokenRequest(Shape):
    """GetUser and GlobalSignOut."""

    AccessToken: TokenModelType


class AdminUserRequest(Shape):
    """AdminConfirmSignUp, AdminGetUser and AdminDeleteUser."""

    UserPoolId: UserPoolIdType
    Username: UsernameType


class AdminCreateUserRequest(Shape):
    UserPoolId: UserPoolIdType
    Username: UsernameType
    UserAttributes: list[Attribute] | None = None
    TemporaryPassword: PasswordType | None = None
    MessageAction: Literal["RESEND", "SUPPRESS"] | None = None
    DesiredDeliveryMediums: list[Literal["SMS", "EMAIL"]] | None = None


class AdminSetUserPasswordRequest(Shape):
    UserPoolId: UserPoolIdType
    Username: UsernameType
    Password: PasswordType
    Permanent: bool = False


class AdminInitiateAuthRequest(Shape):
    UserPoolId: UserPoolIdType
    ClientId: ClientIdType
    AuthFlow: AuthFlowType
    AuthParameters: dict[str, str] | None = None


def required_parameter(parameters: Mapping[str, str], name: str) -> str:
    """An entry of ``AuthParameters`` or ``ChallengeResponses``; Cognito's error if absent."""
    value = parameters.get(name)
    if not value:
        raise InvalidParameter(f"Missing required parameter {name}")
    return value


def parse(shape: type[S], body: Any) -> S:
    """Validate a decoded JSON body as ``shape``, or raise Cognito's error for it."""
    if not isinstance(body, dict):
        raise SerializationError(f"{_json_kind(body)} can not be converted to a Structure")
    try:
        return shape.model_validate(body)
    except ValidationError as error:
        raise _translated(error.errors()) from None


_TYPE_NAMES = {"string_type": "a String", "bool_type": "a Boolean", "dict_type": "a Map"}


def _translated(errors: list[ErrorDetails]) -> Exception:
    for error in errors:
        if error["type"].endswith("_type") and error.get("input") is not None:
            expected = _TYPE_NAMES.get(
                error["type"], "a List" if "list" in error["type"] else "a Structure"
            )
            return SerializationError(
                f"{_json_kind(error['input'])} can not be converted to {expected}"
            )
    messages = [_constraint_message(error) for error in errors]
    count = len(messages)
    plural = "s" if count > 1 else ""
    return InvalidParameter(f"{count} validation error{plural} detected: {'; '.join(messages)}")


def _location(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"{part + 1}.member")
        else:
            parts.append(part[:1].lower() + part[1:])
    return ".".join(parts)


def _constraint_message(error: ErrorDetails) -> str:
    where = _location(error["loc"])
    if error["type"] == "missing" or error.get("input") is None:
        return f"Value null at '{where}' failed to satisfy constraint: Member must not be null"
    ctx = error.get("ctx") or {}
    if error["type"] == "string_too_short":
        rule = f"Member must have length greater than or equal to {ctx.get('min_length')}"
    elif error["type"] == "string_too_long":
        rule = f"Member must have length less than or equal to {ctx.get('max_length')}"
    elif error["type"] == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", "")).removeprefix("^").removesuffix("$")
        rule = f"Member must satisfy regular expression pattern: {pattern}"
    elif error["type"] == "literal_error":
        values = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        rule = f"Member must satisfy enum value set: [{', '.join(values)}]"
    else:
        rule = str(error["msg"])
    sensitive = any(part in _SENSITIVE for part in error["loc"] if isinstance(part, str))
    value = "" if sensitive else f" '{error['input']}'"
    return f"Value{value} at '{where}' failed to satisfy constraint: {rule}"


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE_VALUE" if value else "FALSE_VALUE"
    if isinstance(value, int | float):
        return "NUMBER_VALUE"
    if isinstance(value, str):
        return "VALUE_STRING"
    if isinstance(value, list):
        return "START_ARRAY"
    if isinstance(value, dict):
        return "START_OBJECT"
    return "VALUE_NULL"
