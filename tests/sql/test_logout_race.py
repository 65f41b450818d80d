"""A logout racing a refresh of the same token on PostgreSQL (READ COMMITTED) still ends the chain."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from adapters.memory import MemoryAttemptLimiter
from adapters.sql import SqlUnitOfWorkFactory, create_engine_for, upgrade_to_head
from chatcore.accounts import AccountService, digest
from chatcore.model import RefreshRecord
from chatcore.testing import FrozenClock, HmacTokens, QuickHasher

PASSWORD = "race password 1"


async def test_logout_waiting_on_a_refresh_revokes_the_token_it_issued(empty_postgres_url: str) -> None:
    await upgrade_to_head(empty_postgres_url)
    engine = create_engine_for(empty_postgres_url)
    uow = SqlUnitOfWorkFactory(engine)
    clock = FrozenClock()
    accounts = AccountService(
        uow=uow, hasher=QuickHasher(), tokens=HmacTokens(b"race"), clock=clock, limiter=MemoryAttemptLimiter()
    )
    try:
        user = await accounts.register(
            username="racer", email="racer@example.com", password=PASSWORD, password2=PASSWORD
        )
        pair = await accounts.issue_tokens(user.id)
        # A refresh in flight: the presented token is used (its row locked) and the next one stored.
        async with uow() as refresh:
            record = await refresh.refresh_tokens.find(digest(pair.refresh))
            assert record is not None
            assert await refresh.refresh_tokens.mark_used(record.token_hash)
            logout = asyncio.create_task(accounts.logout(pair.refresh))
            await asyncio.sleep(0.5)
            assert not logout.done()  # waits for the refresh's row lock
            rotated = RefreshRecord(
                token_hash=digest("the rotated token"),
                user_id=user.id,
                family=record.family,
                expires_at=clock.now() + timedelta(days=1),
            )
            await refresh.refresh_tokens.add(rotated)
            await refresh.commit()
        await logout
        async with uow(read_only=True) as check:
            stored = await check.refresh_tokens.find(rotated.token_hash)
        assert stored is not None
        assert stored.revoked
    finally:
        await engine.dispose()
