"""Benchmark: memory of ``GET /accounts/export/`` stays flat as a learner's history grows (issue 16).

Seeds one user with ``N`` messages (200 characters each, spread over chats of 500), then reads
the whole export through :class:`chatcore.privacy.PrivacyService` (what the endpoint streams)
and reports the tracemalloc peak of the export alone, and the time it took.

    uv run python bench/export_memory.py [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test]

PostgreSQL runs in a scratch database created on that server and dropped afterwards.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import tracemalloc
from datetime import UTC, datetime

from scratch import on_each_database
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.identity import JoseTokenService
from adapters.memory import MemoryAttemptLimiter
from adapters.sql import SqlUnitOfWorkFactory, create_engine_for, upgrade_to_head
from adapters.sql.schema import chats, messages, users
from chatcore.accounts import AccountService
from chatcore.clock import SystemClock
from chatcore.privacy import PrivacyService
from chatcore.testing import QuickHasher

SIZES = (1_000, 10_000, 50_000)
PER_CHAT = 500
NOW = datetime(2026, 12, 3, tzinfo=UTC)


async def seed(engine: AsyncEngine, count: int) -> int:
    """A user with ``count`` messages; returns the user id."""
    async with engine.begin() as conn:
        name = f"u{secrets.token_hex(4)}"
        user_id: int = (
            await conn.execute(
                insert(users)
                .values(username=name, username_key=name, email=None, password_hash=None, date_joined=NOW)
                .returning(users.c.id)
            )
        ).scalar_one()
        for start in range(0, count, PER_CHAT):
            chat_id: int = (
                await conn.execute(
                    insert(chats)
                    .values(
                        user_id=user_id,
                        title="t",
                        mode="conversation",
                        topic="",
                        created_at=NOW,
                        updated_at=NOW,
                    )
                    .returning(chats.c.id)
                )
            ).scalar_one()
            rows = [
                {
                    "chat_id": chat_id,
                    "role": "user" if n % 2 == 0 else "assistant",
                    "content": f"{n:06d} " + "x" * 193,
                    "created_at": NOW,
                    "status": "ok",
                    "model": "offline-tutor",
                }
                for n in range(start, min(start + PER_CHAT, count))
            ]
            await conn.execute(insert(messages), rows)
    return user_id


def service(engine: AsyncEngine) -> PrivacyService:
    uow = SqlUnitOfWorkFactory(engine)
    limiter = MemoryAttemptLimiter()
    clock = SystemClock()
    tokens = JoseTokenService(secrets.token_urlsafe(32), access_ttl=900)
    accounts = AccountService(uow=uow, hasher=QuickHasher(), tokens=tokens, clock=clock, limiter=limiter)
    return PrivacyService(uow=uow, accounts=accounts, limiter=limiter, clock=clock)


async def measure(engine: AsyncEngine, user_id: int) -> tuple[int, int, float]:
    """(peak bytes, exported bytes, seconds) of one whole export."""
    privacy = service(engine)
    tracemalloc.start()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    export = await privacy.export(user_id)
    size = 0
    async for chunk in export.chunks:
        size += len(chunk.encode())
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, size, elapsed


async def run(url: str, label: str) -> None:
    await upgrade_to_head(url)
    engine = create_engine_for(url)
    try:
        for count in SIZES:
            user_id = await seed(engine, count)
            peak, size, elapsed = await measure(engine, user_id)
            print(
                f"{label:10} {count:>7,} messages  export {size / 1e6:6.1f} MB  "
                f"peak {peak / 1e6:5.2f} MB  {elapsed:5.2f} s"
            )
    finally:
        await engine.dispose()


async def main() -> None:
    await on_each_database(run, description=__doc__.splitlines()[0], prefix="bench_export")


if __name__ == "__main__":
    asyncio.run(main())
