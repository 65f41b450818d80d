"""Contract: IdentityRepository (SPEC §4.1: a provider account always maps to the same user)."""

from __future__ import annotations

import pytest

from chatcore.errors import Conflict
from chatcore.model import LinkedAccount, Provider
from contract.conftest import Storage
from contract.helpers import add_user

GITHUB_42 = LinkedAccount(provider=Provider.GITHUB, subject="42", login="octo")


async def test_a_linked_account_finds_its_user(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    async with storage.uow() as tx:
        await tx.identities.link(alice.id, GITHUB_42)
        await tx.commit()
    async with storage.uow() as tx:
        assert await tx.identities.find_user_id(Provider.GITHUB, "42") == alice.id
        assert await tx.identities.find_user_id(Provider.KAKAO, "42") is None
        assert await tx.identities.find_user_id(Provider.GITHUB, "43") is None
        assert await tx.identities.list_for(alice.id) == [GITHUB_42]


async def test_linking_again_keeps_the_user_and_refreshes_the_login(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    renamed = LinkedAccount(provider=Provider.GITHUB, subject="42", login="octo-renamed")
    async with storage.uow() as tx:
        await tx.identities.link(alice.id, GITHUB_42)
        await tx.identities.link(alice.id, renamed)
        await tx.commit()
    async with storage.uow() as tx:
        assert await tx.identities.list_for(alice.id) == [renamed]


async def test_an_account_linked_to_another_user_is_a_conflict(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    bob = await add_user(storage.uow, "bob")
    async with storage.uow() as tx:
        await tx.identities.link(alice.id, GITHUB_42)
        await tx.commit()
    async with storage.uow() as tx:
        with pytest.raises(Conflict):
            await tx.identities.link(bob.id, GITHUB_42)
        assert await tx.identities.find_user_id(Provider.GITHUB, "42") == alice.id
        assert await tx.identities.list_for(bob.id) == []


async def test_list_for_returns_only_the_users_accounts_in_a_stable_order(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    bob = await add_user(storage.uow, "bob")
    kakao = LinkedAccount(provider=Provider.KAKAO, subject="777", login="alice-k")
    github_7 = LinkedAccount(provider=Provider.GITHUB, subject="7", login="alice-g")
    async with storage.uow() as tx:
        await tx.identities.link(alice.id, kakao)
        await tx.identities.link(bob.id, GITHUB_42)
        await tx.identities.link(alice.id, github_7)
        await tx.commit()
    async with storage.uow() as tx:
        assert await tx.identities.list_for(alice.id) == [github_7, kakao]
        assert await tx.identities.list_for(bob.id) == [GITHUB_42]
