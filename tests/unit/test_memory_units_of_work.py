"""The in-memory units of work the unit tests run on: the store's own and the interleaving one.

A read-only unit of work promises no writes and no commit. A real database may run it without a
transaction, where a write would stick, so the fakes must catch domain code that breaks the
promise; the interleaving wrapper (``tests/unit/interleaving.py``) must catch it as well as the
store's own, or the tests that use it would let such code through.
"""

from __future__ import annotations

import asyncio
import functools
from datetime import UTC, datetime

import pytest

from adapters.memory import MemoryStore
from chatcore.ports.storage import UnitOfWorkFactory

from .interleaving import YieldingUnitOfWork, yielding

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
FACTORIES = {
    "store": lambda store: store.unit_of_work,
    "interleaving": lambda store: functools.partial(yielding, store),
}


@pytest.fixture(params=list(FACTORIES.values()), ids=list(FACTORIES))
def store_and_uow(request: pytest.FixtureRequest) -> tuple[MemoryStore, UnitOfWorkFactory]:
    store = MemoryStore()
    uow: UnitOfWorkFactory = request.param(store)
    return store, uow


async def test_a_read_only_unit_of_work_refuses_to_commit(
    store_and_uow: tuple[MemoryStore, UnitOfWorkFactory],
) -> None:
    _, uow = store_and_uow
    with pytest.raises(RuntimeError, match="read-only"):
        async with uow(read_only=True) as tx:
            await tx.commit()


async def test_a_write_in_a_read_only_unit_of_work_is_caught_and_undone(
    store_and_uow: tuple[MemoryStore, UnitOfWorkFactory],
) -> None:
    _, uow = store_and_uow
    with pytest.raises(RuntimeError, match="read-only"):
        async with uow(read_only=True) as tx:
            await tx.users.add(username="ghost", email="ghost@example.com", password_hash=None, now=T0)
    async with uow(read_only=True) as tx:
        assert await tx.users.find_by_login("ghost") is None


async def test_a_writing_unit_of_work_commits(store_and_uow: tuple[MemoryStore, UnitOfWorkFactory]) -> None:
    _, uow = store_and_uow
    async with uow() as tx:
        await tx.users.add(username="alice", email="alice@example.com", password_hash=None, now=T0)
        await tx.commit()
    async with uow(read_only=True) as tx:
        assert await tx.users.find_by_login("alice") is not None


async def test_the_interleaving_unit_of_work_lets_other_tasks_run_before_it_starts() -> None:
    store = MemoryStore()
    order: list[str] = []

    async def other() -> None:
        order.append("other task")

    async def transaction() -> None:
        async with yielding(store, read_only=True) as tx:
            assert isinstance(tx, YieldingUnitOfWork)
            order.append("transaction")

    await asyncio.gather(transaction(), other())
    assert order == ["other task", "transaction"]
