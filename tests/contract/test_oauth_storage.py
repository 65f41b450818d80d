"""Contract: OAuthRepository and IdentityRepository.unlink (SPEC §4.1): a started login is used
once, by the browser that started it, before it expires; a one-time code works once within its
time; unlinking never leaves a user without a way to log in."""

from __future__ import annotations

import asyncio

import pytest

from chatcore.errors import LastLoginMethod
from chatcore.model import LinkedAccount, Provider
from chatcore.ports.storage import OAuthState, UnitOfWorkFactory
from contract.conftest import Storage
from contract.helpers import T0, add_user, at

STATE = "s" * 64
BROWSER = "b" * 64
KAKAO_7 = LinkedAccount(provider=Provider.KAKAO, subject="7", login="minji")
GITHUB_9 = LinkedAccount(provider=Provider.GITHUB, subject="9", login="octo")


def started(*, user_id: int | None = None, expires: float = 600) -> OAuthState:
    return OAuthState(
        state_hash=STATE,
        browser_hash=BROWSER,
        provider=Provider.KAKAO,
        expires_at=at(expires),
        user_id=user_id,
    )


async def add_state(uow: UnitOfWorkFactory, state: OAuthState) -> None:
    async with uow() as tx:
        await tx.oauth.add_state(state)
        await tx.commit()


async def take(
    uow: UnitOfWorkFactory, *, browser: str = BROWSER, provider: Provider = Provider.KAKAO, now: float = 1
) -> OAuthState | None:
    async with uow() as tx:
        found = await tx.oauth.take_state(
            state_hash=STATE, browser_hash=browser, provider=provider, now=at(now)
        )
        await tx.commit()
    return found


async def test_a_state_is_taken_once_with_what_it_was_stored_with(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    await add_state(storage.uow, started(user_id=alice.id))

    assert await take(storage.uow) == started(user_id=alice.id)
    assert await take(storage.uow) is None


async def test_another_browser_neither_takes_nor_spends_the_state(storage: Storage) -> None:
    await add_state(storage.uow, started())

    assert await take(storage.uow, browser="x" * 64) is None
    assert await take(storage.uow, provider=Provider.GITHUB) is None
    assert await take(storage.uow) == started()


async def test_an_expired_state_is_not_taken_and_is_purged(storage: Storage) -> None:
    await add_state(storage.uow, started(expires=600))

    assert await take(storage.uow, now=600) is None
    async with storage.uow() as tx:
        assert await tx.oauth.purge(now=at(599)) == 0
        assert await tx.oauth.purge(now=at(601)) == 1
        await tx.commit()


async def test_of_concurrent_takes_exactly_one_gets_the_state(storage: Storage) -> None:
    await add_state(storage.uow, started())

    results = await asyncio.gather(*(take(storage.uow) for _ in range(8)))

    assert sum(r is not None for r in results) == 1


async def test_a_code_works_once_before_it_expires(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    async with storage.uow() as tx:
        await tx.oauth.add_code(code_hash="c1".ljust(64, "0"), user_id=alice.id, expires_at=at(60))
        await tx.oauth.add_code(code_hash="c2".ljust(64, "0"), user_id=alice.id, expires_at=at(60))
        await tx.commit()
    async with storage.uow() as tx:
        assert await tx.oauth.use_code("c1".ljust(64, "0"), now=at(59)) == alice.id
        assert await tx.oauth.use_code("c1".ljust(64, "0"), now=at(59)) is None
        assert await tx.oauth.use_code("c2".ljust(64, "0"), now=at(60)) is None  # expired
        assert await tx.oauth.use_code("unknown".ljust(64, "0"), now=T0) is None
        await tx.commit()
    async with storage.uow() as tx:
        assert await tx.oauth.purge(now=at(61)) == 2
        await tx.commit()


async def test_of_concurrent_uses_of_a_code_exactly_one_wins(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    async with storage.uow() as tx:
        await tx.oauth.add_code(code_hash="c".ljust(64, "0"), user_id=alice.id, expires_at=at(60))
        await tx.commit()

    async def use() -> int | None:
        async with storage.uow() as tx:
            user_id = await tx.oauth.use_code("c".ljust(64, "0"), now=at(1))
            await tx.commit()
        return user_id

    assert sorted(map(str, await asyncio.gather(*(use() for _ in range(8))))) == sorted(
        [str(alice.id)] + ["None"] * 7
    )


async def _oauth_only(storage: Storage, *accounts: LinkedAccount) -> int:
    async with storage.uow() as tx:
        user = await tx.users.add(username="kakao_7", email=None, password_hash=None, now=T0)
        for account in accounts:
            await tx.identities.link(user.id, account)
        await tx.commit()
    return user.id


async def test_unlinking_the_last_way_in_is_refused(storage: Storage) -> None:
    user_id = await _oauth_only(storage, KAKAO_7)

    async with storage.uow() as tx:
        with pytest.raises(LastLoginMethod):
            await tx.identities.unlink(user_id, Provider.KAKAO)
        assert await tx.identities.unlink(user_id, Provider.GITHUB) is False
    async with storage.uow() as tx:
        assert await tx.identities.list_for(user_id) == [KAKAO_7]


async def test_with_another_provider_or_a_password_unlinking_works(storage: Storage) -> None:
    user_id = await _oauth_only(storage, KAKAO_7, GITHUB_9)
    alice = await add_user(storage.uow)  # has a password
    async with storage.uow() as tx:
        await tx.identities.link(
            alice.id, LinkedAccount(provider=Provider.GITHUB, subject="1", login="alice")
        )
        await tx.commit()

    async with storage.uow() as tx:
        assert await tx.identities.unlink(user_id, Provider.GITHUB) is True
        assert await tx.identities.unlink(alice.id, Provider.GITHUB) is True
        await tx.commit()
    async with storage.uow() as tx:
        assert await tx.identities.list_for(user_id) == [KAKAO_7]
        assert await tx.identities.list_for(alice.id) == []
        assert await tx.identities.find_user_id(Provider.GITHUB, "9") is None


async def test_concurrent_unlinks_leave_a_way_in(storage: Storage) -> None:
    user_id = await _oauth_only(storage, KAKAO_7, GITHUB_9)

    async def unlink(provider: Provider) -> bool:
        try:
            async with storage.uow() as tx:
                await tx.identities.unlink(user_id, provider)
                await tx.commit()
        except LastLoginMethod:
            return False
        return True

    done = await asyncio.gather(unlink(Provider.KAKAO), unlink(Provider.GITHUB))

    assert sorted(done) == [False, True]
    async with storage.uow() as tx:
        assert len(await tx.identities.list_for(user_id)) == 1
