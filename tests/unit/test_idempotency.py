"""Idempotency-Key on asks (SPEC §4.2): a retry within 24 h returns the first result and does not count."""

from __future__ import annotations

import pytest

from chatcore.chats import ChatService
from chatcore.errors import Conflict, LLMTimeout, QuotaExceeded, ValidationFailed
from chatcore.model import User
from chatcore.results import Exchange, PendingAsk
from chatcore.testing import FrozenClock, ScriptedLLM
from chatcore.tutoring import TutorService


async def test_a_retry_with_the_same_key_returns_the_first_exchange_without_counting(
    tutor: TutorService, chats: ChatService, alice: User, llm: ScriptedLLM
) -> None:
    chat = await chats.start_chat(alice.id)
    llm.push("The first answer.", "A second answer that must not be given.")
    first = await tutor.ask(alice.id, chat.id, "Hello", idempotency_key="key-1")

    again = await tutor.ask(alice.id, chat.id, "Hello", idempotency_key="key-1")

    assert (again.message, again.reply) == (first.message, first.reply)
    assert again.reply.content == "The first answer."
    assert again.quota.used == 1
    assert len(llm.prompts) == 1
    assert len((await chats.read_chat(alice.id, chat.id)).messages) == 2


async def test_a_replay_reports_the_quota_as_it_is_now(
    tutor: TutorService, chats: ChatService, alice: User
) -> None:
    chat = await chats.start_chat(alice.id)
    await tutor.ask(alice.id, chat.id, "one", idempotency_key="key-1")
    await tutor.ask(alice.id, chat.id, "two")

    again = await tutor.ask(alice.id, chat.id, "one", idempotency_key="key-1")

    assert again.quota.used == 2


async def test_different_keys_are_different_requests(
    tutor: TutorService, chats: ChatService, alice: User
) -> None:
    chat = await chats.start_chat(alice.id)

    first = await tutor.ask(alice.id, chat.id, "Hello", idempotency_key="key-1")
    second = await tutor.ask(alice.id, chat.id, "Hello", idempotency_key="key-2")

    assert second.message.id != first.message.id
    assert second.quota.used == 2


async def test_keys_belong_to_one_user(
    tutor: TutorService, chats: ChatService, alice: User, bob: User
) -> None:
    alices = await chats.start_chat(alice.id)
    bobs = await chats.start_chat(bob.id)
    await tutor.ask(alice.id, alices.id, "Hello", idempotency_key="shared")

    exchange = await tutor.ask(bob.id, bobs.id, "Hello", idempotency_key="shared")

    assert exchange.message.chat_id == bobs.id
    assert exchange.quota.used == 1


async def test_a_key_still_in_flight_is_a_conflict(
    tutor: TutorService, chats: ChatService, alice: User
) -> None:
    chat = await chats.start_chat(alice.id)
    pending = await tutor.accept(alice.id, chat.id, "Hello", idempotency_key="key-1")
    assert isinstance(pending, PendingAsk)

    with pytest.raises(Conflict):
        await tutor.ask(alice.id, chat.id, "Hello", idempotency_key="key-1")

    assert (await tutor.quota(alice.id)).used == 1


async def test_a_key_finished_by_a_stream_replays_that_stream(
    tutor: TutorService, chats: ChatService, alice: User
) -> None:
    chat = await chats.start_chat(alice.id)
    pending = await tutor.accept(alice.id, chat.id, "Hello", idempotency_key="key-1")
    assert isinstance(pending, PendingAsk)
    events = [event async for event in tutor.stream(pending)]

    again = await tutor.accept(alice.id, chat.id, "Hello", idempotency_key="key-1")

    assert isinstance(again, Exchange)
    assert again.reply.content == "You said: Hello"
    assert len(events) > 1
    assert again.quota.used == 1


async def test_a_key_used_for_another_chat_is_a_validation_error(
    tutor: TutorService, chats: ChatService, alice: User
) -> None:
    first = await chats.start_chat(alice.id)
    other = await chats.start_chat(alice.id)
    await tutor.ask(alice.id, first.id, "Hello", idempotency_key="key-1")

    with pytest.raises(ValidationFailed) as caught:
        await tutor.ask(alice.id, other.id, "Hello", idempotency_key="key-1")

    assert caught.value.field == "Idempotency-Key"
    assert (await tutor.quota(alice.id)).used == 1
    assert (await chats.read_chat(alice.id, other.id)).messages == ()


async def test_a_key_is_remembered_for_24_hours(
    tutor: TutorService, chats: ChatService, alice: User, clock: FrozenClock
) -> None:
    chat = await chats.start_chat(alice.id)
    first = await tutor.ask(alice.id, chat.id, "Hello", idempotency_key="key-1")

    clock.advance(hours=23, minutes=59, seconds=59)
    again = await tutor.ask(alice.id, chat.id, "Hello", idempotency_key="key-1")

    assert again.reply == first.reply


async def test_a_key_older_than_24_hours_is_a_new_request(
    tutor: TutorService, chats: ChatService, alice: User, clock: FrozenClock, llm: ScriptedLLM
) -> None:
    chat = await chats.start_chat(alice.id)
    first = await tutor.ask(alice.id, chat.id, "Hello", idempotency_key="key-1")

    clock.advance(hours=24, seconds=1)
    later = await tutor.ask(alice.id, chat.id, "Hello", idempotency_key="key-1")

    assert later.message.id != first.message.id
    assert later.quota.used == 1  # counted, on the new quota day
    assert len(llm.prompts) == 2
    assert len((await chats.read_chat(alice.id, chat.id)).messages) == 4


async def test_a_failed_request_frees_its_key_for_a_retry(
    tutor: TutorService, chats: ChatService, alice: User, llm: ScriptedLLM
) -> None:
    chat = await chats.start_chat(alice.id)
    llm.push(LLMTimeout(), "Answered at last.")
    with pytest.raises(LLMTimeout):
        await tutor.ask(alice.id, chat.id, "Hello", idempotency_key="key-1")

    retry = await tutor.ask(alice.id, chat.id, "Hello", idempotency_key="key-1")

    assert retry.reply.content == "Answered at last."
    assert retry.quota.used == 1


async def test_a_refused_request_does_not_keep_its_key(
    tutor: TutorService, chats: ChatService, alice: User, clock: FrozenClock
) -> None:
    chat = await chats.start_chat(alice.id)
    for n in range(5):
        await tutor.ask(alice.id, chat.id, f"question {n}")
    with pytest.raises(QuotaExceeded):
        await tutor.ask(alice.id, chat.id, "Hello", idempotency_key="key-1")

    clock.advance(hours=12)
    exchange = await tutor.ask(alice.id, chat.id, "Hello", idempotency_key="key-1")

    assert exchange.reply.content == "You said: Hello"
    assert exchange.quota.used == 1
