"""Streamed replies (SPEC §4.3, §5): ``TutorService.accept`` then ``TutorService.stream``.

The rule for an interrupted stream: the request counted when it was accepted, and only a tutor
failure (§6) gives it back. A consumer that leaves, at any point (even before the first text, even
before reading at all), stops the upstream call: the slot stays taken, the learner's message is
marked failed, and a partial reply is stored as failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence

import pytest

from adapters.memory import MemoryStore
from chatcore.chats import ChatService
from chatcore.errors import LLMBusy, LLMError, LLMUpstreamError, QuotaExceeded
from chatcore.model import MessageStatus, Role, User
from chatcore.ports.llm import Completion, LLMGateway, Prompt
from chatcore.quota import QuotaPolicy
from chatcore.results import Delta, Done, Exchange, PendingAsk
from chatcore.testing import FrozenClock, ScriptedLLM
from chatcore.tutoring import TutorService


class StreamingTutor:
    """A tutor that streams ``pieces``, then fails with ``error`` or, with ``stall``, waits forever.

    It records whether its stream was started, ran to its end, and was closed.
    """

    model = "streaming-tutor"

    def __init__(self, pieces: Sequence[str], *, error: LLMError | None = None, stall: bool = False) -> None:
        self._pieces = pieces
        self._error = error
        self._stall = stall
        self.started = asyncio.Event()
        self.ran_to_end = False
        self.closed = False

    async def complete(self, prompt: Prompt) -> Completion:
        raise AssertionError("this tutor only streams")

    async def stream(self, prompt: Prompt) -> AsyncGenerator[str, None]:
        self.started.set()
        try:
            for piece in self._pieces:
                yield piece
            if self._stall:
                await asyncio.Event().wait()
            if self._error is not None:
                raise self._error
            self.ran_to_end = True
        finally:
            self.closed = True

    async def aclose(self) -> None:
        return None


class Practice:
    """The two services over one store, as a learner uses them."""

    def __init__(self, llm: LLMGateway, store: MemoryStore, clock: FrozenClock, policy: QuotaPolicy):
        self.chats = ChatService(uow=store.unit_of_work, clock=clock)
        self.tutor = TutorService(
            uow=store.unit_of_work, llm=llm, clock=clock, policy=policy, chats=self.chats
        )

    async def accept(self, user: User, content: str = "Good morning!") -> PendingAsk:
        chat = await self.chats.start_chat(user.id)
        pending = await self.tutor.accept(user.id, chat.id, content)
        assert isinstance(pending, PendingAsk)
        return pending

    async def stored(self, pending: PendingAsk) -> list[tuple[Role, str, MessageStatus]]:
        detail = await self.chats.read_chat(pending.user_id, pending.chat_id)
        return [(m.role, m.content, m.status) for m in detail.messages]

    async def collect(self, pending: PendingAsk, into: list[Delta | Done[Exchange]]) -> None:
        async for event in self.tutor.stream(pending):
            into.append(event)

    async def used(self, user: User) -> int:
        return (await self.tutor.quota(user.id)).used


@pytest.fixture
def practice(llm: ScriptedLLM, store: MemoryStore, clock: FrozenClock, policy: QuotaPolicy) -> Practice:
    return Practice(llm, store, clock, policy)


async def test_accepting_counts_and_stores_the_message_before_the_tutor_is_asked(
    practice: Practice, alice: User, llm: ScriptedLLM
) -> None:
    pending = await practice.accept(alice)

    assert pending.quota.used == 1
    assert await practice.used(alice) == 1
    assert await practice.stored(pending) == [(Role.USER, "Good morning!", MessageStatus.OK)]
    assert pending.prompt.turns[-1].content == "Good morning!"
    assert llm.prompts == []


async def test_a_stream_gives_deltas_then_one_done_with_the_stored_reply(
    practice: Practice, alice: User, llm: ScriptedLLM
) -> None:
    llm.push("Good morning! Did you sleep well?")
    pending = await practice.accept(alice)

    events = [event async for event in practice.tutor.stream(pending)]

    *deltas, done = events
    assert len(deltas) > 1
    assert all(isinstance(d, Delta) for d in deltas)
    assert isinstance(done, Done)
    text = "".join(d.text for d in deltas if isinstance(d, Delta))
    assert text == "Good morning! Did you sleep well?"
    assert done.result.reply.content == text
    assert done.result.reply.model == "scripted"
    assert done.result.message == pending.message
    assert done.result.quota.used == 1
    assert await practice.stored(pending) == [
        (Role.USER, "Good morning!", MessageStatus.OK),
        (Role.ASSISTANT, text, MessageStatus.OK),
    ]


async def test_a_tutor_error_before_any_text_gives_the_slot_back(
    practice: Practice, alice: User, llm: ScriptedLLM
) -> None:
    llm.push(LLMBusy(retry_after=3))
    pending = await practice.accept(alice)

    with pytest.raises(LLMBusy):
        await practice.collect(pending, [])

    assert await practice.used(alice) == 0
    assert await practice.stored(pending) == [(Role.USER, "Good morning!", MessageStatus.FAILED)]


async def test_a_tutor_error_mid_stream_gives_the_slot_back_and_marks_the_message_failed(
    store: MemoryStore, clock: FrozenClock, policy: QuotaPolicy, alice: User
) -> None:
    tutor = StreamingTutor(["Good ", "morning"], error=LLMUpstreamError())
    practice = Practice(tutor, store, clock, policy)
    pending = await practice.accept(alice)
    received: list[Delta | Done[Exchange]] = []

    with pytest.raises(LLMUpstreamError):
        await practice.collect(pending, received)

    assert received == [Delta("Good "), Delta("morning")]
    assert await practice.used(alice) == 0
    assert await practice.stored(pending) == [(Role.USER, "Good morning!", MessageStatus.FAILED)]


async def test_closing_the_stream_after_some_text_keeps_the_slot_and_the_partial_reply_as_failed(
    store: MemoryStore, clock: FrozenClock, policy: QuotaPolicy, alice: User
) -> None:
    tutor = StreamingTutor(["Good ", "morning ", "to you!"])
    practice = Practice(tutor, store, clock, policy)
    pending = await practice.accept(alice)
    stream = practice.tutor.stream(pending)

    first = await anext(stream)
    await stream.aclose()

    assert first == Delta("Good ")
    assert tutor.closed, "the upstream call must be stopped"
    assert not tutor.ran_to_end
    assert await practice.used(alice) == 1
    assert (Role.ASSISTANT, "Good ", MessageStatus.FAILED) in await practice.stored(pending)


async def test_closing_the_stream_before_it_started_keeps_the_slot_and_marks_the_message_failed(
    practice: Practice, alice: User, llm: ScriptedLLM
) -> None:
    pending = await practice.accept(alice)
    stream = practice.tutor.stream(pending)

    await stream.aclose()

    assert llm.prompts == []
    assert await practice.used(alice) == 1, "a request counts once it is accepted"
    assert await practice.stored(pending) == [(Role.USER, "Good morning!", MessageStatus.FAILED)]


async def test_closing_a_stream_twice_settles_it_once(
    store: MemoryStore, clock: FrozenClock, policy: QuotaPolicy, alice: User
) -> None:
    tutor = StreamingTutor(["Good ", "morning"])
    practice = Practice(tutor, store, clock, policy)
    pending = await practice.accept(alice)
    stream = practice.tutor.stream(pending)
    await anext(stream)

    await stream.aclose()
    await stream.aclose()

    assert await practice.used(alice) == 1
    assert await practice.stored(pending) == [
        (Role.USER, "Good morning!", MessageStatus.OK),
        (Role.ASSISTANT, "Good ", MessageStatus.FAILED),
    ]


async def test_a_consumer_cancelled_while_waiting_for_the_first_text_keeps_the_slot(
    store: MemoryStore, clock: FrozenClock, policy: QuotaPolicy, alice: User
) -> None:
    tutor = StreamingTutor([], stall=True)
    practice = Practice(tutor, store, clock, policy)
    pending = await practice.accept(alice)
    consumer = asyncio.create_task(practice.collect(pending, []))
    await tutor.started.wait()

    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer

    assert tutor.closed, "the upstream call must be stopped"
    assert await practice.used(alice) == 1, "a client that hangs up gets nothing back"
    assert await practice.stored(pending) == [(Role.USER, "Good morning!", MessageStatus.FAILED)]


async def test_a_consumer_cancelled_after_some_text_keeps_the_slot_and_the_partial_reply(
    store: MemoryStore, clock: FrozenClock, policy: QuotaPolicy, alice: User
) -> None:
    tutor = StreamingTutor(["Good ", "morning"], stall=True)
    practice = Practice(tutor, store, clock, policy)
    pending = await practice.accept(alice)
    consumer = asyncio.create_task(practice.collect(pending, []))
    await tutor.started.wait()  # the consumer runs until the tutor stalls, after both pieces

    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer

    assert tutor.closed
    assert await practice.used(alice) == 1
    assert (Role.ASSISTANT, "Good morning", MessageStatus.FAILED) in await practice.stored(pending)


async def test_no_hang_up_sequence_causes_more_upstream_calls_than_the_limit(
    store: MemoryStore, clock: FrozenClock, policy: QuotaPolicy, alice: User
) -> None:
    """The attack of SPEC §5: start a stream, leave before the first text, repeat."""
    tutor = StreamingTutor([], stall=True)
    practice = Practice(tutor, store, clock, policy)
    chat = await practice.chats.start_chat(alice.id)
    calls = 0
    for _ in range(policy.limit + 3):
        try:
            pending = await practice.tutor.accept(alice.id, chat.id, "Hello?")
        except QuotaExceeded:
            continue
        assert isinstance(pending, PendingAsk)
        tutor.started.clear()
        consumer = asyncio.create_task(practice.collect(pending, []))
        await tutor.started.wait()
        calls += 1
        consumer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await consumer

    assert calls == policy.limit
    assert await practice.used(alice) == policy.limit


async def test_a_whole_reply_whose_caller_is_cancelled_still_counts(
    store: MemoryStore, clock: FrozenClock, policy: QuotaPolicy, alice: User
) -> None:
    """``ask`` (JSON, not streamed) cancelled while the tutor writes: the client left, it counts."""
    tutor = StallingTutor()
    practice = Practice(tutor, store, clock, policy)
    chat = await practice.chats.start_chat(alice.id)
    asking = asyncio.create_task(practice.tutor.ask(alice.id, chat.id, "Hello?"))
    await tutor.called.wait()

    asking.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asking

    assert await practice.used(alice) == 1
    messages = (await practice.chats.read_chat(alice.id, chat.id)).messages
    assert [(m.role, m.status) for m in messages] == [(Role.USER, MessageStatus.FAILED)]


class StallingTutor:
    """A tutor whose whole-reply call never ends (until cancelled)."""

    model = "stalling-tutor"

    def __init__(self) -> None:
        self.called = asyncio.Event()

    async def complete(self, prompt: Prompt) -> Completion:
        self.called.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def stream(self, prompt: Prompt) -> AsyncGenerator[str, None]:
        raise AssertionError("this tutor does not stream")
        yield ""  # pragma: no cover

    async def aclose(self) -> None:
        return None
