"""Contract: UnitOfWork (what every storage promises about transactions)."""

from __future__ import annotations

import pytest

from contract.conftest import Storage
from contract.helpers import T0, add_user


async def test_what_is_not_committed_is_rolled_back(storage: Storage) -> None:
    async with storage.uow() as tx:
        await tx.users.add(username="ghost", email="ghost@example.com", password_hash=None, now=T0)
    async with storage.uow(read_only=True) as tx:
        assert await tx.users.find_by_login("ghost") is None


async def test_a_read_only_unit_of_work_reads_what_was_committed(storage: Storage) -> None:
    user = await add_user(storage.uow)
    async with storage.uow(read_only=True) as tx:
        assert await tx.users.get(user.id) == user
        assert await tx.quota.used(user.id, T0.date()) == 0


async def test_a_read_only_unit_of_work_refuses_to_commit(storage: Storage) -> None:
    # PostgreSQL runs it without a transaction: a commit there would suggest writes were intended.
    with pytest.raises(RuntimeError, match="read-only"):
        async with storage.uow(read_only=True) as tx:
            await tx.commit()
