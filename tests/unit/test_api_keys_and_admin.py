"""Personal API keys (SPEC §4.5); the administrator's per-user limit is in test_admin.py."""

from __future__ import annotations

import pytest

from chatcore.accounts import AccountService
from chatcore.errors import InvalidToken, ValidationFailed
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
