"""The benchmarked workload: seed data, the transaction through the adapter, timing helpers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from adapters.sql import SqlUnitOfWorkFactory, create_engine_for, upgrade_to_head
from adapters.sql.schema import messages
from chatcore.model import Mode, NewMessage, Role

TASKS = (1, 16)
DAY = date(2026, 11, 26)
LIMIT = 1_000_000_000  # the slot is always granted: the benchmark measures the accepted path
QUESTION = "Could you tell me more about the team I would be working with?"
ANSWER = "Of course. You would join a team of six engineers who build the payment platform."


@dataclass(frozen=True)
class Owner:
    user_id: int
    chat_id: int


def now() -> datetime:
    return datetime.now(UTC)


def sqlite_stamp(instant: datetime) -> str:
    """The text SQLAlchemy stores for a UTC instant in SQLite."""
    return instant.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


# --- set-up -----------------------------------------------------------------------------------


async def seed(url: str) -> list[Owner]:
    """A user with a chat for each task (the schema comes from the shipped migrations)."""
    await upgrade_to_head(url)
    engine = create_engine_for(url)
    owners = []
    try:
        async with SqlUnitOfWorkFactory(engine)() as tx:
            for i in range(max(TASKS)):
                user = await tx.users.add(
                    username=f"bench{i}", email=f"bench{i}@example.com", password_hash=None, now=now()
                )
                chat = await tx.chats.add(
                    user_id=user.id, title="Bench", mode=Mode.INTERVIEW, topic="backend", now=now()
                )
                owners.append(Owner(user.id, chat.id))
            await tx.commit()
    finally:
        await engine.dispose()
    return owners


async def stored_messages(url: str) -> int:
    engine = create_engine_for(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(messages))).scalar_one())
    finally:
        await engine.dispose()


# --- the transaction, four ways ------------------------------------------------------------------


async def adapter_run(url: str, owners: list[Owner], tasks: int, count: int) -> float:
    engine = create_engine_for(url)
    uow = SqlUnitOfWorkFactory(engine)

    async def transaction(owner: Owner) -> None:
        stamp = now()
        async with uow() as tx:
            await tx.quota.consume(owner.user_id, DAY, limit=LIMIT)
            await tx.messages.add(owner.chat_id, NewMessage(role=Role.USER, content=QUESTION), now=stamp)
            await tx.messages.add(
                owner.chat_id, NewMessage(role=Role.ASSISTANT, content=ANSWER, model="bench"), now=stamp
            )
            await tx.commit()

    try:
        return await async_rate(transaction, owners, tasks, count)
    finally:
        await engine.dispose()


async def async_rate(
    transaction: Callable[[Owner], Awaitable[None]], owners: list[Owner], tasks: int, count: int
) -> float:
    per_task = count // tasks

    async def task(owner: Owner) -> None:
        for _ in range(per_task):
            await transaction(owner)

    await asyncio.gather(*(transaction(owners[i]) for i in range(tasks)))  # warm the pool
    began = time.perf_counter()
    await asyncio.gather(*(task(owners[i]) for i in range(tasks)))
    return per_task * tasks / (time.perf_counter() - began)
