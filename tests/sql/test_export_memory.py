"""The export streams (SPEC §4.1; issue 16): its memory does not grow with the history.

A learner with 10,000 messages is exported with about the same peak as one with 1,000: pages of
chats and messages are read one at a time (bench/export_memory.py has the figures)."""

from __future__ import annotations

import json
import secrets
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.identity import JoseTokenService
from adapters.memory import MemoryAttemptLimiter
from adapters.sql import SqlUnitOfWorkFactory, create_engine_for, upgrade_to_head
from adapters.sql.schema import chats, messages, users
from chatcore.accounts import AccountService
from chatcore.privacy import PrivacyService
from chatcore.quota import QuotaPolicy
from chatcore.testing import FrozenClock, QuickHasher

NOW = datetime(2026, 12, 3, tzinfo=UTC)
PER_CHAT = 2_500


async def seed(engine: AsyncEngine, name: str, count: int) -> int:
    async with engine.begin() as conn:
        user = insert(users).values(username=name, username_key=name, password_hash="h", date_joined=NOW)
        user_id: int = (await conn.execute(user.returning(users.c.id))).scalar_one()
        for start in range(0, count, PER_CHAT):
            chat = insert(chats).values(
                user_id=user_id, title="t", mode="interview", topic="", created_at=NOW, updated_at=NOW
            )
            chat_id: int = (await conn.execute(chat.returning(chats.c.id))).scalar_one()
            rows = [
                {
                    "chat_id": chat_id,
                    "role": "user",
                    "content": f"{n} " + "x" * 200,
                    "created_at": NOW,
                    "status": "ok",
                    "model": "",
                }
                for n in range(start, min(start + PER_CHAT, count))
            ]
            await conn.execute(insert(messages), rows)
    return user_id


async def peak_of_export(privacy: PrivacyService, user_id: int) -> tuple[int, int]:
    """(tracemalloc peak while exporting, number of messages in the export)."""
    tracemalloc.start()
    try:
        export = await privacy.export(user_id)
        parts = [len(chunk) async for chunk in export.chunks]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del parts
    whole = await privacy.export(user_id)
    document = json.loads("".join([chunk async for chunk in whole.chunks]))
    return peak, sum(len(c["messages"]) for c in document["chats"])


async def test_the_peak_memory_of_an_export_does_not_grow_with_the_history(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'export.sqlite3'}"
    await upgrade_to_head(url)
    engine = create_engine_for(url)
    try:
        uow = SqlUnitOfWorkFactory(engine)
        clock = FrozenClock()
        limiter = MemoryAttemptLimiter()
        tokens = JoseTokenService(secrets.token_urlsafe(32), access_ttl=900)
        accounts = AccountService(uow=uow, hasher=QuickHasher(), tokens=tokens, clock=clock, limiter=limiter)
        policy = QuotaPolicy.from_names(limit=5, zone="Asia/Seoul")
        privacy = PrivacyService(uow=uow, accounts=accounts, limiter=limiter, clock=clock, policy=policy)
        small = await seed(engine, "small", 1_000)
        large = await seed(engine, "large", 10_000)

        small_peak, small_count = await peak_of_export(privacy, small)
        large_peak, large_count = await peak_of_export(privacy, large)
    finally:
        await engine.dispose()

    assert (small_count, large_count) == (1_000, 10_000)
    # 10 times the history (2.2 MB of text against 0.2 MB) within 2 times the peak.
    assert large_peak < 2 * small_peak, (small_peak, large_peak)
