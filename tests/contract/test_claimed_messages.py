"""Contract: ``MessageRepository.add_claimed``, a learner's message sent with an Idempotency-Key
(SPEC §4.2: a retry with the same key within 24 h returns the first result and does not count
again; §5: the quota is exact; issue 15: one statement on PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from chatcore.errors import ChatNotFound, Conflict
from chatcore.model import Message, NewMessage, Role
from chatcore.ports.storage import IdempotencyRecord, UnitOfWork
from contract.conftest import Storage
from contract.helpers import T0, add_chat, add_user, at

DAY = date(2026, 11, 26)
HELLO = NewMessage(role=Role.USER, content="Hello ✨")


async def send(
    tx: UnitOfWork, user_id: int, chat_id: int, *, second: float = 0, limit: int = 5, key: str = "k"
) -> tuple[int, Message] | IdempotencyRecord | None:
    """``add_claimed`` at ``second`` by the service's rules: 24 h window, 600 s in flight."""
    return await tx.messages.add_claimed(
        user_id,
        chat_id,
        HELLO,
        key=key,
        day=DAY,
        limit=limit,
        now=at(second),
        not_before=at(second - 86_400),
        abandoned_before=at(second - 600),
    )


async def state(storage: Storage, user_id: int, chat_id: int) -> tuple[int, list[Message]]:
    async with storage.uow(read_only=True) as tx:
        return await tx.quota.used(user_id, DAY), await tx.messages.for_chat(chat_id)


async def test_the_first_send_takes_a_slot_stores_the_message_and_holds_the_key(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        first = await send(tx, alice.id, chat.id)
        await tx.commit()
    assert isinstance(first, tuple)
    used, message = first
    assert (used, message.role, message.content, message.created_at) == (1, Role.USER, "Hello ✨", T0)
    assert await state(storage, alice.id, chat.id) == (1, [message])
    async with storage.uow() as tx:
        again = await send(tx, alice.id, chat.id, second=5)
        await tx.commit()
    # In flight: the record names the message (attached in the same write), no reply yet.
    assert again == IdempotencyRecord(
        user_id=alice.id, key="k", chat_id=chat.id, created_at=T0, message_id=message.id
    )
    async with storage.uow(one_write=True) as tx:
        reply = await tx.messages.add_reply(
            chat.id,
            NewMessage(role=Role.ASSISTANT, content="Hi!"),
            now=at(6),
            user_id=alice.id,
            message_id=message.id,
            idempotency_key="k",
        )
        await tx.commit()
    async with storage.uow() as tx:
        done = await send(tx, alice.id, chat.id, second=3600)
    assert isinstance(done, IdempotencyRecord)
    assert (done.message_id, done.reply_id) == (message.id, reply.id)
    used_after, stored = await state(storage, alice.id, chat.id)
    assert (used_after, [m.id for m in stored]) == (1, [message.id, reply.id])


async def test_a_refused_send_takes_nothing_and_its_key_stays_free(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        assert await send(tx, alice.id, chat.id, key="a", limit=0) is None  # no slot today yet
    assert await state(storage, alice.id, chat.id) == (0, [])
    async with storage.uow() as tx:
        assert await send(tx, alice.id, chat.id, key="a", limit=1) is not None
        await tx.commit()
    async with storage.uow() as tx:
        assert await send(tx, alice.id, chat.id, key="b", second=1, limit=1) is None
        assert await send(tx, alice.id, chat.id, key="c", second=1, limit=0) is None
        # Left without commit(), as the service does on a refusal.
    used, stored = await state(storage, alice.id, chat.id)
    assert (used, len(stored)) == (1, 1)
    async with storage.uow() as tx:
        retried = await send(tx, alice.id, chat.id, key="b", second=2, limit=2)
        await tx.commit()
    assert isinstance(retried, tuple)
    assert retried[0] == 2


async def test_a_send_to_a_vanished_chat_takes_no_slot_and_leaves_no_claim(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    other = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        await tx.chats.delete(alice.id, chat.id)
        await tx.commit()
    async with storage.uow() as tx:
        with pytest.raises(ChatNotFound):
            await send(tx, alice.id, chat.id)
    async with storage.uow() as tx:
        assert await tx.quota.used(alice.id, DAY) == 0
        # The key is free: it now goes to the other chat.
        sent = await send(tx, alice.id, other.id, second=1)
        await tx.commit()
    assert isinstance(sent, tuple)
    assert sent[0] == 1


async def test_a_key_used_for_another_chat_returns_its_record_and_takes_nothing(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    other = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        first = await send(tx, alice.id, chat.id)
        await tx.commit()
    assert isinstance(first, tuple)
    async with storage.uow() as tx:
        elsewhere = await send(tx, alice.id, other.id, second=1)
        await tx.commit()
    assert isinstance(elsewhere, IdempotencyRecord)
    assert (elsewhere.chat_id, elsewhere.message_id) == (chat.id, first[1].id)
    assert await state(storage, alice.id, other.id) == (1, [])


@pytest.mark.parametrize(
    ("finished", "second", "taken_over"),
    [
        (False, 599, False),  # in flight
        (False, 601, True),  # abandoned
        (True, 86_399, False),  # replays
        (True, 86_401, True),  # over
    ],
)
async def test_an_abandoned_or_expired_claim_is_taken_over(
    storage: Storage, finished: bool, second: int, taken_over: bool
) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        first = await send(tx, alice.id, chat.id)
        await tx.commit()
    assert isinstance(first, tuple)
    if finished:
        async with storage.uow(one_write=True) as tx:
            await tx.messages.add_reply(
                chat.id,
                NewMessage(role=Role.ASSISTANT, content="Hi!"),
                now=at(1),
                user_id=alice.id,
                message_id=first[1].id,
                idempotency_key="k",
            )
            await tx.commit()
    async with storage.uow() as tx:
        again = await send(tx, alice.id, chat.id, second=second, limit=10)
        await tx.commit()
    async with storage.uow() as tx:
        record = await send(tx, alice.id, chat.id, second=second + 1, limit=10)
    assert isinstance(record, IdempotencyRecord)
    if taken_over:
        assert isinstance(again, tuple)
        assert again[0] == 2
        assert (record.created_at, record.message_id, record.reply_id) == (at(second), again[1].id, None)
    else:
        assert isinstance(again, IdempotencyRecord)
        assert again.message_id == first[1].id
        assert (record.created_at, record.message_id) == (T0, first[1].id)
        assert (await state(storage, alice.id, chat.id))[0] == 1


async def test_concurrent_sends_of_one_key_take_one_slot(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)

    async def attempt(i: int) -> tuple[int, Message] | IdempotencyRecord | Conflict | None:
        try:
            async with storage.uow() as tx:
                sent = await send(tx, alice.id, chat.id, second=i / 1000, limit=50)
                if isinstance(sent, tuple):
                    await tx.commit()
            return sent
        except Conflict as exc:
            return exc

    results = await asyncio.gather(*(attempt(i) for i in range(20)))
    owners = [r for r in results if isinstance(r, tuple)]
    assert len(owners) == 1
    assert all(isinstance(r, IdempotencyRecord | Conflict) for r in results if r is not owners[0])
    records = [r for r in results if isinstance(r, IdempotencyRecord)]
    assert all(r.message_id in (None, owners[0][1].id) for r in records)
    assert await state(storage, alice.id, chat.id) == (1, [owners[0][1]])
