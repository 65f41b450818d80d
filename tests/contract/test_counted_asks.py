"""Contract: asking the tutor without an Idempotency-Key as one step (SPEC §4.2, §5; issue 15):
``MessageRepository.ask_counted`` reads the user, their chat and its history and, only for an
active user's own chat, takes a slot and stores the message (one statement on PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime

import pytest

from chatcore.errors import ChatNotFound
from chatcore.model import MessageStatus, NewMessage, Role
from chatcore.ports.storage import CountedAsk, UnitOfWorkFactory
from contract.conftest import Storage
from contract.helpers import T0, add_chat, add_user, at

DAY = date(2026, 11, 26)
HELLO = NewMessage(role=Role.USER, content="Hello ✨")


async def ask(
    uow: UnitOfWorkFactory,
    user_id: int,
    chat_id: int,
    *,
    default_limit: int = 5,
    history: int = 23,
    now: datetime = T0,
    one_write: bool = True,
) -> CountedAsk:
    async with uow(one_write=one_write) as tx:
        asked = await tx.messages.ask_counted(
            user_id, chat_id, HELLO, day=DAY, default_limit=default_limit, history=history, now=now
        )
        await tx.commit()
    return asked


async def taken(storage: Storage, user_id: int, chat_id: int) -> tuple[int, int]:
    """The slots of ``user_id`` on DAY and the messages stored in ``chat_id``."""
    async with storage.uow(read_only=True) as tx:
        return await tx.quota.used(user_id, DAY), len(await tx.messages.for_chat(chat_id))


@pytest.mark.parametrize("one_write", [True, False])
async def test_a_message_is_read_with_its_context_counted_and_stored(
    storage: Storage, one_write: bool
) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        earlier = [
            await tx.messages.add(chat.id, NewMessage(role=Role.USER, content=f"m{i}"), now=at(i))
            for i in range(4)
        ]
        await tx.commit()
    async with storage.uow(read_only=True) as tx:
        before = await tx.chats.get(alice.id, chat.id)
    asked = await ask(storage.uow, alice.id, chat.id, history=3, now=at(10), one_write=one_write)
    assert asked.context.user == alice
    assert asked.context.chat == before  # as it was before the message
    assert asked.context.history == earlier[1:]  # the new message is not in it
    assert asked.counted is not None
    used, message = asked.counted
    assert used == 1
    assert (message.chat_id, message.role, message.content, message.status, message.created_at) == (
        chat.id,
        Role.USER,
        "Hello ✨",
        MessageStatus.OK,
        at(10),
    )
    async with storage.uow(read_only=True) as tx:
        assert await tx.messages.for_chat(chat.id) == [*earlier, message]
        assert await tx.quota.used(alice.id, DAY) == 1
        after = await tx.chats.get(alice.id, chat.id)
    assert after is not None
    assert after.message_count == 5
    second = await ask(storage.uow, alice.id, chat.id, history=0, now=at(11))
    assert second.context.history == []
    assert second.counted is not None
    assert second.counted[0] == 2


async def test_a_missing_user_takes_nothing(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    asked = await ask(storage.uow, alice.id + 100, chat.id)
    assert (asked.context.user, asked.context.chat, asked.context.history, asked.counted) == (
        None,
        None,
        [],
        None,
    )
    assert await taken(storage, alice.id + 100, chat.id) == (0, 0)


async def test_a_deactivated_user_takes_nothing(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        await tx.users.update(alice.id, is_active=False)
        await tx.commit()
    asked = await ask(storage.uow, alice.id, chat.id)
    assert asked.context.user is not None
    assert asked.context.user.is_active is False
    assert asked.counted is None
    assert await taken(storage, alice.id, chat.id) == (0, 0)


async def test_a_missing_or_foreign_chat_takes_nothing(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    bob = await add_user(storage.uow, "bob")
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        await tx.messages.add(chat.id, HELLO, now=T0)
        await tx.commit()
    bobs = await ask(storage.uow, bob.id, chat.id)
    missing = await ask(storage.uow, alice.id, chat.id + 100)
    assert (bobs.context.user, bobs.context.chat, bobs.context.history, bobs.counted) == (bob, None, [], None)
    assert (missing.context.user, missing.context.chat, missing.counted) == (alice, None, None)
    assert await taken(storage, bob.id, chat.id) == (0, 1)
    assert await taken(storage, alice.id, chat.id) == (0, 1)


async def test_a_full_day_is_refused_and_stores_nothing(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    results = [await ask(storage.uow, alice.id, chat.id, default_limit=2, now=at(i)) for i in range(3)]
    assert [r.counted[0] if r.counted else None for r in results] == [1, 2, None]
    assert results[2].context.chat is not None  # refused, not missing
    assert await taken(storage, alice.id, chat.id) == (2, 2)


async def test_a_limit_of_zero_refuses_a_fresh_day_without_counting(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    assert (await ask(storage.uow, alice.id, chat.id, default_limit=0)).counted is None
    assert (await ask(storage.uow, alice.id, chat.id, default_limit=-1)).counted is None
    assert await taken(storage, alice.id, chat.id) == (0, 0)
    # Nothing was counted for the refusals: the first slot granted is the first one.
    later = await ask(storage.uow, alice.id, chat.id, default_limit=1)
    assert later.counted is not None
    assert later.counted[0] == 1


async def test_the_users_own_daily_limit_overrides_the_default(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    bob = await add_user(storage.uow, "bob")
    carol = await add_user(storage.uow, "carol")
    chats = {user.id: await add_chat(storage.uow, user.id) for user in (alice, bob, carol)}
    async with storage.uow() as tx:
        await tx.users.set_daily_limit(alice.id, 1)
        await tx.users.set_daily_limit(bob.id, 3)
        await tx.users.set_daily_limit(carol.id, 0)
        await tx.commit()
    granted = {}
    for user in (alice, bob, carol):
        results = [
            await ask(storage.uow, user.id, chats[user.id].id, default_limit=2, now=at(i)) for i in range(4)
        ]
        granted[user.id] = [r.counted[0] for r in results if r.counted]
    assert granted == {alice.id: [1], bob.id: [1, 2, 3], carol.id: []}
    assert await taken(storage, carol.id, chats[carol.id].id) == (0, 0)


async def test_a_chat_deleted_before_the_message_takes_nothing(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        await tx.chats.delete(alice.id, chat.id)
        await tx.commit()
    asked = await ask(storage.uow, alice.id, chat.id)
    assert (asked.context.chat, asked.counted) == (None, None)
    assert await taken(storage, alice.id, chat.id) == (0, 0)


async def test_a_chat_deleted_while_the_message_is_stored_takes_nothing(storage: Storage) -> None:
    """The deletion is under way (uncommitted) when the message is asked: on PostgreSQL the read
    still sees the chat and the message's foreign key check waits for the deletion, then fails
    (ChatNotFound, the slot undone with the statement); a database that makes the ask wait for
    the deleting transaction reads no chat instead. Either way nothing is taken."""
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as deleting:
        assert await deleting.chats.delete(alice.id, chat.id)
        asking = asyncio.create_task(ask(storage.uow, alice.id, chat.id))
        await asyncio.sleep(0.5)
        await deleting.commit()
    try:
        asked = await asking
    except ChatNotFound:
        pass
    else:
        assert (asked.context.chat, asked.counted) == (None, None)
    assert await taken(storage, alice.id, chat.id) == (0, 0)


async def test_a_message_in_a_transaction_is_undone_with_it(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        assert await tx.quota.consume(alice.id, DAY, limit=5) == 1
        asked = await tx.messages.ask_counted(
            alice.id, chat.id, HELLO, day=DAY, default_limit=5, history=10, now=T0
        )
        assert asked.counted is not None
        assert asked.counted[0] == 2
    assert await taken(storage, alice.id, chat.id) == (0, 0)


async def test_200_concurrent_messages_store_exactly_the_limit(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    results = await asyncio.gather(*(ask(storage.uow, alice.id, chat.id, now=at(i)) for i in range(200)))
    assert sorted(r.counted[0] for r in results if r.counted) == [1, 2, 3, 4, 5]
    assert all(r.context.chat is not None for r in results)
    assert await taken(storage, alice.id, chat.id) == (5, 5)
