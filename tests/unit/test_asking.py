"""Asking the tutor through ChatService: the quota (SPEC §5) and failed upstream calls (SPEC §6)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory import MemoryStore
from chatcore.admin import AdminService, Operator
from chatcore.chats import ChatService
from chatcore.errors import (
    ChatNotFound,
    LLMBusy,
    LLMError,
    LLMMisconfigured,
    LLMTimeout,
    LLMUnavailable,
    LLMUpstreamError,
    QuotaExceeded,
    ValidationFailed,
)
from chatcore.model import MessageStatus, Role, User
from chatcore.ports.llm import Completion, Prompt
from chatcore.quota import QuotaPolicy
from chatcore.results import Delta, Done, Exchange, PendingAsk, ReplyStream
from chatcore.testing import FrozenClock, ScriptedLLM
from chatcore.tutoring import TutorService

from .interleaving import yielding

SEOUL_MIDNIGHT = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)  # 2026-11-27T00:00:00+09:00


async def test_an_answered_question_is_stored_and_counted(
    tutor: TutorService, chats: ChatService, alice: User, llm: ScriptedLLM, clock: FrozenClock
) -> None:
    chat = await chats.start_chat(alice.id)
    llm.push("Nice to meet you too! What do you do?")

    exchange = await tutor.ask(alice.id, chat.id, "  Nice to meet you.  ")

    assert exchange.message.role is Role.USER
    assert exchange.message.content == "Nice to meet you."
    assert exchange.message.status is MessageStatus.OK
    assert exchange.reply.role is Role.ASSISTANT
    assert exchange.reply.content == "Nice to meet you too! What do you do?"
    assert exchange.reply.model == "scripted"
    assert exchange.reply.status is MessageStatus.OK
    assert (exchange.quota.limit, exchange.quota.used, exchange.quota.remaining) == (5, 1, 4)
    assert exchange.quota.resets_at.isoformat() == "2026-11-27T00:00:00+09:00"
    assert exchange.quota.seconds_until_reset(clock.now()) == 12 * 3600
    stored = await chats.read_chat(alice.id, chat.id)
    assert stored.messages == (exchange.message, exchange.reply)


async def test_the_quota_of_a_new_user_is_full(tutor: TutorService, chats: ChatService, alice: User) -> None:
    quota = await tutor.quota(alice.id)

    assert (quota.limit, quota.used, quota.remaining) == (5, 0, 5)
    assert quota.resets_at.isoformat() == "2026-11-27T00:00:00+09:00"


async def test_each_question_counts_once(tutor: TutorService, chats: ChatService, alice: User) -> None:
    chat = await chats.start_chat(alice.id)

    used = [(await tutor.ask(alice.id, chat.id, f"question {n}")).quota.used for n in range(5)]

    assert used == [1, 2, 3, 4, 5]
    quota = await tutor.quota(alice.id)
    assert (quota.used, quota.remaining) == (5, 0)


async def test_the_sixth_question_of_the_day_is_refused_with_the_reset_time(
    tutor: TutorService, chats: ChatService, alice: User, llm: ScriptedLLM
) -> None:
    chat = await chats.start_chat(alice.id)
    for n in range(5):
        await tutor.ask(alice.id, chat.id, f"question {n}")

    with pytest.raises(QuotaExceeded) as caught:
        await tutor.ask(alice.id, chat.id, "one more")

    assert "2026-11-27T00:00:00+09:00" in caught.value.detail
    assert (caught.value.quota.limit, caught.value.quota.remaining) == (5, 0)
    assert caught.value.quota.resets_at.isoformat() == "2026-11-27T00:00:00+09:00"
    assert len(llm.prompts) == 5, "a refused question must not reach the tutor"
    assert "one more" not in [m.content for m in (await chats.read_chat(alice.id, chat.id)).messages]


async def test_a_new_quota_day_starts_at_midnight_in_the_quota_zone(
    tutor: TutorService, chats: ChatService, alice: User, clock: FrozenClock
) -> None:
    chat = await chats.start_chat(alice.id)
    for n in range(5):
        await tutor.ask(alice.id, chat.id, f"question {n}")

    clock.set(SEOUL_MIDNIGHT - timedelta(microseconds=1))
    with pytest.raises(QuotaExceeded):
        await tutor.ask(alice.id, chat.id, "just before midnight")

    clock.set(SEOUL_MIDNIGHT)
    exchange = await tutor.ask(alice.id, chat.id, "just after midnight")

    assert (exchange.quota.used, exchange.quota.remaining) == (1, 4)
    assert exchange.quota.resets_at.isoformat() == "2026-11-28T00:00:00+09:00"


async def test_a_per_user_limit_replaces_the_default(
    tutor: TutorService, chats: ChatService, admin_service: AdminService, alice: User, admin: User
) -> None:
    await admin_service.set_daily_limit(Operator(admin.id), alice.id, 2)
    chat = await chats.start_chat(alice.id)

    await tutor.ask(alice.id, chat.id, "one")
    second = await tutor.ask(alice.id, chat.id, "two")
    with pytest.raises(QuotaExceeded) as caught:
        await tutor.ask(alice.id, chat.id, "three")

    assert (second.quota.limit, second.quota.remaining) == (2, 0)
    assert caught.value.quota.limit == 2
    assert "all 2 tutor requests" in caught.value.detail


async def test_a_per_user_limit_can_be_above_the_default_and_cleared_again(
    tutor: TutorService, chats: ChatService, admin_service: AdminService, alice: User, admin: User
) -> None:
    await admin_service.set_daily_limit(Operator(admin.id), alice.id, 7)
    chat = await chats.start_chat(alice.id)
    for n in range(7):
        await tutor.ask(alice.id, chat.id, f"question {n}")
    assert (await tutor.quota(alice.id)).remaining == 0

    await admin_service.set_daily_limit(Operator(admin.id), alice.id, None)

    quota = await tutor.quota(alice.id)
    assert (quota.limit, quota.used, quota.remaining) == (5, 7, 0)
    with pytest.raises(QuotaExceeded):
        await tutor.ask(alice.id, chat.id, "one more")


async def test_users_have_separate_quotas(
    tutor: TutorService, chats: ChatService, alice: User, bob: User
) -> None:
    alices = await chats.start_chat(alice.id)
    for n in range(5):
        await tutor.ask(alice.id, alices.id, f"question {n}")

    bobs = await chats.start_chat(bob.id)
    exchange = await tutor.ask(bob.id, bobs.id, "my first question")

    assert exchange.quota.used == 1
    with pytest.raises(QuotaExceeded):
        await tutor.ask(alice.id, alices.id, "and mine?")


async def test_two_hundred_concurrent_questions_get_exactly_the_limit(
    store: MemoryStore,
    clock: FrozenClock,
    llm: ScriptedLLM,
    policy: QuotaPolicy,
    alice: User,
) -> None:
    interleaved = functools.partial(yielding, store)
    chats = ChatService(uow=interleaved, clock=clock)
    tutor = TutorService(uow=interleaved, llm=llm, clock=clock, policy=policy, chats=chats)
    chat = await chats.start_chat(alice.id)

    outcomes = await asyncio.gather(
        *(tutor.ask(alice.id, chat.id, f"question {n}") for n in range(200)), return_exceptions=True
    )

    answered = [o for o in outcomes if isinstance(o, Exchange)]
    refused = [o for o in outcomes if isinstance(o, QuotaExceeded)]
    assert (len(answered), len(refused)) == (5, 195)
    assert sorted(e.quota.used for e in answered) == [1, 2, 3, 4, 5]
    assert (await tutor.quota(alice.id)).used == 5
    assert len((await chats.read_chat(alice.id, chat.id)).messages) == 10


@pytest.mark.parametrize("content", ["", "   \n\t ", "x" * 4001])
async def test_an_empty_or_overlong_message_is_refused_without_counting(
    tutor: TutorService, chats: ChatService, alice: User, content: str
) -> None:
    chat = await chats.start_chat(alice.id)

    with pytest.raises(ValidationFailed) as caught:
        await tutor.ask(alice.id, chat.id, content)

    assert caught.value.field == "content"
    assert (await tutor.quota(alice.id)).used == 0
    assert (await chats.read_chat(alice.id, chat.id)).messages == ()


async def test_a_message_of_4000_characters_is_accepted(
    tutor: TutorService, chats: ChatService, alice: User
) -> None:
    chat = await chats.start_chat(alice.id)

    exchange = await tutor.ask(alice.id, chat.id, " " + "x" * 4000 + " ")

    assert exchange.message.content == "x" * 4000


# --- a failed upstream call (SPEC §6) ------------------------------------------------------------

FAILURES = [
    LLMTimeout(),
    LLMUnavailable(),
    LLMBusy(retry_after=7),
    LLMUpstreamError(),
    LLMMisconfigured(),
]


@pytest.mark.parametrize("failure", FAILURES, ids=lambda e: type(e).__name__)
async def test_a_failed_tutor_call_gives_the_slot_back_and_keeps_the_message_as_failed(
    tutor: TutorService, chats: ChatService, alice: User, llm: ScriptedLLM, failure: LLMError
) -> None:
    chat = await chats.start_chat(alice.id)
    await tutor.ask(alice.id, chat.id, "first question")
    llm.push(failure)

    with pytest.raises(type(failure)) as caught:
        await tutor.ask(alice.id, chat.id, "second question")

    assert caught.value is failure
    assert (await tutor.quota(alice.id)).used == 1
    messages = (await chats.read_chat(alice.id, chat.id)).messages
    assert [(m.role, m.content, m.status) for m in messages] == [
        (Role.USER, "first question", MessageStatus.OK),
        (Role.ASSISTANT, "You said: first question", MessageStatus.OK),
        (Role.USER, "second question", MessageStatus.FAILED),
    ]


async def test_failed_calls_never_use_up_the_quota(
    tutor: TutorService, chats: ChatService, alice: User, llm: ScriptedLLM
) -> None:
    chat = await chats.start_chat(alice.id)
    llm.push(*[LLMTimeout() for _ in range(10)])
    for n in range(10):
        with pytest.raises(LLMTimeout):
            await tutor.ask(alice.id, chat.id, f"attempt {n}")

    exchange = await tutor.ask(alice.id, chat.id, "finally")

    assert exchange.quota.used == 1


async def test_a_failed_message_is_left_out_of_later_context(
    tutor: TutorService, chats: ChatService, alice: User, llm: ScriptedLLM
) -> None:
    chat = await chats.start_chat(alice.id)
    llm.push("Hi! How are you?", LLMUnavailable(), "Glad to hear it.")
    await tutor.ask(alice.id, chat.id, "Hello")
    with pytest.raises(LLMUnavailable):
        await tutor.ask(alice.id, chat.id, "This one is lost")

    await tutor.ask(alice.id, chat.id, "I am fine")

    last = llm.prompts[-1].turns
    assert last[0].role == "system"
    assert [(t.role, t.content) for t in last[1:]] == [
        ("user", "Hello"),
        ("assistant", "Hi! How are you?"),
        ("user", "I am fine"),
    ]


# --- what happens while the tutor is answering ------------------------------------------------


class AnswersAfter:
    """A tutor that runs ``meanwhile`` (as another request would) before it answers."""

    model = "answers-after"

    def __init__(self, meanwhile: Callable[[], Awaitable[object]]) -> None:
        self._meanwhile = meanwhile

    async def complete(self, prompt: Prompt) -> Completion:
        await asyncio.wait_for(self._meanwhile(), timeout=2)
        return Completion(text="An answer.", model=self.model)

    async def stream(self, prompt: Prompt) -> AsyncGenerator[str, None]:
        yield "An "
        await asyncio.wait_for(self._meanwhile(), timeout=2)
        yield "answer."

    async def aclose(self) -> None:
        return None


async def test_the_tutor_is_asked_with_no_transaction_open(
    tutor: TutorService,
    store: MemoryStore,
    clock: FrozenClock,
    policy: QuotaPolicy,
    chats: ChatService,
    alice: User,
) -> None:
    """The memory store holds its lock for a whole transaction, so a transaction left open
    across the tutor call would make the tutor's own request wait until the timeout."""
    readings: list[int] = []

    async def read_the_quota() -> None:
        readings.append((await tutor.quota(alice.id)).used)

    answering = TutorService(
        uow=store.unit_of_work,
        llm=AnswersAfter(read_the_quota),
        clock=clock,
        policy=policy,
        chats=ChatService(uow=store.unit_of_work, clock=clock),
    )
    chat = await ChatService(uow=store.unit_of_work, clock=clock).start_chat(alice.id)

    exchange = await answering.ask(alice.id, chat.id, "Hello")

    assert readings == [1], "the slot is taken before the tutor is asked"
    assert exchange.reply.content == "An answer."


