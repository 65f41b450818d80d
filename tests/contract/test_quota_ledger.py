"""Contract: QuotaLedger (SPEC §5: exact under any concurrency, give-back never below zero)."""

from __future__ import annotations

import asyncio
from datetime import date

from contract.conftest import Storage
from contract.helpers import add_user

DAY = date(2026, 11, 26)
NEXT_DAY = date(2026, 11, 27)


async def test_slots_are_taken_up_to_the_limit(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    async with storage.uow() as tx:
        taken = [await tx.quota.consume(alice.id, DAY, limit=3) for _ in range(5)]
        await tx.commit()
    assert taken == [1, 2, 3, None, None]
    async with storage.uow() as tx:
        assert await tx.quota.used(alice.id, DAY) == 3


async def test_days_and_users_count_separately(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    bob = await add_user(storage.uow, "bob")
    async with storage.uow() as tx:
        assert await tx.quota.consume(alice.id, DAY, limit=1) == 1
        assert await tx.quota.consume(alice.id, DAY, limit=1) is None
        assert await tx.quota.consume(alice.id, NEXT_DAY, limit=1) == 1
        assert await tx.quota.consume(bob.id, DAY, limit=1) == 1
        await tx.commit()
    async with storage.uow() as tx:
        assert await tx.quota.used(alice.id, DAY) == 1
        assert await tx.quota.used(bob.id, NEXT_DAY) == 0


async def test_a_raised_limit_opens_more_slots(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    async with storage.uow() as tx:
        assert await tx.quota.consume(alice.id, DAY, limit=1) == 1
        assert await tx.quota.consume(alice.id, DAY, limit=1) is None
        assert await tx.quota.consume(alice.id, DAY, limit=2) == 2


async def test_a_limit_of_zero_grants_nothing(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    async with storage.uow() as tx:
        assert await tx.quota.consume(alice.id, DAY, limit=0) is None
        assert await tx.quota.used(alice.id, DAY) == 0


async def test_a_slot_given_back_can_be_taken_again(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    async with storage.uow() as tx:
        assert await tx.quota.consume(alice.id, DAY, limit=2) == 1
        assert await tx.quota.consume(alice.id, DAY, limit=2) == 2
        await tx.quota.give_back(alice.id, DAY)
        assert await tx.quota.used(alice.id, DAY) == 1
        assert await tx.quota.consume(alice.id, DAY, limit=2) == 2
        await tx.commit()


async def test_giving_back_never_goes_below_zero(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    async with storage.uow() as tx:
        await tx.quota.give_back(alice.id, DAY)
        assert await tx.quota.used(alice.id, DAY) == 0
        assert await tx.quota.consume(alice.id, DAY, limit=5) == 1
        await tx.quota.give_back(alice.id, DAY)
        await tx.quota.give_back(alice.id, DAY)
        await tx.commit()
    async with storage.uow() as tx:
        assert await tx.quota.used(alice.id, DAY) == 0
        assert await tx.quota.consume(alice.id, DAY, limit=1) == 1


async def test_a_slot_taken_in_a_rolled_back_transaction_is_not_counted(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    async with storage.uow() as tx:
        assert await tx.quota.consume(alice.id, DAY, limit=5) == 1
    async with storage.uow() as tx:
        assert await tx.quota.used(alice.id, DAY) == 0


async def test_200_concurrent_requests_get_exactly_the_limit(storage: Storage) -> None:
    alice = await add_user(storage.uow)

    async def request_slot() -> int | None:
        async with storage.uow() as tx:
            taken = await tx.quota.consume(alice.id, DAY, limit=5)
            await tx.commit()
        return taken

    results = await asyncio.gather(*(request_slot() for _ in range(200)))
    assert sorted(r for r in results if r is not None) == [1, 2, 3, 4, 5]
    async with storage.uow() as tx:
        assert await tx.quota.used(alice.id, DAY) == 5
