"""STS's operations for the local cloud: AssumeRoleWithWebIdentity and GetCallerIdentity.

``AssumeRoleWithWebIdentity`` (unsigned, as on AWS) takes an identity pool's
OpenID token (``GetOpenIdToken``), in this order:

- parameters are checked against botocore's model: ``RoleArn`` 20-2048 characters,
  ``RoleSessionName`` 2-64 of ``[\\w+=,.@-]``, ``WebIdentityToken`` 4-20000,
  ``DurationSeconds`` 900-43200 (``ValidationError: 1 validation error detected:
  ...``); session policies (``Policy``, ``PolicyArns``) are refused loudly, since
  the local evaluator does not intersect them;
- the token: bad form, signature or issuer is ``InvalidIdentityToken``, past its
  ``exp`` ``ExpiredTokenException`` (``Token expired: current date/time ...``);
- the role must exist and its trust policy must trust the token's identity, else
  ``AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity`` (the
  same answer for both, as AWS does not reveal which roles exist);
- ``DurationSeconds`` (default 3600) may not pass the role's maximum: "The
  requested DurationSeconds exceeds the MaxSessionDuration set for this role."

``GetCallerIdentity`` answers who signed the request: ``UserId``, ``Account`` and
``Arn`` (``AROA...:<session>`` and the ``assumed-role`` ARN for a role session;
the account id and ``arn:aws:iam::<account>:root`` for the root user).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from overcast.local.federation.openid import (
    PROVIDER,
    ExpiredOpenIdToken,
    InvalidOpenIdToken,
    OpenIdTokens,
)
from overcast.local.federation.trust import WebIdentityTrust
from overcast.local.iam.principals import Session
from overcast.local.iam.roles import MAX_SESSION_SECONDS_LIMIT, Roles
from overcast.local.sts import errors
from overcast.local.sts.query import XmlValue, timestamp

DEFAULT_DURATION_SECONDS = 3600
MIN_DURATION_SECONDS = 900
_SESSION_NAME = re.compile(r"^[\w+=,.@-]*$")


@dataclass(frozen=True)
class _Limits:
    min_length: int
    max_length: int
    pattern: re.Pattern[str] | None = None


_STRING_PARAMETERS = {
    "RoleArn": _Limits(20, 2048),
    "RoleSessionName": _Limits(2, 64, _SESSION_NAME),
    "WebIdentityToken": _Limits(4, 20000),
}
_SENSITIVE = frozenset({"WebIdentityToken"})


def _member(name: str) -> str:
    return name[:1].lower() + name[1:]


def _string_problem(name: str, value: str | None, limits: _Limits) -> str | None:
    where = f"at '{_member(name)}' failed to satisfy constraint:"
    shown = "" if name in _SENSITIVE else f" '{value}'"
    if value is None:
        return f"Value null {where} Member must not be null"
    if len(value) < limits.min_length:
        rule = f"Member must have length greater than or equal to {limits.min_length}"
    elif len(value) > limits.max_length:
        rule = f"Member must have length less than or equal to {limits.max_length}"
    elif limits.pattern is not None and not limits.pattern.match(value):
        rule = f"Member must satisfy regular expression pattern: {limits.pattern.pattern[1:-1]}"
    else:
        return None
    return f"Value{shown} {where} {rule}"


def _duration_problem(value: str | None) -> str | None:
    if value is None:
        return None
    where = f"Value '{value}' at 'durationSeconds' failed to satisfy constraint:"
    if not re.fullmatch(r"-?\d{1,9}", value):
        return f"{where} Member must be a number"
    if int(value) < MIN_DURATION_SECONDS:
        return f"{where} Member must have value greater than or equal to {MIN_DURATION_SECONDS}"
    if int(value) > MAX_SESSION_SECONDS_LIMIT:
        limit = MAX_SESSION_SECONDS_LIMIT
        return f"{where} Member must have value less than or equal to {limit}"
    return None


def _validated(params: Mapping[str, str]) -> None:
    problems = [
        _string_problem(name, params.get(name), limits)
        for name, limits in _STRING_PARAMETERS.items()
    ]
    problems.append(_duration_problem(params.get("DurationSeconds")))
    found = [problem for problem in problems if problem is not None]
    if found:
        plural = "s" if len(found) > 1 else ""
        raise errors.ValidationError(
            f"{len(found)} validation error{plural} detected: {'; '.join(found)}"
        )
    if "Policy" in params or any(name.startswith("PolicyArns.") for name in params):
        raise errors.ValidationError(
            "Session policies (Policy, PolicyArns) are not supported by the local cloud; "
            "the session gets the role's policies. Remove them to run locally."
        )


def _credentials(session: Session) -> dict[str, XmlValue]:
    assert session.expires_at is not None
    return {
        "AccessKeyId": session.credentials.access_key_id,
        "SecretAccessKey": session.credentials.secret_access_key,
        "SessionToken": session.credentials.session_token or "",
        "Expiration": timestamp(session.expires_at),
    }


class SecurityTokenService:
    """The STS actions, without HTTP; each returns the result's XML members."""

    def __init__(self, roles: Roles, tokens: OpenIdTokens, trust: WebIdentityTrust) -> None:
        self._roles = roles
        self._tokens = tokens
        self._trust = trust

    def assume_role_with_web_identity(self, params: Mapping[str, str]) -> dict[str, XmlValue]:
        _validated(params)
        try:
            claims = self._tokens.verify(params["WebIdentityToken"])
        except InvalidOpenIdToken as error:
            raise errors.InvalidIdentityToken(str(error)) from None
        except ExpiredOpenIdToken as error:
            raise errors.ExpiredTokenException(str(error)) from None
        role = self._roles.get(params["RoleArn"])
        if role is None or not self._trust.trusts(role, claims):
            raise errors.AccessDenied()
        duration = int(params.get("DurationSeconds", DEFAULT_DURATION_SECONDS))
        if duration > role.max_session_seconds:
            raise errors.ValidationError(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
            )
        session = self._trust.assume(
            role, claims, session_name=params["RoleSessionName"], duration_seconds=duration
        )
        principal = session.principal
        return {
            "SubjectFromWebIdentityToken": claims.identity_id,
            "Audience": claims.pool_id,
            "AssumedRoleUser": {
                "AssumedRoleId": principal.user_id,
                "Arn": principal.session_arn or principal.arn,
            },
            "Credentials": _credentials(session),
            "Provider": PROVIDER,
        }

    def get_caller_identity(self, session: Session) -> dict[str, XmlValue]:
        principal = session.principal
        return {
            "UserId": principal.user_id,
            "Account": principal.account_id,
            "Arn": principal.session_arn or principal.arn,
        }
