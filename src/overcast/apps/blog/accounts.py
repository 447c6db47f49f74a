"""Readers' accounts: the ``readers`` user pool, reached through its admin operations.

:class:`UserDirectory` is the port the API uses; :class:`CognitoUserDirectory` calls
Cognito (or the local pool) with boto3, as a Lambda function with the role's IAM
permissions does:

- register = ``AdminCreateUser`` (``MessageAction=SUPPRESS``: no invitation email,
  ``email_verified=true``) then ``AdminSetUserPassword`` with ``Permanent=true``, so
  the user can sign in at once. The pool's usernames are email addresses; the
  user's id is their ``sub``.
- sign in = ``AdminInitiateAuth`` with ``ADMIN_USER_PASSWORD_AUTH``; the RealWorld
  ``token`` is the ID token.

Cognito's errors become the blog's: ``UsernameExistsException`` → 409 on ``email``,
``InvalidPasswordException`` → 422 on ``password``, ``NotAuthorizedException`` and
``UserNotFoundException`` → 401 (one message for both: which one it was is not told).
Anything else becomes :class:`DirectoryUnavailable` (503).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from overcast.apps.blog.domain import Invalid, Taken, Unauthorized


class DirectoryUnavailable(Exception):
    """The user pool could not be reached or refused the function."""


class UserDirectory(ABC):
    """Accounts: create, sign in, change password."""

    @abstractmethod
    def register(self, email: str, password: str) -> str:
        """Create a confirmed account; return its ``sub``."""

    @abstractmethod
    def sign_in(self, email: str, password: str) -> str:
        """The ID token of the account; :class:`Unauthorized` on a wrong password."""

    @abstractmethod
    def set_password(self, email: str, password: str) -> None:
        """Give the account a new permanent password."""


def _refused() -> Unauthorized:
    return Unauthorized("email or password", "is invalid")


class CognitoUserDirectory(UserDirectory):
    """The pool ``pool_id`` through boto3's ``cognito-idp`` ``client``."""

    def __init__(self, client: Any, pool_id: str, client_id: str) -> None:
        self._client = client
        self._pool_id = pool_id
        self._client_id = client_id

    def register(self, email: str, password: str) -> str:
        """Create the account with ``password``, or take over an orphan one.

        The password goes in as the temporary one, so the pool checks it against its
        policy before any account exists (a weak one is refused with nothing created);
        then it is made permanent. An account that exists in the pool while the blog
        has no reader for it is an orphan of an interrupted registration (the caller
        checked the blog's own records first): it is taken over, not refused, so an
        email is never locked out. A failure after creating the account deletes it.
        """
        created = False
        try:
            response = self._call(
                "admin_create_user",
                UserPoolId=self._pool_id,
                Username=email,
                TemporaryPassword=password,
                UserAttributes=[
                    {"Name": "email", "Value": email},
                    {"Name": "email_verified", "Value": "true"},
                ],
                MessageAction="SUPPRESS",
            )
            attributes = response["User"].get("Attributes", [])
            created = True
        except Taken:
            existing = self._call("admin_get_user", UserPoolId=self._pool_id, Username=email)
            attributes = existing.get("UserAttributes", [])
        try:
            self.set_password(email, password)
        except Exception:
            if created:
                self._call("admin_delete_user", UserPoolId=self._pool_id, Username=email)
            raise
        return next(str(a["Value"]) for a in attributes if a["Name"] == "sub")

    def sign_in(self, email: str, password: str) -> str:
        response = self._call(
            "admin_initiate_auth",
            UserPoolId=self._pool_id,
            ClientId=self._client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        result = response.get("AuthenticationResult") or {}
        if "IdToken" not in result:
            raise _refused()  # a challenge: not a state the API puts accounts in
        return str(result["IdToken"])

    def set_password(self, email: str, password: str) -> None:
        self._call(
            "admin_set_user_password",
            UserPoolId=self._pool_id,
            Username=email,
            Password=password,
            Permanent=True,
        )

    def _call(self, operation: str, **parameters: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._client, operation)(**parameters)
        except ClientError as exc:
            raise _translated(exc.response.get("Error", {})) from exc
        except BotoCoreError as exc:
            raise DirectoryUnavailable(str(exc)) from exc


def _translated(error: Mapping[str, Any]) -> Exception:
    code = str(error.get("Code", ""))
    message = str(error.get("Message", ""))
    if code == "UsernameExistsException":
        return Taken("email")
    if code in ("InvalidPasswordException", "InvalidParameterException"):
        return Invalid("password" if "assword" in message else "user", message or "is invalid")
    if code in ("NotAuthorizedException", "UserNotFoundException"):
        return _refused()
    return DirectoryUnavailable(f"{code}: {message}")
