"""Contract: RefreshTokenRepository (SPEC §4.1: rotation, reuse detection, revocation)."""

from __future__ import annotations

import asyncio

import pytest

from chatcore.model import RefreshRecord
from contract.conftest import Storage
from contract.helpers import add_user, at


def record(token_hash: str, user_id: int, family: str = "fam-1") -> RefreshRecord:
    return RefreshRecord(token_hash=token_hash, user_id=user_id, family=family, expires_at=at(3600))


async def test_a_token_is_found_by_its_hash(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    stored = record("a" * 64, alice.id)
    async with storage.uow() as tx:
        await tx.refresh_tokens.add(stored)
        await tx.commit()
    async with storage.uow() as tx:
        assert await tx.refresh_tokens.find("a" * 64) == stored
        assert await tx.refresh_tokens.find("b" * 64) is None


async def test_a_token_is_marked_used_only_once(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    async with storage.uow() as tx:
        await tx.refresh_tokens.add(record("t1", alice.id))
        assert await tx.refresh_tokens.mark_used("t1") is True
        assert await tx.refresh_tokens.mark_used("t1") is False
        assert await tx.refresh_tokens.mark_used("unknown") is False
        await tx.commit()
    async with storage.uow() as tx:
        found = await tx.refresh_tokens.find("t1")
    assert found is not None
    assert (found.used, found.revoked) == (True, False)


async def test_concurrent_rotations_of_one_token_let_exactly_one_win(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    async with storage.uow() as tx:
        await tx.refresh_tokens.add(record("t1", alice.id))
        await tx.commit()

    async def rotate() -> bool:
        async with storage.uow() as tx:
            won = await tx.refresh_tokens.mark_used("t1")
            await tx.commit()
        return won

    assert sorted(await asyncio.gather(*(rotate() for _ in range(20)))) == [False] * 19 + [True]


async def test_revoking_a_family_stops_only_that_chain(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    async with storage.uow() as tx:
        await tx.refresh_tokens.add(record("f1-a", alice.id, family="f1"))
        await tx.refresh_tokens.add(record("f1-b", alice.id, family="f1"))
        await tx.refresh_tokens.add(record("f2-a", alice.id, family="f2"))
        await tx.refresh_tokens.revoke_family("f1")
        await tx.commit()
    async with storage.uow() as tx:
        revoked = [await tx.refresh_tokens.find(h) for h in ("f1-a", "f1-b", "f2-a")]
        assert [r.revoked if r else None for r in revoked] == [True, True, False]
        assert await tx.refresh_tokens.mark_used("f1-a") is False
        assert await tx.refresh_tokens.mark_used("f2-a") is True


async def test_revoking_a_user_stops_all_their_chains(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    bob = await add_user(storage.uow, "bob")
    async with storage.uow() as tx:
        await tx.refresh_tokens.add(record("a1", alice.id, family="fa1"))
        await tx.refresh_tokens.add(record("a2", alice.id, family="fa2"))
        await tx.refresh_tokens.add(record("b1", bob.id, family="fb1"))
        await tx.refresh_tokens.revoke_user(alice.id)
        await tx.commit()
    async with storage.uow() as tx:
        found = [await tx.refresh_tokens.find(h) for h in ("a1", "a2", "b1")]
    assert [r.revoked if r else None for r in found] == [True, True, False]


@pytest.mark.parametrize(
    ("old_family", "purged"), [("ended", 1), ("live", 0)], ids=["its chain expired", "its chain is live"]
)
async def test_an_expired_token_is_purged_only_with_its_whole_chain(
    storage: Storage, old_family: str, purged: int
) -> None:
    # An expired token of a live chain still ends it at logout (or exposes it when reused).
    alice = await add_user(storage.uow)
    old = RefreshRecord(token_hash="old", user_id=alice.id, family=old_family, expires_at=at(10))
    new = RefreshRecord(token_hash="new", user_id=alice.id, family="live", expires_at=at(100))
    async with storage.uow() as tx:
        await tx.refresh_tokens.add(old)
        await tx.refresh_tokens.add(new)
        await tx.commit()
    async with storage.uow() as tx:
        assert await tx.refresh_tokens.purge_expired(at(50)) == purged
        await tx.commit()
    async with storage.uow() as tx:
        assert await tx.refresh_tokens.find("old") == (None if purged else old)
        assert await tx.refresh_tokens.find("new") == new
        assert await tx.refresh_tokens.purge_expired(at(150)) == 2 - purged
