"""Every other door to a password check shares the account's login budget (SPEC §4.1, §4.5):
changing the password, changing the e-mail, creating an API key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from adapters.memory import MemoryStore
from chatcore.accounts import MAX_API_KEYS, AccountService
from chatcore.errors import (
    InvalidCredentials,
    PasswordRequired,
    TooManyApiKeys,
    TooManyAttempts,
    ValidationFailed,
)
from chatcore.model import User
from chatcore.testing import FrozenClock

from .conftest import MAX_FAILURES, PASSWORD, THROTTLE_WINDOW

NEW = "battery staple 2"
Door = Callable[[AccountService, int, str], Awaitable[object]]


async def _change_password(accounts: AccountService, user_id: int, password: str) -> object:
    await accounts.change_password(user_id, old_password=password, new_password=NEW, new_password2=NEW)
    return None


async def _change_email(accounts: AccountService, user_id: int, password: str) -> object:
    return await accounts.update_profile(user_id, email="new@example.com", password=password)


async def _new_api_key(accounts: AccountService, user_id: int, password: str) -> object:
    return await accounts.create_api_key(user_id, name="laptop", password=password)


DOORS = pytest.mark.parametrize("door", [_change_password, _change_email, _new_api_key])


@DOORS
async def test_a_wrong_password_is_refused_as_on_the_password_form(
    accounts: AccountService, alice: User, door: Door
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await door(accounts, alice.id, "not it at all")

    assert caught.value.detail == "The current password is incorrect."
    profile = await accounts.profile(alice.id)
    assert profile.user.email == "alice@example.com"
    assert await accounts.list_api_keys(alice.id) == []


@DOORS
async def test_guesses_through_a_door_spend_the_login_budget(
    accounts: AccountService, alice: User, clock: FrozenClock, door: Door
) -> None:
    for n in range(MAX_FAILURES):
        with pytest.raises(ValidationFailed):
            await door(accounts, alice.id, f"guess {n}")

    with pytest.raises(TooManyAttempts) as caught:
        await door(accounts, alice.id, PASSWORD)  # even the right one: the budget is spent
    with pytest.raises(TooManyAttempts):
        await accounts.login(login="alice", password=PASSWORD, client="203.0.113.7")

    assert caught.value.retry_after == THROTTLE_WINDOW.total_seconds()
    clock.advance(seconds=caught.value.retry_after)
    await door(accounts, alice.id, PASSWORD)


@DOORS
async def test_login_failures_count_at_the_doors_too(
    accounts: AccountService, alice: User, door: Door
) -> None:
    for _ in range(MAX_FAILURES):
        with pytest.raises(InvalidCredentials):
            await accounts.login(login="alice", password="guess", client="203.0.113.7")

    with pytest.raises(TooManyAttempts):
        await door(accounts, alice.id, PASSWORD)


@DOORS
async def test_the_right_password_forgives_earlier_guesses(
    accounts: AccountService, alice: User, door: Door
) -> None:
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(ValidationFailed):
            await door(accounts, alice.id, "guess")
    await door(accounts, alice.id, PASSWORD)
    password = NEW if door is _change_password else PASSWORD

    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(ValidationFailed):
            await door(accounts, alice.id, "guess")
    await door(accounts, alice.id, password)


@DOORS
async def test_an_account_without_a_password_cannot_confirm_with_one(
    accounts: AccountService, store: MemoryStore, clock: FrozenClock, door: Door
) -> None:
    async with store.unit_of_work() as tx:
        oauth_only = await tx.users.add(username="kakao_1", email=None, password_hash=None, now=clock.now())
        await tx.commit()

    with pytest.raises(PasswordRequired):
        await door(accounts, oauth_only.id, "")


async def test_without_a_new_email_the_password_is_not_checked(accounts: AccountService, alice: User) -> None:
    # Not an oracle: nothing changes, so nothing is verified and no budget is spent.
    for _ in range(MAX_FAILURES + 1):
        profile = await accounts.update_profile(alice.id, email=None, password="anything")
        assert profile.user.email == "alice@example.com"
    assert (await accounts.login(login="alice", password=PASSWORD, client="203.0.113.7")).access


async def test_a_user_holds_at_most_twenty_api_keys(accounts: AccountService, alice: User, bob: User) -> None:
    for n in range(MAX_API_KEYS):
        await accounts.create_api_key(alice.id, name=f"key {n}", password=PASSWORD)

    with pytest.raises(TooManyApiKeys):
        await accounts.create_api_key(alice.id, name="one more", password=PASSWORD)

    assert len(await accounts.list_api_keys(alice.id)) == MAX_API_KEYS
    await accounts.create_api_key(bob.id, name="bob's first", password=PASSWORD)
    first = (await accounts.list_api_keys(alice.id))[0]
    assert await accounts.delete_api_key(alice.id, first.id)
    await accounts.create_api_key(alice.id, name="replacement", password=PASSWORD)