async def test_a_chat_deleted_while_the_tutor_answers_is_not_found_and_the_slot_stays_spent(
    tutor: TutorService,
    store: MemoryStore,
    clock: FrozenClock,
    policy: QuotaPolicy,
    chats: ChatService,
    alice: User,
) -> None:
    chat = await chats.start_chat(alice.id)
    answering = TutorService(
        uow=store.unit_of_work,
        llm=AnswersAfter(lambda: chats.delete_chat(alice.id, chat.id)),
        clock=clock,
        policy=policy,
        chats=chats,
    )

    with pytest.raises(ChatNotFound):
        await answering.ask(alice.id, chat.id, "Hello")

    assert (await tutor.quota(alice.id)).used == 1
    assert store.tables.messages == {}, "no reply may be stored without its chat"


async def _collect(stream: ReplyStream[Delta | Done[Exchange]]) -> list[Delta | Done[Exchange]]:
    return [event async for event in stream]


async def test_a_chat_deleted_during_a_stream_is_not_found_at_its_end(
    tutor: TutorService,
    store: MemoryStore,
    clock: FrozenClock,
    policy: QuotaPolicy,
    chats: ChatService,
    alice: User,
) -> None:
    chat = await chats.start_chat(alice.id)
    answering = TutorService(
        uow=store.unit_of_work,
        llm=AnswersAfter(lambda: chats.delete_chat(alice.id, chat.id)),
        clock=clock,
        policy=policy,
        chats=chats,
    )
    pending = await answering.accept(alice.id, chat.id, "Hello")
    assert isinstance(pending, PendingAsk)

    with pytest.raises(ChatNotFound):
        await _collect(answering.stream(pending))

    assert (await tutor.quota(alice.id)).used == 1
    assert store.tables.messages == {}, "no reply may be stored without its chat"


async def test_a_stream_closed_after_its_chat_was_deleted_stores_nothing(
    tutor: TutorService, store: MemoryStore, chats: ChatService, alice: User
) -> None:
    chat = await chats.start_chat(alice.id)
    pending = await tutor.accept(alice.id, chat.id, "Hello there")
    assert isinstance(pending, PendingAsk)
    stream = tutor.stream(pending)
    await anext(stream)
    await chats.delete_chat(alice.id, chat.id)

    await stream.aclose()

    assert (await tutor.quota(alice.id)).used == 1
    assert store.tables.messages == {}, "no partial reply may be stored without its chat"
