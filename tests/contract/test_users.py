"""Contract: UserRepository (SPEC §4.1: unique usernames and e-mails, case-insensitive)."""

from __future__ import annotations

import pytest

from chatcore.errors import EmailTaken, UsernameTaken, UserNotFound
from contract.conftest import Storage
from contract.helpers import T0, add_user


async def test_a_user_is_stored_as_given(storage: Storage) -> None:
    async with storage.uow() as tx:
        user = await tx.users.add(
            username="Alice", email="Alice@Example.com", password_hash="hash", now=T0, is_admin=True
        )
        await tx.commit()
    async with storage.uow() as tx:
        stored = await tx.users.get(user.id)
    assert stored == user
    assert (user.username, user.email, user.password_hash, user.date_joined) == (
        "Alice",
        "Alice@Example.com",
        "hash",
        T0,
    )
    assert user.is_admin is True
    assert user.daily_limit is None


async def test_users_get_distinct_ids_and_unknown_ids_are_absent(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    bob = await add_user(storage.uow, "bob")
    assert alice.id != bob.id
    async with storage.uow() as tx:
        assert await tx.users.get(bob.id + 1000) is None


async def test_usernames_are_unique_ignoring_case(storage: Storage) -> None:
    await add_user(storage.uow, "alice")
    async with storage.uow() as tx:
        with pytest.raises(UsernameTaken):
            await tx.users.add(username="ALICE", email="other@example.com", password_hash=None, now=T0)


async def test_emails_are_unique_ignoring_case(storage: Storage) -> None:
    await add_user(storage.uow, "alice", email="alice@example.com")
    async with storage.uow() as tx:
        with pytest.raises(EmailTaken):
            await tx.users.add(username="bob", email="Alice@EXAMPLE.com", password_hash=None, now=T0)


async def test_a_refused_user_leaves_the_transaction_usable(storage: Storage) -> None:
    await add_user(storage.uow, "alice")
    async with storage.uow() as tx:
        with pytest.raises(UsernameTaken):
            await tx.users.add(username="alice", email="x@example.com", password_hash=None, now=T0)
        bob = await tx.users.add(username="bob", email="bob@example.com", password_hash=None, now=T0)
        await tx.commit()
    async with storage.uow() as tx:
        assert await tx.users.get(bob.id) == bob


async def test_find_by_login_matches_username_or_email_ignoring_case(storage: Storage) -> None:
    alice = await add_user(storage.uow, "Alice", email="alice@example.com")
    async with storage.uow() as tx:
        assert await tx.users.find_by_login("alice") == alice
        assert await tx.users.find_by_login("ALICE@example.COM") == alice
        assert await tx.users.find_by_login("bob") is None


async def test_username_exists_ignores_case(storage: Storage) -> None:
    await add_user(storage.uow, "Alice")
    async with storage.uow() as tx:
        assert await tx.users.username_exists("aLiCe") is True
        assert await tx.users.username_exists("alic") is False


async def test_update_changes_only_the_given_fields(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    async with storage.uow() as tx:
        changed = await tx.users.update(alice.id, email="new@example.com")
        assert (changed.email, changed.password_hash, changed.is_admin) == ("new@example.com", "h", False)
        changed = await tx.users.update(alice.id, password_hash="h2", is_admin=True)
        assert (changed.email, changed.password_hash, changed.is_admin) == ("new@example.com", "h2", True)
        await tx.commit()
    async with storage.uow() as tx:
        assert await tx.users.get(alice.id) == changed
        assert await tx.users.find_by_login("new@example.com") == changed
        assert await tx.users.find_by_login("alice@example.com") is None


async def test_update_with_nothing_to_change_returns_the_user(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    async with storage.uow() as tx:
        assert await tx.users.update(alice.id) == alice


async def test_update_refuses_an_email_of_another_user(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    await add_user(storage.uow, "bob", email="bob@example.com")
    async with storage.uow() as tx:
        with pytest.raises(EmailTaken):
            await tx.users.update(alice.id, email="BOB@example.com")
        # Changing the case of one's own address is not a conflict.
        assert (await tx.users.update(alice.id, email="ALICE@example.com")).email == "ALICE@example.com"


async def test_update_and_set_daily_limit_of_an_unknown_user(storage: Storage) -> None:
    async with storage.uow() as tx:
        with pytest.raises(UserNotFound):
            await tx.users.update(4242, email="x@example.com")
        with pytest.raises(UserNotFound):
            await tx.users.update(4242, password_hash="x")
        with pytest.raises(UserNotFound):
            await tx.users.set_daily_limit(4242, 3)


async def test_daily_limit_can_be_set_and_cleared(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    async with storage.uow() as tx:
        assert (await tx.users.set_daily_limit(alice.id, 12)).daily_limit == 12
        await tx.commit()
    async with storage.uow() as tx:
        stored = await tx.users.get(alice.id)
        assert stored is not None
        assert stored.daily_limit == 12
        assert (await tx.users.set_daily_limit(alice.id, None)).daily_limit is None
        assert (await tx.users.set_daily_limit(alice.id, 0)).daily_limit == 0


async def test_leaving_without_commit_discards_the_changes(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    async with storage.uow() as tx:
        await tx.users.add(username="bob", email="bob@example.com", password_hash=None, now=T0)
        await tx.users.update(alice.id, email="changed@example.com")
    async with storage.uow() as tx:
        assert await tx.users.username_exists("bob") is False
        assert await tx.users.get(alice.id) == alice


async def test_an_error_inside_the_block_rolls_back(storage: Storage) -> None:
    async def add_bob_then_fail() -> None:
        async with storage.uow() as tx:
            await tx.users.add(username="bob", email="bob@example.com", password_hash=None, now=T0)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await add_bob_then_fail()
    async with storage.uow() as tx:
        assert await tx.users.username_exists("bob") is False


async def test_work_after_a_commit_needs_its_own_commit(storage: Storage) -> None:
    async with storage.uow() as tx:
        await tx.users.add(username="bob", email="bob@example.com", password_hash=None, now=T0)
        await tx.commit()
        await tx.users.add(username="carol", email="carol@example.com", password_hash=None, now=T0)
    async with storage.uow() as tx:
        assert await tx.users.username_exists("bob") is True
        assert await tx.users.username_exists("carol") is False
