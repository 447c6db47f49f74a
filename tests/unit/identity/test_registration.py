"""Sign-up, confirmation and password recovery, as Cognito answers them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from overcast.local.identity.errors import (
    CodeDeliveryFailure,
    CodeMismatch,
    ExpiredCode,
    InvalidParameter,
    InvalidPassword,
    LimitExceeded,
    NotAuthorized,
    ResourceNotFound,
    UsernameExists,
    UserNotConfirmed,
)
from overcast.local.identity.records import UserStatus
from overcast.ports.mail import MailUnavailable
from tests.unit.identity.conftest import PASSWORD, World, outcome, wait_until


def test_sign_up_emails_a_six_digit_code_with_the_pools_message(world: World) -> None:
    result = world.pools.registration.sign_up(world.client_id, "alice@example.com", PASSWORD)

    email = world.mailer.sent[-1]
    assert email.to == ("alice@example.com",)
    assert email.subject == "Your code"
    assert email.text == f"Welcome! Your code is {world.last_code()}."
    assert result.confirmed is False
    assert result.delivery.destination == "a***@e***"
    assert (result.delivery.medium, result.delivery.attribute) == ("EMAIL", "email")


def test_a_new_user_cannot_sign_in_until_confirmed(world: World) -> None:
    world.pools.registration.sign_up(world.client_id, "alice@example.com", PASSWORD)

    with pytest.raises(UserNotConfirmed, match=r"User is not confirmed\."):
        world.sign_in()


def test_confirming_with_the_emailed_code_confirms_and_verifies_the_email(world: World) -> None:
    sub = world.confirmed_user()

    user = world.pools.administration.get_user(world.pool.pool_id, sub)
    assert user.status is UserStatus.CONFIRMED
    assert user.email_verified is True


def test_usernames_are_case_insensitive_email_addresses(world: World) -> None:
    world.confirmed_user("Alice@Example.COM")

    with pytest.raises(UsernameExists, match="An account with the given email already exists"):
        world.pools.registration.sign_up(world.client_id, "alice@example.com", PASSWORD)
    assert world.sign_in("ALICE@example.com").id_token


def test_a_username_that_is_not_an_email_is_refused(world: World) -> None:
    with pytest.raises(InvalidParameter, match="Username should be an email"):
        world.pools.registration.sign_up(world.client_id, "alice", PASSWORD)


@pytest.mark.parametrize("address", ["alice@example.com\n", "a<b@example.com", "a@b.co>"])
def test_an_address_the_mailer_would_refuse_is_refused_up_front(world: World, address: str) -> None:
    with pytest.raises(InvalidParameter, match="Username should be an email"):
        world.pools.registration.sign_up(world.client_id, address, PASSWORD)
    with pytest.raises(InvalidParameter, match="Username should be an email"):
        world.pools.administration.create_user(world.pool.pool_id, address)
    assert world.mailer.sent == []


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Sh0rt!", "Password not long enough"),
        ("NOLOWER1!", "Password must have lowercase characters"),
        ("noupper1!", "Password must have uppercase characters"),
        ("NoDigits!", "Password must have numeric characters"),
        ("NoSymbol1", "Password must have symbol characters"),
    ],
)
def test_a_password_breaking_the_policy_is_refused_and_nothing_is_created(
    world: World, password: str, reason: str
) -> None:
    with pytest.raises(InvalidPassword, match=f"^Password did not conform with policy: {reason}$"):
        world.pools.registration.sign_up(world.client_id, "alice@example.com", password)

    assert world.mailer.sent == []
    world.pools.registration.sign_up(world.client_id, "alice@example.com", PASSWORD)


def test_an_unknown_client_is_a_missing_resource(world: World) -> None:
    with pytest.raises(ResourceNotFound, match="User pool client nosuchclient does not exist"):
        world.pools.registration.sign_up("nosuchclient", "alice@example.com", PASSWORD)


def test_unknown_or_unwritable_attributes_are_refused(world: World) -> None:
    registration = world.pools.registration
    with pytest.raises(InvalidParameter, match="Attribute does not exist in the schema"):
        registration.sign_up(world.client_id, "a@example.com", PASSWORD, [("shoe_size", "9")])
    with pytest.raises(InvalidParameter, match="unauthorized attribute"):
        registration.sign_up(
            world.client_id, "a@example.com", PASSWORD, [("email_verified", "true")]
        )


def test_standard_attributes_are_kept(world: World) -> None:
    result = world.pools.registration.sign_up(
        world.client_id, "alice@example.com", PASSWORD, [("name", "Alice")]
    )

    user = world.pools.administration.get_user(world.pool.pool_id, result.user_sub)
    assert user.attributes == {"name": "Alice"}


def test_a_wrong_code_is_a_mismatch_and_leaves_the_user_unconfirmed(world: World) -> None:
    world.pools.registration.sign_up(world.client_id, "alice@example.com", PASSWORD)
    wrong = "000000" if world.last_code() != "000000" else "111111"

    with pytest.raises(CodeMismatch, match="Invalid verification code provided"):
        world.pools.registration.confirm_sign_up(world.client_id, "alice@example.com", wrong)
    with pytest.raises(UserNotConfirmed):
        world.sign_in()


def test_after_five_wrong_codes_even_the_right_one_is_refused(world: World) -> None:
    world.pools.registration.sign_up(world.client_id, "alice@example.com", PASSWORD)
    right = world.last_code()
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(CodeMismatch):
            world.pools.registration.confirm_sign_up(world.client_id, "alice@example.com", wrong)

    with pytest.raises(LimitExceeded, match="Attempt limit exceeded"):
        world.pools.registration.confirm_sign_up(world.client_id, "alice@example.com", right)


def test_parallel_code_guesses_cannot_try_more_than_five_codes(world: World) -> None:
    world.pools.registration.sign_up(world.client_id, "alice@example.com", PASSWORD)
    right = int(world.last_code())
    guesses = [f"{(right + i) % 10**6:06d}" for i in range(1, 9)]
    world.hasher.hold(*guesses)

    def confirm(code: str) -> str:
        confirm_sign_up = world.pools.registration.confirm_sign_up
        return outcome(lambda: confirm_sign_up(world.client_id, "alice@example.com", code))

    with ThreadPoolExecutor(len(guesses)) as threads:
        answers = [threads.submit(confirm, guess) for guess in guesses]
        wait_until(lambda: world.hasher.waiting + sum(a.done() for a in answers) == len(guesses))
        world.hasher.open()

    assert world.hasher.waiting == 5  # only five codes were ever checked
    assert (
        sorted(answer.result().partition(":")[0] for answer in answers)
        == ["CodeMismatchException"] * 5 + ["LimitExceededException"] * 3
    )


def test_a_confirmation_does_not_undo_a_password_the_operator_set_meanwhile(
    world: World,
) -> None:
    registration = world.pools.registration
    registration.sign_up(world.client_id, "alice@example.com", PASSWORD)
    code = world.last_code()
    world.hasher.hold(code)

    with ThreadPoolExecutor(1) as threads:
        confirming = threads.submit(
            registration.confirm_sign_up, world.client_id, "alice@example.com", code
        )
        wait_until(lambda: world.hasher.waiting == 1)
        world.pools.administration.set_user_password(
            world.pool.pool_id, "alice@example.com", "0perator-Set!", permanent=True
        )
        world.hasher.open()

    confirming.result()
    assert world.sign_in(password="0perator-Set!").access_token
    user = world.pools.administration.get_user(world.pool.pool_id, "alice@example.com")
    assert user.email_verified


def test_a_sign_up_code_expires_after_a_day(world: World) -> None:
    world.pools.registration.sign_up(world.client_id, "alice@example.com", PASSWORD)
    world.clock.advance(hours=24, seconds=1)

    with pytest.raises(ExpiredCode, match="please request a code again"):
        world.pools.registration.confirm_sign_up(
            world.client_id, "alice@example.com", world.last_code()
        )


def test_a_resent_code_replaces_the_first(world: World) -> None:
    world.pools.registration.sign_up(world.client_id, "alice@example.com", PASSWORD)
    first = world.last_code()
    delivery = world.pools.registration.resend_confirmation_code(
        world.client_id, "alice@example.com"
    )
    second = world.last_code()

    assert delivery.destination == "a***@e***"
    if first != second:
        with pytest.raises(CodeMismatch):
            world.pools.registration.confirm_sign_up(world.client_id, "alice@example.com", first)
    world.pools.registration.confirm_sign_up(world.client_id, "alice@example.com", second)


def test_a_confirmed_user_cannot_be_confirmed_again(world: World) -> None:
    world.confirmed_user()

    with pytest.raises(NotAuthorized, match="Current status is CONFIRMED"):
        world.pools.registration.confirm_sign_up(world.client_id, "alice@example.com", "123456")
    with pytest.raises(InvalidParameter, match="User is already confirmed"):
        world.pools.registration.resend_confirmation_code(world.client_id, "alice@example.com")


def test_unknown_users_are_not_revealed_by_confirmation_and_recovery(world: World) -> None:
    registration = world.pools.registration
    nobody = "nobody@example.com"

    assert registration.resend_confirmation_code(world.client_id, nobody).destination == "n***@e***"
    assert registration.forgot_password(world.client_id, nobody).destination == "n***@e***"
    with pytest.raises(CodeMismatch):
        registration.confirm_sign_up(world.client_id, nobody, "123456")
    with pytest.raises(CodeMismatch):
        registration.confirm_forgot_password(world.client_id, nobody, "123456", PASSWORD)
    assert world.mailer.sent == []


def test_a_failed_mail_delivery_leaves_no_user_behind(world: World) -> None:
    world.mailer.fail_with = MailUnavailable("SMTP server down")

    with pytest.raises(CodeDeliveryFailure):
        world.pools.registration.sign_up(world.client_id, "alice@example.com", PASSWORD)

    world.mailer.fail_with = None
    world.pools.registration.sign_up(world.client_id, "alice@example.com", PASSWORD)


def test_a_forgotten_password_is_replaced_with_the_emailed_code(world: World) -> None:
    world.confirmed_user()

    delivery = world.pools.registration.forgot_password(world.client_id, "alice@example.com")
    world.pools.registration.confirm_forgot_password(
        world.client_id, "alice@example.com", world.last_code(), "N3w-password"
    )

    assert delivery.destination == "a***@e***"
    assert world.sign_in(password="N3w-password").access_token
    with pytest.raises(NotAuthorized, match="Incorrect username or password"):
        world.sign_in(password=PASSWORD)


def test_a_forgot_password_code_expires_after_an_hour_and_is_used_once(world: World) -> None:
    world.confirmed_user()
    registration = world.pools.registration
    registration.forgot_password(world.client_id, "alice@example.com")
    world.clock.advance(minutes=61)
    with pytest.raises(ExpiredCode):
        registration.confirm_forgot_password(
            world.client_id, "alice@example.com", world.last_code(), "N3w-password"
        )

    registration.forgot_password(world.client_id, "alice@example.com")
    code = world.last_code()
    registration.confirm_forgot_password(world.client_id, "alice@example.com", code, "N3w-password")
    with pytest.raises(ExpiredCode):
        registration.confirm_forgot_password(
            world.client_id, "alice@example.com", code, "0ther-Pass"
        )


def test_a_code_used_by_two_requests_at_once_works_for_one(world: World) -> None:
    world.confirmed_user()
    registration = world.pools.registration
    registration.forgot_password(world.client_id, "alice@example.com")
    code = world.last_code()
    world.hasher.hold(code)

    def reset(password: str) -> str:
        return outcome(
            lambda: registration.confirm_forgot_password(
                world.client_id, "alice@example.com", code, password
            )
        )

    with ThreadPoolExecutor(2) as threads:
        answers = [threads.submit(reset, p) for p in ("F1rst-password", "Sec0nd-password")]
        wait_until(lambda: world.hasher.waiting == 2)
        world.hasher.open()

    assert sorted(answer.result() for answer in answers) == [
        "ExpiredCodeException: Invalid code provided, please request a code again.",
        "ok",
    ]


def test_a_weak_new_password_is_refused_and_the_code_still_works(world: World) -> None:
    world.confirmed_user()
    world.pools.registration.forgot_password(world.client_id, "alice@example.com")
    code = world.last_code()

    with pytest.raises(InvalidPassword):
        world.pools.registration.confirm_forgot_password(
            world.client_id, "alice@example.com", code, "weak"
        )
    world.pools.registration.confirm_forgot_password(
        world.client_id, "alice@example.com", code, "N3w-password"
    )


def test_an_unverified_user_gets_a_simulated_recovery_and_no_mail(world: World) -> None:
    world.pools.registration.sign_up(world.client_id, "alice@example.com", PASSWORD)
    sent = len(world.mailer.sent)

    delivery = world.pools.registration.forgot_password(world.client_id, "alice@example.com")

    assert delivery.destination == "a***@e***"
    assert len(world.mailer.sent) == sent
