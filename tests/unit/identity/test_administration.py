"""The operator's user management, as Cognito's Admin* operations answer."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from overcast.local.identity.authentication import NewPasswordChallenge
from overcast.local.identity.errors import (
    CodeDeliveryFailure,
    InvalidParameter,
    InvalidPassword,
    NotAuthorized,
    ResourceNotFound,
    UnsupportedUserState,
    UsernameExists,
    UserNotFound,
)
from overcast.local.identity.records import UserStatus
from overcast.local.identity.tokens import Tokens
from overcast.ports.mail import MailUnavailable
from tests.unit.identity.conftest import PASSWORD, World, wait_until


def temporary_password_in(text: str) -> str:
    match = re.search(r"temporary password is (\S+)\.$", text)
    assert match is not None
    return match.group(1)


def test_an_invitation_carries_a_temporary_password_that_satisfies_the_policy(
    world: World,
) -> None:
    user = world.pools.administration.create_user(world.pool.pool_id, "bob@example.com")

    invitation = world.mailer.sent[-1]
    assert invitation.subject == "Your temporary password"
    assert invitation.text.startswith("Your username is bob@example.com and temporary password is")
    assert user.status is UserStatus.FORCE_CHANGE_PASSWORD
    outcome = world.pools.authentication.initiate_auth(
        world.client_id,
        "USER_PASSWORD_AUTH",
        {"USERNAME": "bob@example.com", "PASSWORD": temporary_password_in(invitation.text)},
    )
    assert isinstance(outcome, NewPasswordChallenge)


def test_suppress_creates_the_user_without_a_message(world: World) -> None:
    user = world.pools.administration.create_user(
        world.pool.pool_id,
        "bob@example.com",
        [("email_verified", "true"), ("name", "Bob")],
        temporary="Temp0rary!",
        message_action="SUPPRESS",
    )

    assert world.mailer.sent == []
    assert (user.email, user.email_verified, user.attributes) == (
        "bob@example.com",
        True,
        {"name": "Bob"},
    )


def test_an_existing_address_cannot_be_created_twice(world: World) -> None:
    world.confirmed_user("bob@example.com")

    with pytest.raises(UsernameExists, match="User account already exists"):
        world.pools.administration.create_user(
            world.pool.pool_id, "BOB@example.com", message_action="SUPPRESS"
        )


def test_a_weak_temporary_password_is_refused_in_the_operators_words(world: World) -> None:
    with pytest.raises(
        InvalidPassword, match="Password did not conform with password policy: Password not long"
    ):
        world.pools.administration.create_user(
            world.pool.pool_id, "bob@example.com", temporary="Sh0rt!", message_action="SUPPRESS"
        )
    with pytest.raises(UserNotFound):
        world.pools.administration.get_user(world.pool.pool_id, "bob@example.com")


def test_sms_only_invitations_are_refused_rather_than_dropped(world: World) -> None:
    with pytest.raises(InvalidParameter, match="email only"):
        world.pools.administration.create_user(
            world.pool.pool_id, "bob@example.com", delivery_mediums=["SMS"]
        )
    with pytest.raises(UserNotFound):
        world.pools.administration.get_user(world.pool.pool_id, "bob@example.com")


def test_an_undeliverable_invitation_leaves_no_user(world: World) -> None:
    world.mailer.fail_with = MailUnavailable("SMTP server down")

    with pytest.raises(CodeDeliveryFailure):
        world.pools.administration.create_user(world.pool.pool_id, "bob@example.com")
    with pytest.raises(UserNotFound):
        world.pools.administration.get_user(world.pool.pool_id, "bob@example.com")


def test_resend_replaces_the_temporary_password(world: World) -> None:
    administration = world.pools.administration
    administration.create_user(world.pool.pool_id, "bob@example.com", temporary="Temp0rary!")

    administration.create_user(world.pool.pool_id, "bob@example.com", message_action="RESEND")

    new_password = temporary_password_in(world.mailer.sent[-1].text)
    with pytest.raises(NotAuthorized):
        world.sign_in("bob@example.com", "Temp0rary!")
    outcome = world.pools.authentication.initiate_auth(
        world.client_id,
        "USER_PASSWORD_AUTH",
        {"USERNAME": "bob@example.com", "PASSWORD": new_password},
    )
    assert isinstance(outcome, NewPasswordChallenge)


def test_a_resent_invitation_does_not_undo_the_password_the_user_chose_meanwhile(
    world: World,
) -> None:
    administration = world.pools.administration
    administration.create_user(world.pool.pool_id, "bob@example.com", temporary="Temp0rary!")
    challenge = world.pools.authentication.initiate_auth(
        world.client_id,
        "USER_PASSWORD_AUTH",
        {"USERNAME": "bob@example.com", "PASSWORD": "Temp0rary!"},
    )
    assert isinstance(challenge, NewPasswordChallenge)
    world.hasher.hold("Sec0nd-temporary!")

    with ThreadPoolExecutor(1) as threads:
        resending = threads.submit(
            administration.create_user,
            world.pool.pool_id,
            "bob@example.com",
            temporary="Sec0nd-temporary!",
            message_action="RESEND",
        )
        wait_until(lambda: world.hasher.waiting == 1)
        world.pools.authentication.respond_to_new_password(
            world.client_id,
            challenge.session,
            {"USERNAME": "bob@example.com", "NEW_PASSWORD": PASSWORD},
        )
        world.hasher.open()

    with pytest.raises(UnsupportedUserState):
        resending.result()
    assert isinstance(world.sign_in("bob@example.com", PASSWORD), Tokens)


def test_resend_needs_a_user_waiting_for_a_password(world: World) -> None:
    world.confirmed_user()
    administration = world.pools.administration

    with pytest.raises(UnsupportedUserState):
        administration.create_user(world.pool.pool_id, "alice@example.com", message_action="RESEND")
    with pytest.raises(UserNotFound):
        administration.create_user(world.pool.pool_id, "bob@example.com", message_action="RESEND")


def test_a_permanent_password_confirms_the_user(world: World) -> None:
    world.pools.registration.sign_up(world.client_id, "alice@example.com", PASSWORD)

    world.pools.administration.set_user_password(
        world.pool.pool_id, "alice@example.com", "Adm1n-chosen", permanent=True
    )

    user = world.pools.administration.get_user(world.pool.pool_id, "alice@example.com")
    assert user.status is UserStatus.CONFIRMED
    assert isinstance(world.sign_in(password="Adm1n-chosen"), Tokens)


def test_a_password_set_by_the_operator_keeps_an_email_verified_meanwhile(
    world: World,
) -> None:
    registration = world.pools.registration
    registration.sign_up(world.client_id, "alice@example.com", PASSWORD)
    code = world.last_code()
    world.hasher.hold("Adm1n-chosen")

    with ThreadPoolExecutor(1) as threads:
        setting = threads.submit(
            world.pools.administration.set_user_password,
            world.pool.pool_id,
            "alice@example.com",
            "Adm1n-chosen",
            permanent=True,
        )
        wait_until(lambda: world.hasher.waiting == 1)
        registration.confirm_sign_up(world.client_id, "alice@example.com", code)
        world.hasher.open()

    setting.result()
    user = world.pools.administration.get_user(world.pool.pool_id, "alice@example.com")
    assert (user.status, user.email_verified) == (UserStatus.CONFIRMED, True)
    assert isinstance(world.sign_in(password="Adm1n-chosen"), Tokens)


def test_a_temporary_password_forces_a_change_at_next_sign_in(world: World) -> None:
    world.confirmed_user()

    world.pools.administration.set_user_password(
        world.pool.pool_id, "alice@example.com", "Temp0rary!", permanent=False
    )

    outcome = world.pools.authentication.initiate_auth(
        world.client_id,
        "USER_PASSWORD_AUTH",
        {"USERNAME": "alice@example.com", "PASSWORD": "Temp0rary!"},
    )
    assert isinstance(outcome, NewPasswordChallenge)


def test_the_operator_confirms_a_sign_up_without_verifying_the_email(world: World) -> None:
    result = world.pools.registration.sign_up(world.client_id, "alice@example.com", PASSWORD)
    administration = world.pools.administration

    administration.confirm_sign_up(world.pool.pool_id, "alice@example.com")

    user = administration.get_user(world.pool.pool_id, result.user_sub)
    assert (user.status, user.email_verified) == (UserStatus.CONFIRMED, False)
    with pytest.raises(NotAuthorized, match="Current status is CONFIRMED"):
        administration.confirm_sign_up(world.pool.pool_id, "alice@example.com")


def test_users_are_found_by_email_or_sub_and_unknown_ones_are_reported(world: World) -> None:
    sub = world.confirmed_user()
    administration = world.pools.administration

    assert administration.get_user(world.pool.pool_id, "ALICE@example.com").sub == sub
    assert administration.get_user(world.pool.pool_id, sub).email == "alice@example.com"
    with pytest.raises(UserNotFound, match="User does not exist"):
        administration.get_user(world.pool.pool_id, "nobody@example.com")
    with pytest.raises(ResourceNotFound, match="User pool us-east-1_nothere0 does not exist"):
        administration.get_user("us-east-1_nothere0", sub)


def test_a_deleted_user_is_gone_and_their_address_is_free_again(world: World) -> None:
    world.confirmed_user()

    world.pools.administration.delete_user(world.pool.pool_id, "alice@example.com")

    with pytest.raises(UserNotFound):
        world.pools.administration.get_user(world.pool.pool_id, "alice@example.com")
    with pytest.raises(NotAuthorized, match="Incorrect username or password"):
        world.sign_in()
    world.confirmed_user()
