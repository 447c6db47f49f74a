"""The Cognito user directory: the admin calls it makes and how their errors translate."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from overcast.apps.blog.accounts import CognitoUserDirectory, DirectoryUnavailable
from overcast.apps.blog.domain import Invalid, Taken, Unauthorized


class FakeCognito:
    """Records calls; answers from ``answers`` or raises Cognito's error ``fail``."""

    def __init__(self, fail: str | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail = fail

    def __getattr__(self, operation: str) -> Any:
        def call(**parameters: Any) -> Any:
            self.calls.append((operation, parameters))
            if self.fail:
                error = {"Error": {"Code": self.fail, "Message": "Password too short"}}
                raise ClientError(error, operation)  # type: ignore[arg-type]
            if operation == "admin_create_user":
                return {"User": {"Attributes": [{"Name": "sub", "Value": "sub-1"}]}}
            if operation == "admin_initiate_auth":
                return {"AuthenticationResult": {"IdToken": "id-token"}}
            return {}

        return call


def test_registering_creates_a_confirmed_account_without_an_invitation() -> None:
    cognito = FakeCognito()

    sub = CognitoUserDirectory(cognito, "pool", "client").register("a@x.io", "pw123456")

    assert sub == "sub-1"
    (create, created), (password, chosen) = cognito.calls
    assert (create, created["Username"], created["MessageAction"]) == (
        "admin_create_user",
        "a@x.io",
        "SUPPRESS",
    )
    assert {"Name": "email_verified", "Value": "true"} in created["UserAttributes"]
    assert (password, chosen["Permanent"]) == ("admin_set_user_password", True)


def test_signing_in_answers_the_id_token() -> None:
    cognito = FakeCognito()

    token = CognitoUserDirectory(cognito, "pool", "client").sign_in("a@x.io", "pw")

    assert token == "id-token"
    assert cognito.calls[0][1]["AuthFlow"] == "ADMIN_USER_PASSWORD_AUTH"


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("UsernameExistsException", Taken),
        ("InvalidPasswordException", Invalid),
        ("NotAuthorizedException", Unauthorized),
        ("UserNotFoundException", Unauthorized),
        ("AccessDeniedException", DirectoryUnavailable),
    ],
)
def test_cognito_errors_become_the_blogs(code: str, error: type[Exception]) -> None:
    directory = CognitoUserDirectory(FakeCognito(fail=code), "pool", "client")

    with pytest.raises(error):
        directory.sign_in("a@x.io", "pw")
