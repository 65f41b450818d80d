"""Signing up through AccountService (SPEC §4.1) and editing the profile."""

from __future__ import annotations

import pytest

from chatcore import AccountService, User
from chatcore.errors import EmailTaken, UsernameTaken, ValidationFailed
from chatcore.testing import FrozenClock

from .conftest import PASSWORD


async def _join(
    accounts: AccountService,
    *,
    username: str = "minji",
    email: str = "minji@example.com",
    password: str = PASSWORD,
    password2: str | None = None,
) -> User:
    return await accounts.register(
        username=username,
        email=email,
        password=password,
        password2=password if password2 is None else password2,
    )


async def test_a_new_user_is_stored_with_a_hashed_password(
    accounts: AccountService, clock: FrozenClock
) -> None:
    user = await _join(accounts, email="  minji@example.com ")

    assert (user.username, user.email) == ("minji", "minji@example.com")
    assert user.date_joined == clock.now()
    assert not user.is_admin
    assert user.daily_limit is None
    assert user.password_hash is not None
    assert PASSWORD not in user.password_hash
    assert (await accounts.profile(user.id)).user == user


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"password2": "correct horse 2"}, "password2"),
        ({"password": "short1!"}, "password"),
        ({"password": "1234567890"}, "password"),
        ({"username": "Minji_Kim", "password": "minji_kim"}, "password"),
    ],
    ids=["mismatch", "under 8 characters", "all digits", "equal to the username"],
)
async def test_a_weak_or_mismatched_password_is_refused(
    accounts: AccountService, fields: dict[str, str], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await _join(accounts, **fields)

    assert caught.value.field == field


async def test_a_password_of_exactly_8_characters_is_enough(accounts: AccountService) -> None:
    user = await _join(accounts, password="abcdefg1")

    assert user.username == "minji"


@pytest.mark.parametrize(
    "email",
    ["no-at-sign", "minji@", "@example.com", "minji@localhost", "min ji@example.com", "a@b@example.com", ""],
)
async def test_a_bad_email_is_refused(accounts: AccountService, email: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await _join(accounts, email=email)

    assert caught.value.field == "email"


@pytest.mark.parametrize(
    "username",
    ["ab", "a" * 31, "min ji", "민지_kim", "minji!", "minji@home", "", "tab\there"],
)
async def test_a_username_outside_3_to_30_allowed_characters_is_refused(
    accounts: AccountService, username: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await _join(accounts, username=username)

    assert caught.value.field == "username"


@pytest.mark.parametrize("username", ["abc", "a" * 30, "Min.ji_K-1"])
async def test_usernames_of_3_to_30_allowed_characters_are_accepted(
    accounts: AccountService, username: str
) -> None:
    user = await _join(accounts, username=username)

    assert user.username == username


async def test_a_taken_username_is_refused_whatever_its_case(accounts: AccountService) -> None:
    await _join(accounts, username="minji", email="first@example.com")

    with pytest.raises(UsernameTaken):
        await _join(accounts, username="MinJi", email="second@example.com")


async def test_a_taken_email_is_refused_whatever_its_case(accounts: AccountService) -> None:
    await _join(accounts, username="first", email="minji@example.com")

    with pytest.raises(EmailTaken):
        await _join(accounts, username="second", email="MINJI@Example.com")


async def test_the_email_can_be_changed_but_not_to_a_taken_one(accounts: AccountService) -> None:
    minji = await _join(accounts, username="minji", email="minji@example.com")
    await _join(accounts, username="jisoo", email="jisoo@example.com")

    profile = await accounts.update_profile(minji.id, email="minji@new.example.com", password=PASSWORD)
    with pytest.raises(EmailTaken):
        await accounts.update_profile(minji.id, email="JISOO@example.com", password=PASSWORD)
    with pytest.raises(ValidationFailed):
        await accounts.update_profile(minji.id, email="not an email", password=PASSWORD)

    assert profile.user.email == "minji@new.example.com"
    assert (await accounts.profile(minji.id)).user.email == "minji@new.example.com"
