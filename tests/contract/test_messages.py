"""Contract: MessageRepository (SPEC §4.2, §6: ordered history, status, model)."""

from __future__ import annotations

from chatcore.model import MessageStatus, NewMessage, Role
from contract.conftest import Storage
from contract.helpers import add_chat, add_user, at


async def test_messages_are_stored_as_given_and_listed_oldest_first(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        question = await tx.messages.add(chat.id, NewMessage(role=Role.USER, content="Hello?"), now=at(1))
        answer = await tx.messages.add(
            chat.id,
            NewMessage(role=Role.ASSISTANT, content="Hi! ✨ 안녕하세요", model="offline-tutor"),
            now=at(2),
        )
        await tx.commit()
    assert (question.role, question.content, question.status, question.model, question.created_at) == (
        Role.USER,
        "Hello?",
        MessageStatus.OK,
        "",
        at(1),
    )
    assert (answer.role, answer.content, answer.model) == (
        Role.ASSISTANT,
        "Hi! ✨ 안녕하세요",
        "offline-tutor",
    )
    assert answer.id != question.id
    async with storage.uow() as tx:
        assert await tx.messages.for_chat(chat.id) == [question, answer]
        assert await tx.messages.get(chat.id, answer.id) == answer


async def test_a_message_is_found_only_in_its_own_chat(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    first = await add_chat(storage.uow, alice.id)
    second = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        message = await tx.messages.add(first.id, NewMessage(role=Role.USER, content="x"), now=at(0))
        assert await tx.messages.get(second.id, message.id) is None
        assert await tx.messages.get(first.id, message.id + 1000) is None
        assert await tx.messages.for_chat(second.id) == []


async def test_recent_returns_the_last_messages_oldest_first(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        stored = [
            await tx.messages.add(chat.id, NewMessage(role=Role.USER, content=f"m{i}"), now=at(i))
            for i in range(6)
        ]
        await tx.commit()
    async with storage.uow() as tx:
        assert await tx.messages.recent(chat.id, limit=3) == stored[3:]
        assert await tx.messages.recent(chat.id, limit=100) == stored
        assert await tx.messages.recent(chat.id, limit=0) == []


async def test_recent_before_a_message_returns_the_ones_before_it(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    other = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        stored = []
        for i in range(6):
            stored.append(
                await tx.messages.add(chat.id, NewMessage(role=Role.USER, content=f"m{i}"), now=at(i))
            )
            await tx.messages.add(other.id, NewMessage(role=Role.USER, content=f"o{i}"), now=at(i))
        await tx.commit()
    async with storage.uow(read_only=True) as tx:
        assert await tx.messages.recent(chat.id, limit=2, before=stored[4].id) == stored[2:4]
        assert await tx.messages.recent(chat.id, limit=100, before=stored[4].id) == stored[:4]
        assert await tx.messages.recent(chat.id, limit=3, before=stored[0].id) == []
        assert await tx.messages.recent(chat.id, limit=3, before=stored[5].id + 1000) == stored[3:]


async def test_set_status_marks_a_message_failed(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        message = await tx.messages.add(chat.id, NewMessage(role=Role.USER, content="x"), now=at(0))
        other = await tx.messages.add(chat.id, NewMessage(role=Role.USER, content="y"), now=at(1))
        await tx.messages.set_status(message.id, MessageStatus.FAILED)
        await tx.commit()
    async with storage.uow() as tx:
        failed = await tx.messages.get(chat.id, message.id)
        assert failed is not None
        assert failed.status is MessageStatus.FAILED
        assert await tx.messages.get(chat.id, other.id) == other


async def test_a_failed_message_can_be_stored_directly(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    partial = NewMessage(role=Role.ASSISTANT, content="Half a rep", status=MessageStatus.FAILED, model="m")
    async with storage.uow() as tx:
        stored = await tx.messages.add(chat.id, partial, now=at(0))
        await tx.commit()
    async with storage.uow() as tx:
        assert await tx.messages.for_chat(chat.id) == [stored]
    assert stored.status is MessageStatus.FAILED
