"""Streamed replies (SPEC §4.3): ``ChatService.accept`` then ``ChatService.stream``.

The rule for an interrupted stream: if no text had arrived, the request is given back (the slot
returns, the learner's message is marked failed); once text has arrived, tokens were spent, so
the slot stays taken and the partial reply is stored as failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence

import pytest

from adapters.memory import MemoryStore
from chatcore import ChatService, MessageStatus, QuotaPolicy, Role, User
from chatcore.errors import LLMBusy, LLMError, LLMUpstreamError
from chatcore.ports import Completion, Prompt
from chatcore.service import Delta, Done, PendingAsk
from chatcore.testing import FrozenClock, ScriptedLLM


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


def _service(
    tutor: StreamingTutor, store: MemoryStore, clock: FrozenClock, policy: QuotaPolicy
) -> ChatService:
    return ChatService(uow=store.unit_of_work, llm=tutor, clock=clock, policy=policy)


async def _accept(chats: ChatService, user: User, content: str = "Good morning!") -> PendingAsk:
    chat = await chats.start_chat(user.id)
    pending = await chats.accept(user.id, chat.id, content)
    assert isinstance(pending, PendingAsk)
    return pending


async def _stored(chats: ChatService, pending: PendingAsk) -> list[tuple[Role, str, MessageStatus]]:
    detail = await chats.read_chat(pending.user_id, pending.chat_id)
    return [(m.role, m.content, m.status) for m in detail.messages]


async def _collect(chats: ChatService, pending: PendingAsk, into: list[Delta | Done]) -> None:
    async for event in chats.stream(pending):
        into.append(event)


async def test_accepting_counts_and_stores_the_message_before_the_tutor_is_asked(
    chats: ChatService, alice: User, llm: ScriptedLLM
) -> None:
    pending = await _accept(chats, alice)

    assert pending.quota.used == 1
    assert (await chats.quota(alice.id)).used == 1
    assert await _stored(chats, pending) == [(Role.USER, "Good morning!", MessageStatus.OK)]
    assert pending.prompt.turns[-1].content == "Good morning!"
    assert llm.prompts == []


async def test_a_stream_gives_deltas_then_one_done_with_the_stored_reply(
    chats: ChatService, alice: User, llm: ScriptedLLM
) -> None:
    llm.push("Good morning! Did you sleep well?")
    pending = await _accept(chats, alice)

    events = [event async for event in chats.stream(pending)]

    *deltas, done = events
    assert len(deltas) > 1
    assert all(isinstance(d, Delta) for d in deltas)
    assert isinstance(done, Done)
    text = "".join(d.text for d in deltas if isinstance(d, Delta))
    assert text == "Good morning! Did you sleep well?"
    assert done.exchange.reply.content == text
    assert done.exchange.reply.model == "scripted"
    assert done.exchange.message == pending.message
    assert done.exchange.quota.used == 1
    assert await _stored(chats, pending) == [
        (Role.USER, "Good morning!", MessageStatus.OK),
        (Role.ASSISTANT, text, MessageStatus.OK),
    ]


async def test_a_tutor_error_before_any_text_gives_the_slot_back(
    chats: ChatService, alice: User, llm: ScriptedLLM
) -> None:
    llm.push(LLMBusy(retry_after=3))
    pending = await _accept(chats, alice)

    with pytest.raises(LLMBusy):
        await _collect(chats, pending, [])

    assert (await chats.quota(alice.id)).used == 0
    assert await _stored(chats, pending) == [(Role.USER, "Good morning!", MessageStatus.FAILED)]


async def test_a_tutor_error_mid_stream_gives_the_slot_back_and_marks_the_message_failed(
    store: MemoryStore, clock: FrozenClock, policy: QuotaPolicy, alice: User
) -> None:
    tutor = StreamingTutor(["Good ", "morning"], error=LLMUpstreamError())
    chats = _service(tutor, store, clock, policy)
    pending = await _accept(chats, alice)
    received: list[Delta | Done] = []

    with pytest.raises(LLMUpstreamError):
        await _collect(chats, pending, received)

    assert received == [Delta("Good "), Delta("morning")]
    assert (await chats.quota(alice.id)).used == 0
    assert await _stored(chats, pending) == [(Role.USER, "Good morning!", MessageStatus.FAILED)]


async def test_closing_the_stream_after_some_text_keeps_the_slot_and_the_partial_reply_as_failed(
    store: MemoryStore, clock: FrozenClock, policy: QuotaPolicy, alice: User
) -> None:
    tutor = StreamingTutor(["Good ", "morning ", "to you!"])
    chats = _service(tutor, store, clock, policy)
    pending = await _accept(chats, alice)
    stream = chats.stream(pending)

    first = await anext(stream)
    await stream.aclose()

    assert first == Delta("Good ")
    assert tutor.closed, "the upstream call must be stopped"
    assert not tutor.ran_to_end
    assert (await chats.quota(alice.id)).used == 1
    assert (Role.ASSISTANT, "Good ", MessageStatus.FAILED) in await _stored(chats, pending)


async def test_closing_the_stream_before_it_started_gives_the_slot_back(
    chats: ChatService, alice: User, llm: ScriptedLLM
) -> None:
    pending = await _accept(chats, alice)
    stream = chats.stream(pending)

    await stream.aclose()

    assert llm.prompts == []
    assert (await chats.quota(alice.id)).used == 0
    assert await _stored(chats, pending) == [(Role.USER, "Good morning!", MessageStatus.FAILED)]


async def test_closing_a_stream_twice_settles_it_once(chats: ChatService, alice: User) -> None:
    pending = await _accept(chats, alice)
    await chats.ask(alice.id, pending.chat_id, "another question")
    stream = chats.stream(pending)

    await stream.aclose()
    await stream.aclose()

    assert (await chats.quota(alice.id)).used == 1


async def test_a_consumer_cancelled_while_waiting_for_the_first_text_gives_the_slot_back(
    store: MemoryStore, clock: FrozenClock, policy: QuotaPolicy, alice: User
) -> None:
    tutor = StreamingTutor([], stall=True)
    chats = _service(tutor, store, clock, policy)
    pending = await _accept(chats, alice)
    consumer = asyncio.create_task(_collect(chats, pending, []))
    await tutor.started.wait()

    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer

    assert tutor.closed
    assert (await chats.quota(alice.id)).used == 0
    assert await _stored(chats, pending) == [(Role.USER, "Good morning!", MessageStatus.FAILED)]


async def test_a_consumer_cancelled_after_some_text_keeps_the_slot_and_the_partial_reply(
    store: MemoryStore, clock: FrozenClock, policy: QuotaPolicy, alice: User
) -> None:
    tutor = StreamingTutor(["Good ", "morning"], stall=True)
    chats = _service(tutor, store, clock, policy)
    pending = await _accept(chats, alice)
    consumer = asyncio.create_task(_collect(chats, pending, []))
    await tutor.started.wait()  # the consumer runs until the tutor stalls, after both pieces

    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer

    assert tutor.closed
    assert (await chats.quota(alice.id)).used == 1
    assert (Role.ASSISTANT, "Good morning", MessageStatus.FAILED) in await _stored(chats, pending)
