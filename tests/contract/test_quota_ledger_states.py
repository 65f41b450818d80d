"""Contract: QuotaLedger, as a state machine (SPEC §5). The SQL ledger follows the memory one.

Hypothesis draws sequences of steps (take a slot with a drawn limit, give one back, commit or
roll back) over a few users and quota days, and runs each step on the memory ledger and on a
SQL one (SQLite, PostgreSQL); after every step each (user, day) count must be the same in both.
The memory ledger is the model: simple enough to check by reading; the unit tests' quota
property (tests/unit/test_quota_properties.py) checks it against a hand-kept count.

Each run starts from empty ledgers: a new memory store, and the SQL quota table emptied (the
users it refers to are made once per test).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import date
from typing import Any, ClassVar, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import delete

from adapters.memory import MemoryStore
from adapters.sql import SqlUnitOfWorkFactory, create_engine_for
from adapters.sql.schema import quota_usage
from chatcore.ports.storage import UnitOfWorkFactory
from contract.databases import run
from contract.helpers import add_user

T = TypeVar("T")
DAYS = (date(2026, 11, 26), date(2026, 11, 27), date(2027, 1, 1))
USERNAMES = ("alice", "bob")

users = st.sampled_from(range(len(USERNAMES)))
days = st.sampled_from(DAYS)
limits = st.integers(min_value=0, max_value=4)


class LedgerComparison(RuleBasedStateMachine):
    """One run: a fresh memory ledger and an emptied SQL ledger, stepped together."""

    url: ClassVar[str]
    user_ids: ClassVar[tuple[int, ...]]

    def __init__(self) -> None:
        super().__init__()
        # The SQL engine belongs to one event loop; this run keeps one for all its steps.
        self.loop = asyncio.new_event_loop()
        self.engine = create_engine_for(self.url)
        self.memory: UnitOfWorkFactory = MemoryStore().unit_of_work
        self.sql: UnitOfWorkFactory = SqlUnitOfWorkFactory(self.engine)
        self._run(self._empty_sql_ledger())

    def _run(self, step: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(step)

    async def _empty_sql_ledger(self) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(quota_usage))

    def teardown(self) -> None:
        try:
            self._run(self.engine.dispose())
        finally:
            self.loop.close()

    @rule(user=users, day=days, limit=limits, commit=st.booleans())
    def consume(self, user: int, day: date, limit: int, commit: bool) -> None:
        async def step(uow: UnitOfWorkFactory) -> int | None:
            async with uow() as tx:
                taken = await tx.quota.consume(self.user_ids[user], day, limit=limit)
                if commit:
                    await tx.commit()
            return taken

        assert self._run(step(self.sql)) == self._run(step(self.memory))

    @rule(user=users, day=days, times=st.integers(min_value=1, max_value=3), commit=st.booleans())
    def give_back(self, user: int, day: date, times: int, commit: bool) -> None:
        async def step(uow: UnitOfWorkFactory) -> int:
            async with uow() as tx:
                for _ in range(times):
                    await tx.quota.give_back(self.user_ids[user], day)
                used = await tx.quota.used(self.user_ids[user], day)
                if commit:
                    await tx.commit()
            return used

        assert self._run(step(self.sql)) == self._run(step(self.memory))

    @rule(user=users, day=days, limits=st.lists(limits, min_size=2, max_size=6))
    def consume_several_in_one_transaction(self, user: int, day: date, limits: list[int]) -> None:
        async def step(uow: UnitOfWorkFactory) -> list[int | None]:
            async with uow() as tx:
                taken = [await tx.quota.consume(self.user_ids[user], day, limit=limit) for limit in limits]
                await tx.commit()
            return taken

        assert self._run(step(self.sql)) == self._run(step(self.memory))

    @invariant()
    def every_count_is_the_same(self) -> None:
        async def counts(uow: UnitOfWorkFactory) -> list[int]:
            async with uow(read_only=True) as tx:
                return [await tx.quota.used(user_id, day) for user_id in self.user_ids for day in DAYS]

        found = self._run(counts(self.sql))
        assert found == self._run(counts(self.memory))
        assert all(count >= 0 for count in found)


async def _add_users(url: str) -> tuple[int, ...]:
    engine = create_engine_for(url)
    try:
        return tuple([(await add_user(SqlUnitOfWorkFactory(engine), name)).id for name in USERNAMES])
    finally:
        await engine.dispose()


def test_the_sql_ledger_follows_the_memory_ledger_step_by_step(sql_url: str) -> None:
    # A synchronous test: each run drives its own event loop (see LedgerComparison.__init__).
    users_made = run(_add_users(sql_url))

    class OnThisDatabase(LedgerComparison):
        url = sql_url
        user_ids = users_made

    run_state_machine_as_test(
        OnThisDatabase,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
