"""Contract: the storage of learning (SPEC §4.7): a chat's level, feedback stored with a message,
the notebook, scorecards and the activity progress is computed from; always per user."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chatcore.errors import ChatNotFound
from chatcore.learning import Correction, Level
from chatcore.model import MessageStatus, Mode, NewMessage, Role
from contract.conftest import Storage
from contract.helpers import CORRECTION, FEEDBACK, SCORECARD, add_chat, add_user, at

OTHER = Correction(
    original="on Monday at morning", corrected="on Monday morning", explanation="e", explanation_ko="한"
)


async def test_a_chat_keeps_its_level_and_changes_it(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    default = await add_chat(storage.uow, alice.id)
    beginner = await add_chat(storage.uow, alice.id, level=Level.BEGINNER)
    assert (default.level, beginner.level) == (Level.INTERMEDIATE, Level.BEGINNER)
    async with storage.uow() as tx:
        changed = await tx.chats.update(
            alice.id, beginner.id, title=None, topic=None, now=at(5), level=Level.ADVANCED
        )
        unchanged = await tx.chats.update(alice.id, default.id, title="renamed", topic=None, now=at(5))
        await tx.commit()
    assert changed is not None
    assert changed.level is Level.ADVANCED
    assert unchanged is not None
    assert unchanged.level is Level.INTERMEDIATE
    async with storage.uow(read_only=True) as tx:
        assert (await tx.chats.get(alice.id, beginner.id)) == changed
        assert [c.level for c in await tx.chats.by_id(alice.id, after=None, limit=5)] == [
            Level.INTERMEDIATE,
            Level.ADVANCED,
        ]


async def test_feedback_is_stored_with_the_message_and_read_back_whole(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        learner = await tx.messages.add(chat.id, NewMessage(role=Role.USER, content="I am boring"), now=at(1))
        reply = await tx.messages.add(
            chat.id, NewMessage(role=Role.ASSISTANT, content="Oh?", model="m", feedback=FEEDBACK), now=at(2)
        )
        await tx.commit()
    assert reply.feedback == FEEDBACK
    assert learner.feedback is None
    async with storage.uow(read_only=True) as tx:
        assert await tx.messages.for_chat(chat.id) == [learner, reply]
        assert await tx.messages.recent(chat.id, limit=1) == [reply]
        assert await tx.messages.get(chat.id, reply.id) == reply


async def test_the_notebook_is_per_user_newest_first_and_paged(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    bob = await add_user(storage.uow, "bob")
    chat = await add_chat(storage.uow, alice.id)
    bobs = await add_chat(storage.uow, bob.id)
    async with storage.uow() as tx:
        await tx.notebook.add(
            user_id=alice.id, chat_id=chat.id, message_id=11, corrections=(CORRECTION, OTHER), now=at(1)
        )
        await tx.notebook.add(
            user_id=bob.id, chat_id=bobs.id, message_id=12, corrections=(CORRECTION,), now=at(2)
        )
        await tx.notebook.add(user_id=alice.id, chat_id=chat.id, message_id=13, corrections=(), now=at(3))
        await tx.commit()
    async with storage.uow(read_only=True) as tx:
        mine = await tx.notebook.page(alice.id, before=None, limit=10)
        first = await tx.notebook.page(alice.id, before=None, limit=1)
        rest = await tx.notebook.page(alice.id, before=first[0].id, limit=10)
    # Both corrections of one message, newest first: the second correction has the higher id.
    assert [e.correction for e in mine] == [OTHER, CORRECTION]
    assert [(e.user_id, e.chat_id, e.message_id, e.created_at, e.reviewed) for e in mine] == [
        (alice.id, chat.id, 11, at(1), False)
    ] * 2
    assert first + rest == mine


async def test_marking_reviewed_is_per_user(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    bob = await add_user(storage.uow, "bob")
    chat = await add_chat(storage.uow, alice.id)
    async with storage.uow() as tx:
        await tx.notebook.add(
            user_id=alice.id, chat_id=chat.id, message_id=1, corrections=(CORRECTION,), now=at(1)
        )
        [entry] = await tx.notebook.page(alice.id, before=None, limit=5)
        assert await tx.notebook.set_reviewed(bob.id, entry.id, True) is None
        done = await tx.notebook.set_reviewed(alice.id, entry.id, True)
        await tx.commit()
    assert done == replace(entry, reviewed=True)
    async with storage.uow() as tx:
        assert await tx.notebook.page(alice.id, before=None, limit=5) == [done]
        assert await tx.notebook.set_reviewed(alice.id, entry.id, False) == entry
        assert await tx.notebook.set_reviewed(alice.id, entry.id + 1000, True) is None


async def test_scorecards_are_per_chat_and_user_the_latest_last(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    bob = await add_user(storage.uow, "bob")
    chat = await add_chat(storage.uow, alice.id, mode=Mode.INTERVIEW)
    second = replace(SCORECARD, overall=90, strengths=())
    async with storage.uow() as tx:
        assert await tx.scorecards.latest(alice.id, chat.id) is None
        one = await tx.scorecards.add(user_id=alice.id, chat_id=chat.id, scorecard=SCORECARD, now=at(1))
        two = await tx.scorecards.add(user_id=alice.id, chat_id=chat.id, scorecard=second, now=at(2))
        with pytest.raises(ChatNotFound):
            await tx.scorecards.add(user_id=bob.id, chat_id=chat.id, scorecard=SCORECARD, now=at(3))
        with pytest.raises(ChatNotFound):
            await tx.scorecards.add(user_id=alice.id, chat_id=chat.id + 1000, scorecard=SCORECARD, now=at(3))
        await tx.commit()
    assert (one.scorecard, one.created_at, one.chat_id, one.user_id) == (SCORECARD, at(1), chat.id, alice.id)
    async with storage.uow(read_only=True) as tx:
        assert await tx.scorecards.latest(alice.id, chat.id) == two
        assert await tx.scorecards.for_chat(alice.id, chat.id) == [one, two]
        assert await tx.scorecards.latest(bob.id, chat.id) is None
        assert await tx.scorecards.for_chat(bob.id, chat.id) == []


async def test_deleting_a_chat_takes_its_notebook_entries_and_scorecards(storage: Storage) -> None:
    alice = await add_user(storage.uow)
    gone = await add_chat(storage.uow, alice.id, mode=Mode.INTERVIEW)
    kept = await add_chat(storage.uow, alice.id, mode=Mode.INTERVIEW)
    async with storage.uow() as tx:
        for chat in (gone, kept):
            await tx.notebook.add(
                user_id=alice.id, chat_id=chat.id, message_id=1, corrections=(CORRECTION,), now=at(1)
            )
            await tx.scorecards.add(user_id=alice.id, chat_id=chat.id, scorecard=SCORECARD, now=at(1))
        assert await tx.chats.delete(alice.id, gone.id)
        await tx.commit()
    async with storage.uow(read_only=True) as tx:
        assert [e.chat_id for e in await tx.notebook.page(alice.id, before=None, limit=5)] == [kept.id]
        assert await tx.scorecards.latest(alice.id, gone.id) is None
        assert await tx.scorecards.latest(alice.id, kept.id) is not None


async def test_activity_is_the_users_ok_messages_since_an_instant_with_their_mode(storage: Storage) -> None:
    alice = await add_user(storage.uow, "alice")
    bob = await add_user(storage.uow, "bob")
    talk = await add_chat(storage.uow, alice.id)
    interview = await add_chat(storage.uow, alice.id, mode=Mode.INTERVIEW)
    bobs = await add_chat(storage.uow, bob.id)
    async with storage.uow() as tx:
        await tx.messages.add(talk.id, NewMessage(role=Role.USER, content="too early"), now=at(1))
        await tx.messages.add(talk.id, NewMessage(role=Role.USER, content="hi"), now=at(10))
        failed = await tx.messages.add(interview.id, NewMessage(role=Role.USER, content="x"), now=at(11))
        await tx.messages.set_status(failed.id, MessageStatus.FAILED)
        await tx.messages.add(interview.id, NewMessage(role=Role.USER, content="answer"), now=at(12))
        await tx.messages.add(
            interview.id, NewMessage(role=Role.ASSISTANT, content="ok", feedback=FEEDBACK), now=at(13)
        )
        await tx.messages.add(bobs.id, NewMessage(role=Role.USER, content="bob"), now=at(14))
        await tx.commit()
    async with storage.uow(read_only=True) as tx:
        activity = await tx.messages.activity(alice.id, since=at(10))
    assert [(a.at, a.role, a.mode, a.feedback) for a in activity] == [
        (at(10), Role.USER, Mode.CONVERSATION, None),
        (at(12), Role.USER, Mode.INTERVIEW, None),
        (at(13), Role.ASSISTANT, Mode.INTERVIEW, FEEDBACK),
    ]
