"""Contract: ChatRepository (SPEC §4.2: owner-scoped, newest first, keyset pages, cascade delete)."""

from __future__ import annotations

import pytest

from chatcore.errors import ChatNotFound
from chatcore.model import Mode, NewMessage, Role
from chatcore.ports.storage import ChatCursor
from contract.conftest import Storage
from contract.helpers import T0, add_chat, add_user, at


async def test_a_chat_is_stored_as_given(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    async with storage.uow() as tx:
        chat = await tx.chats.add(
            user_id=alice.id, title="Mock interview", mode=Mode.INTERVIEW, topic="backend developer", now=T0
        )
        await tx.commit()
    assert (chat.title, chat.mode, chat.topic, chat.message_count) == (
        "Mock interview",
        Mode.INTERVIEW,
        "backend developer",
        0,
    )
    assert chat.created_at == chat.updated_at == T0
    async with storage.uow() as tx:
        assert await tx.chats.get(alice.id, chat.id) == chat


async def test_another_users_chat_is_absent(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    bob = await add_user(storage.uow, "bob")
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        assert await tx.chats.get(bob.id, chat.id) is None
        assert await tx.chats.get(alice.id, chat.id + 1000) is None
        assert await tx.chats.page(bob.id, limit=10, after=None) == []
        assert await tx.chats.update(bob.id, chat.id, title="mine now", topic=None, now=at(5)) is None
        assert await tx.chats.delete(bob.id, chat.id) is False
        await tx.commit()
    async with storage.uow() as tx:
        assert await tx.chats.get(alice.id, chat.id) == chat


async def test_pages_are_newest_first_and_ties_break_by_id(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    old = await add_chat(storage.uow, alice.id, now=at(0), title="old")
    tie_a = await add_chat(storage.uow, alice.id, now=at(10), title="tie a")
    tie_b = await add_chat(storage.uow, alice.id, now=at(10), title="tie b")
    new = await add_chat(storage.uow, alice.id, now=at(20), title="new")
    async with storage.uow() as tx:
        page = await tx.chats.page(alice.id, limit=10, after=None)
    assert [c.id for c in page] == [new.id, *sorted([tie_a.id, tie_b.id], reverse=True), old.id]


async def test_keyset_pages_cover_every_chat_once(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    bob = await add_user(storage.uow, "bob")
    # Eleven chats, several sharing a timestamp, interleaved with another user's chats.
    mine = []
    for i in range(11):
        mine.append(await add_chat(storage.uow, alice.id, now=at(i // 3)))
        await add_chat(storage.uow, bob.id, now=at(i // 3))
    seen = []
    after = None
    async with storage.uow() as tx:
        while True:
            page = await tx.chats.page(alice.id, limit=4, after=after)
            seen.extend(page)
            if len(page) < 4:
                break
            after = ChatCursor(updated_at=page[-1].updated_at, id=page[-1].id)
    expected = sorted(mine, key=lambda c: (c.updated_at, c.id), reverse=True)
    assert [c.id for c in seen] == [c.id for c in expected]


async def test_a_page_after_a_cursor_is_strictly_after_it(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    first = await add_chat(storage.uow, alice.id, now=at(1))
    second = await add_chat(storage.uow, alice.id, now=at(2))
    async with storage.uow() as tx:
        after_second = await tx.chats.page(
            alice.id, limit=10, after=ChatCursor(updated_at=second.updated_at, id=second.id)
        )
        after_first = await tx.chats.page(
            alice.id, limit=10, after=ChatCursor(updated_at=first.updated_at, id=first.id)
        )
    assert [c.id for c in after_second] == [first.id]
    assert after_first == []


async def test_update_changes_title_and_topic_and_marks_activity(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id, title="before")
    async with storage.uow() as tx:
        renamed = await tx.chats.update(alice.id, chat.id, title="after", topic=None, now=at(60))
        assert renamed is not None
        retopiced = await tx.chats.update(alice.id, chat.id, title=None, topic="travel", now=at(90))
        await tx.commit()
    assert (renamed.title, renamed.topic, renamed.updated_at) == ("after", "", at(60))
    assert retopiced is not None
    assert (retopiced.title, retopiced.topic, retopiced.updated_at) == ("after", "travel", at(90))
    async with storage.uow() as tx:
        assert await tx.chats.get(alice.id, chat.id) == retopiced


async def test_adding_messages_counts_them_and_never_moves_the_chat_back_in_time(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        await tx.messages.add(chat.id, NewMessage(role=Role.USER, content="one"), now=at(30))
        await tx.messages.add(chat.id, NewMessage(role=Role.ASSISTANT, content="two"), now=at(10))
        await tx.messages.add(chat.id, NewMessage(role=Role.USER, content="three"), now=at(20))
        await tx.commit()
    async with storage.uow(read_only=True) as tx:
        touched = await tx.chats.get(alice.id, chat.id)
    assert touched is not None
    assert (touched.message_count, touched.updated_at, touched.created_at) == (3, at(30), T0)


async def test_a_message_for_a_missing_chat_is_chat_not_found(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        await tx.chats.delete(alice.id, chat.id)
        await tx.commit()
    async with storage.uow() as tx:
        with pytest.raises(ChatNotFound):
            await tx.messages.add(chat.id, NewMessage(role=Role.USER, content="late"), now=at(5))


async def test_deleting_a_chat_deletes_its_messages_and_idempotency_records(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    doomed = await add_chat(storage.uow, alice.id)
    kept = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        gone = await tx.messages.add(doomed.id, NewMessage(role=Role.USER, content="bye"), now=T0)
        stays = await tx.messages.add(kept.id, NewMessage(role=Role.USER, content="hi"), now=T0)
        claimed = await tx.idempotency.claim(
            user_id=alice.id, key="k1", chat_id=doomed.id, now=T0, not_before=at(-60)
        )
        assert claimed is None
        await tx.commit()
    async with storage.uow() as tx:
        assert await tx.chats.delete(alice.id, doomed.id) is True
        await tx.commit()
    async with storage.uow() as tx:
        assert await tx.chats.get(alice.id, doomed.id) is None
        assert await tx.chats.delete(alice.id, doomed.id) is False
        assert await tx.messages.for_chat(doomed.id) == []
        assert await tx.messages.get(doomed.id, gone.id) is None
        assert await tx.messages.for_chat(kept.id) == [stays]
        # The key is free again: its record went with the chat.
        again = await tx.idempotency.claim(
            user_id=alice.id, key="k1", chat_id=kept.id, now=at(1), not_before=at(-60)
        )
        assert again is None
        assert [c.id for c in await tx.chats.page(alice.id, limit=10, after=None)] == [kept.id]
