"""Personal API keys (SPEC §4.5) and the administrator's per-user limit (SPEC §5)."""

from __future__ import annotations

import pytest

from chatcore.accounts import AccountService
from chatcore.errors import InvalidToken, PermissionDenied, UserNotFound, ValidationFailed
from chatcore.model import User
from chatcore.testing import FrozenClock

from .conftest import PASSWORD

# --- API keys ---------------------------------------------------------------------------------


async def test_a_new_api_key_is_shown_once_and_authenticates_its_owner(
    accounts: AccountService, alice: User, clock: FrozenClock
) -> None:
    key, secret = await accounts.create_api_key(alice.id, name="  my   laptop ", password=PASSWORD)

    assert secret.startswith("ck_")
    assert len(secret) > 40
    assert (key.user_id, key.name, key.created_at) == (alice.id, "my laptop", clock.now())
    assert secret.startswith(key.prefix)
    assert len(key.prefix) < len(secret) // 2
    assert await accounts.list_api_keys(alice.id) == [key]
    assert secret not in repr(await accounts.list_api_keys(alice.id))
    assert await accounts.authenticate_api_key(secret) == alice.id


async def test_each_api_key_is_different(accounts: AccountService, alice: User) -> None:
    _, first = await accounts.create_api_key(alice.id, name="one", password=PASSWORD)
    _, second = await accounts.create_api_key(alice.id, name="two", password=PASSWORD)

    assert first != second
    assert len(await accounts.list_api_keys(alice.id)) == 2


@pytest.mark.parametrize("name", ["", "   "])
async def test_an_api_key_needs_a_name(accounts: AccountService, alice: User, name: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await accounts.create_api_key(alice.id, name=name, password=PASSWORD)

    assert caught.value.field == "name"


async def test_a_wrong_api_key_is_invalid(accounts: AccountService, alice: User) -> None:
    _, secret = await accounts.create_api_key(alice.id, name="laptop", password=PASSWORD)

    for wrong in (secret[:-1], secret + "x", secret.removeprefix("ck_"), "ck_", ""):
        with pytest.raises(InvalidToken):
            await accounts.authenticate_api_key(wrong)


async def test_a_deleted_api_key_stops_working(accounts: AccountService, alice: User) -> None:
    key, secret = await accounts.create_api_key(alice.id, name="laptop", password=PASSWORD)

    assert await accounts.delete_api_key(alice.id, key.id)

    with pytest.raises(InvalidToken):
        await accounts.authenticate_api_key(secret)
    assert await accounts.list_api_keys(alice.id) == []
    assert not await accounts.delete_api_key(alice.id, key.id)


async def test_nobody_else_can_delete_or_list_my_api_key(
    accounts: AccountService, alice: User, bob: User
) -> None:
    key, secret = await accounts.create_api_key(alice.id, name="laptop", password=PASSWORD)

    assert not await accounts.delete_api_key(bob.id, key.id)

    assert await accounts.list_api_keys(bob.id) == []
    assert await accounts.authenticate_api_key(secret) == alice.id


# --- the administrator's per-user limit -------------------------------------------------------


async def test_an_administrator_sets_and_clears_a_users_daily_limit(
    accounts: AccountService, admin: User, alice: User
) -> None:
    changed = await accounts.set_daily_limit(admin.id, alice.id, 3)
    assert changed.daily_limit == 3
    assert (await accounts.profile(alice.id)).user.daily_limit == 3

    cleared = await accounts.set_daily_limit(admin.id, alice.id, None)

    assert cleared.daily_limit is None


async def test_only_an_administrator_may_set_a_daily_limit(
    accounts: AccountService, alice: User, bob: User
) -> None:
    with pytest.raises(PermissionDenied):
        await accounts.set_daily_limit(alice.id, bob.id, 100)
    with pytest.raises(PermissionDenied):
        await accounts.set_daily_limit(alice.id, alice.id, 100)

    assert (await accounts.profile(bob.id)).user.daily_limit is None
    assert (await accounts.profile(alice.id)).user.daily_limit is None


async def test_a_daily_limit_must_not_be_negative(accounts: AccountService, admin: User, alice: User) -> None:
    with pytest.raises(ValidationFailed):
        await accounts.set_daily_limit(admin.id, alice.id, -1)


async def test_a_daily_limit_for_an_unknown_user_is_not_found(accounts: AccountService, admin: User) -> None:
    with pytest.raises(UserNotFound):
        await accounts.set_daily_limit(admin.id, 999, 3)
