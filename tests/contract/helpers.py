"""Small builders shared by the contract specs (they only use the ports)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chatcore.model import Chat, Mode, User
from chatcore.ports.storage import UnitOfWorkFactory

T0 = datetime(2026, 11, 26, 3, 0, 0, 123456, tzinfo=UTC)
"""A fixed instant with microseconds, to check that timestamps survive storage exactly."""


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def add_user(uow: UnitOfWorkFactory, username: str = "alice", *, email: str | None = None) -> User:
    async with uow() as tx:
        user = await tx.users.add(
            username=username, email=email or f"{username}@example.com", password_hash="h", now=T0
        )
        await tx.commit()
    return user


async def add_chat(uow: UnitOfWorkFactory, user_id: int, *, now: datetime = T0, title: str = "chat") -> Chat:
    async with uow() as tx:
        chat = await tx.chats.add(user_id=user_id, title=title, mode=Mode.CONVERSATION, topic="", now=now)
        await tx.commit()
    return chat
