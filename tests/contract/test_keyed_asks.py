"""The tutor's messages sent with an Idempotency-Key, on every storage (SPEC §4.2: a retry with the
same key within 24 h returns the first result and does not count again; §5: the quota is exact).

The storage contract of ``add_claimed`` is in ``test_claimed_messages``; this checks the service's
use of it: the unit of work it runs in (a refusal must roll the claim back) and concurrent retries.
"""

from __future__ import annotations

import asyncio

import pytest

from chatcore.chats import ChatService
from chatcore.errors import Conflict, QuotaExceeded
from chatcore.model import User
from chatcore.quota import QuotaPolicy
from chatcore.results import PendingAsk
from chatcore.testing import FrozenClock, ScriptedLLM
from chatcore.tutoring import TutorService
from contract.conftest import Storage
from contract.helpers import add_user


def services(storage: Storage, clock: FrozenClock, *, limit: int) -> tuple[TutorService, ChatService]:
    chats = ChatService(uow=storage.uow, clock=clock)
    tutor = TutorService(
        uow=storage.uow, llm=ScriptedLLM(), clock=clock, policy=QuotaPolicy(limit=limit), chats=chats
    )
    return tutor, chats


async def used_today(tutor: TutorService, user: User) -> int:
    return (await tutor.quota(user.id)).used


async def test_a_retry_replays_the_first_exchange_without_counting(storage: Storage) -> None:
    clock = FrozenClock()
    tutor, chats = services(storage, clock, limit=5)
    alice = await add_user(storage.uow)
    chat = await chats.start_chat(alice.id)
    first = await tutor.ask(alice.id, chat.id, "Hello", idempotency_key="key-1")
    clock.advance(minutes=1)
    again = await tutor.ask(alice.id, chat.id, "Hello", idempotency_key="key-1")
    assert (again.message, again.reply) == (first.message, first.reply)
    assert await used_today(tutor, alice) == 1
    assert len((await chats.read_chat(alice.id, chat.id)).messages) == 2


async def test_a_refused_message_keeps_no_claim(storage: Storage) -> None:
    clock = FrozenClock()
    tutor, chats = services(storage, clock, limit=2)
    alice = await add_user(storage.uow)
    chat = await chats.start_chat(alice.id)
    for n in range(2):
        await tutor.ask(alice.id, chat.id, f"question {n}")
    with pytest.raises(QuotaExceeded):
        await tutor.ask(alice.id, chat.id, "Hello", idempotency_key="key-1")
    # A minute later (a claim left behind would still be in flight), with a higher limit.
    async with storage.uow() as tx:
        await tx.users.set_daily_limit(alice.id, 3)
        await tx.commit()
    clock.advance(minutes=1)
    exchange = await tutor.ask(alice.id, chat.id, "Hello", idempotency_key="key-1")
    assert exchange.reply.content == "You said: Hello"
    assert exchange.quota.used == 3


async def test_concurrent_retries_of_one_key_take_one_slot(storage: Storage) -> None:
    clock = FrozenClock()
    tutor, chats = services(storage, clock, limit=50)
    alice = await add_user(storage.uow)
    chat = await chats.start_chat(alice.id)

    async def accept() -> object:
        try:
            return await tutor.accept(alice.id, chat.id, "Hello", idempotency_key="key-1")
        except Conflict as exc:  # still being processed
            return exc

    results = await asyncio.gather(*(accept() for _ in range(12)))
    assert sum(isinstance(r, PendingAsk) for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == 11
    assert await used_today(tutor, alice) == 1
    assert len((await chats.read_chat(alice.id, chat.id)).messages) == 1
