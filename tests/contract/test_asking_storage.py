"""Contract: what asking the tutor reads and writes in one step each (SPEC §4.2, §5, §4.7; issue 15):
``MessageRepository.ask_context``, ``ask_counted`` (its counted write) and ``add_reply``, also in
``one_write`` units of work."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, datetime

import pytest

from chatcore.errors import ChatNotFound
from chatcore.model import Message, MessageStatus, NewMessage, Role
from chatcore.ports.storage import UnitOfWork
from contract.conftest import Storage
from contract.helpers import CORRECTION, FEEDBACK, T0, add_chat, add_user, at

DAY = date(2026, 11, 26)
HELLO = NewMessage(role=Role.USER, content="Hello ✨")


async def counted_write(
    tx: UnitOfWork, user_id: int, chat_id: int, *, limit: int, now: datetime
) -> tuple[int, Message] | None:
    """The slot and the learner's message of ``MessageRepository.ask_counted`` (no history read)."""
    asked = await tx.messages.ask_counted(
        user_id, chat_id, HELLO, day=DAY, default_limit=limit, history=0, now=now
    )
    return asked.counted


async def test_the_context_is_the_user_their_chat_and_its_last_messages(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    other = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        stored = []
        for i in range(5):
            stored.append(
                await tx.messages.add(chat.id, NewMessage(role=Role.USER, content=f"m{i}"), now=at(i))
            )
            await tx.messages.add(other.id, NewMessage(role=Role.USER, content=f"o{i}"), now=at(i))
        await tx.commit()
    async with storage.uow(read_only=True) as tx:
        context = await tx.messages.ask_context(alice.id, chat.id, limit=3)
        everything = await tx.messages.ask_context(alice.id, chat.id, limit=100)
        nothing = await tx.messages.ask_context(alice.id, chat.id, limit=0)
        expected_chat = await tx.chats.get(alice.id, chat.id)
    assert context.user == alice
    assert context.chat == expected_chat
    assert context.history == stored[2:]
    assert everything.history == stored
    assert (nothing.chat, nothing.history) == (expected_chat, [])


async def test_the_context_of_an_empty_chat_has_no_history(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow(read_only=True) as tx:
        context = await tx.messages.ask_context(alice.id, chat.id, limit=23)
    assert (context.user, context.chat, context.history) == (alice, chat, [])


async def test_another_users_chat_a_missing_chat_and_a_missing_user_are_absent(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    bob = await add_user(storage.uow, "bob")
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        await tx.messages.add(chat.id, HELLO, now=T0)
        await tx.users.update(bob.id, is_active=False)
        await tx.commit()
    async with storage.uow(read_only=True) as tx:
        bobs = await tx.messages.ask_context(bob.id, chat.id, limit=10)
        missing = await tx.messages.ask_context(alice.id, chat.id + 100, limit=10)
        nobody = await tx.messages.ask_context(bob.id + 100, chat.id, limit=10)
    assert bobs.user is not None
    assert bobs.user.is_active is False
    assert (bobs.chat, bobs.history) == (None, [])
    assert (missing.user, missing.chat, missing.history) == (alice, None, [])
    assert (nobody.user, nobody.chat, nobody.history) == (None, None, [])


@pytest.mark.parametrize("one_write", [True, False])
async def test_a_counted_message_takes_a_slot_until_the_limit(storage: Storage, one_write: bool) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    results = []
    for i in range(3):
        async with storage.uow(one_write=one_write) as tx:
            results.append(await counted_write(tx, alice.id, chat.id, limit=2, now=at(i)))
            await tx.commit()
    assert results[2] is None
    assert [used for used, _ in filter(None, results)] == [1, 2]
    messages = [message for _, message in filter(None, results)]
    assert [(m.role, m.content, m.status, m.created_at) for m in messages] == [
        (Role.USER, "Hello ✨", MessageStatus.OK, at(0)),
        (Role.USER, "Hello ✨", MessageStatus.OK, at(1)),
    ]
    async with storage.uow(read_only=True) as tx:
        assert await tx.messages.for_chat(chat.id) == messages
        assert await tx.quota.used(alice.id, DAY) == 2
        stored_chat = await tx.chats.get(alice.id, chat.id)
        assert stored_chat is not None
        assert stored_chat.message_count == 2
    async with storage.uow(one_write=one_write) as tx:
        assert await counted_write(tx, alice.id, chat.id, limit=0, now=at(5)) is None


@pytest.mark.parametrize("one_write", [True, False])
async def test_a_counted_message_to_a_vanished_chat_takes_no_slot(storage: Storage, one_write: bool) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        await tx.chats.delete(alice.id, chat.id)
        await tx.commit()
    async with storage.uow(one_write=one_write) as tx:
        assert await counted_write(tx, alice.id, chat.id, limit=5, now=T0) is None
    async with storage.uow(read_only=True) as tx:
        assert await tx.quota.used(alice.id, DAY) == 0


async def test_a_counted_message_in_a_transaction_is_undone_with_it(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        assert await tx.quota.consume(alice.id, DAY, limit=5) == 1
        counted = await counted_write(tx, alice.id, chat.id, limit=5, now=T0)
        assert counted is not None
        assert counted[0] == 2
    async with storage.uow(read_only=True) as tx:
        assert await tx.quota.used(alice.id, DAY) == 0
        assert await tx.messages.for_chat(chat.id) == []


async def test_200_concurrent_counted_messages_store_exactly_the_limit(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)

    async def ask(i: int) -> int | None:
        async with storage.uow(one_write=True) as tx:
            counted = await counted_write(tx, alice.id, chat.id, limit=5, now=at(i))
            await tx.commit()
        return None if counted is None else counted[0]

    results = await asyncio.gather(*(ask(i) for i in range(200)))
    assert sorted(r for r in results if r is not None) == [1, 2, 3, 4, 5]
    async with storage.uow(read_only=True) as tx:
        assert await tx.quota.used(alice.id, DAY) == 5
        assert len(await tx.messages.for_chat(chat.id)) == 5


async def test_a_reply_is_stored_with_its_corrections_and_finishes_the_claim(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    second = CORRECTION.__class__(
        original="an other", corrected="another", explanation="One word.", explanation_ko="한 단어."
    )
    async with storage.uow() as tx:
        await tx.idempotency.claim(user_id=alice.id, key="k", chat_id=chat.id, now=T0, not_before=at(-1))
        learner = await tx.messages.add(chat.id, HELLO, now=T0)
        await tx.idempotency.attach(user_id=alice.id, key="k", message_id=learner.id)
        await tx.commit()
    answer = NewMessage(role=Role.ASSISTANT, content="Hi!", model="m", feedback=FEEDBACK)
    async with storage.uow(one_write=True) as tx:
        reply = await tx.messages.add_reply(
            chat.id,
            answer,
            now=at(1),
            user_id=alice.id,
            message_id=learner.id,
            corrections=(CORRECTION, second),
            idempotency_key="k",
        )
        await tx.commit()
    assert (reply.role, reply.content, reply.model, reply.feedback, reply.created_at) == (
        Role.ASSISTANT,
        "Hi!",
        "m",
        FEEDBACK,
        at(1),
    )
    async with storage.uow() as tx:
        assert await tx.messages.for_chat(chat.id) == [learner, reply]
        entries = await tx.notebook.page(alice.id, before=None, limit=10)
        record = await tx.idempotency.claim(
            user_id=alice.id, key="k", chat_id=chat.id, now=at(2), not_before=at(-1)
        )
    assert [(e.correction, e.message_id, e.chat_id) for e in reversed(entries)] == [
        (CORRECTION, learner.id, chat.id),
        (second, learner.id, chat.id),
    ]
    assert record is not None
    assert (record.message_id, record.reply_id) == (learner.id, reply.id)


async def test_a_plain_reply_is_stored_alone(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        learner = await tx.messages.add(chat.id, HELLO, now=T0)
        await tx.commit()
    async with storage.uow(one_write=True) as tx:
        reply = await tx.messages.add_reply(
            chat.id,
            NewMessage(role=Role.ASSISTANT, content="Hi!"),
            now=at(1),
            user_id=alice.id,
            message_id=learner.id,
        )
        await tx.commit()
    async with storage.uow(read_only=True) as tx:
        assert await tx.messages.for_chat(chat.id) == [learner, reply]
        assert await tx.notebook.page(alice.id, before=None, limit=10) == []


@pytest.mark.parametrize("one_write", [True, False])
async def test_a_reply_to_a_vanished_chat_stores_nothing(storage: Storage, one_write: bool) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        learner = await tx.messages.add(chat.id, HELLO, now=T0)
        await tx.chats.delete(alice.id, chat.id)
        await tx.commit()
    async with storage.uow(one_write=one_write) as tx:
        with pytest.raises(ChatNotFound):
            await tx.messages.add_reply(
                chat.id,
                NewMessage(role=Role.ASSISTANT, content="Hi!"),
                now=at(1),
                user_id=alice.id,
                message_id=learner.id,
                corrections=(CORRECTION,),
            )
    async with storage.uow(read_only=True) as tx:
        assert await tx.notebook.page(alice.id, before=None, limit=10) == []


async def test_the_context_carries_the_messages_without_their_feedback(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        asked = await tx.messages.add(chat.id, NewMessage(role=Role.USER, content="I am boring."), now=at(1))
        reply = NewMessage(role=Role.ASSISTANT, content="Why?", model="m", feedback=FEEDBACK)
        answered = await tx.messages.add(chat.id, reply, now=at(2))
        await tx.commit()
    assert answered.feedback == FEEDBACK  # stored with it

    async with storage.uow(read_only=True) as tx:
        context = await tx.messages.ask_context(alice.id, chat.id, limit=10)
    async with storage.uow(one_write=True) as tx:
        counted = await tx.messages.ask_counted(
            alice.id, chat.id, HELLO, day=DAY, default_limit=5, history=10, now=at(3)
        )
        await tx.commit()

    without = [asked, replace(answered, feedback=None)]
    assert context.history == without
    assert counted.context.history == without
