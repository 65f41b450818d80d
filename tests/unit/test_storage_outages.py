"""Asking when the database cannot serve for a moment (SPEC §5, §6: nothing is lost, a request
without a reply does not count).

The writes after the tutor's call (the reply, or the slot given back) are retried; when they
still cannot be written the learner is not charged for a reply they never got, and the original
error stays the one reported.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import timedelta
from types import TracebackType
from typing import Self

import pytest

from adapters.memory import MemoryStore
from chatcore import concurrency
from chatcore.chats import ChatService
from chatcore.errors import LLMUnavailable, StorageUnavailable
from chatcore.model import MessageStatus, User
from chatcore.ports.llm import Completion, Prompt
from chatcore.ports.storage import UnitOfWork
from chatcore.quota import QuotaPolicy
from chatcore.results import Delta, Exchange, PendingAsk
from chatcore.testing import FrozenClock, ScriptedLLM
from chatcore.tutoring import IN_FLIGHT_LIMIT, TutorService


class FlakyStore:
    """The memory store, whose next ``failing`` commits raise ``StorageUnavailable`` (after
    applying the change when ``in_doubt``: the connection broke after the server committed)."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.failing = 0
        self.in_doubt = False

    def __call__(self, *, read_only: bool = False, one_write: bool = False) -> UnitOfWork:
        return FlakyUnitOfWork(self, self.store.unit_of_work(read_only=read_only, one_write=one_write))


class FlakyUnitOfWork:
    def __init__(self, flaky: FlakyStore, inner: UnitOfWork) -> None:
        self._flaky = flaky
        self._inner = inner
        self.users = inner.users
        self.identities = inner.identities
        self.oauth = inner.oauth
        self.chats = inner.chats
        self.messages = inner.messages
        self.quota = inner.quota
        self.refresh_tokens = inner.refresh_tokens
        self.api_keys = inner.api_keys
        self.idempotency = inner.idempotency
        self.notebook = inner.notebook
        self.scorecards = inner.scorecards
        self.admin = inner.admin
        self.audit = inner.audit

    async def __aenter__(self) -> Self:
        await self._inner.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._inner.__aexit__(exc_type, exc, tb)

    async def commit(self) -> None:
        if self._flaky.failing > 0:
            self._flaky.failing -= 1
            if self._flaky.in_doubt:
                await self._inner.commit()
                raise StorageUnavailable(reason="08006", in_doubt=True)
            raise StorageUnavailable(reason="SQLITE_BUSY")
        await self._inner.commit()


class OutageDuringTheCall(ScriptedLLM):
    """The database goes away while the tutor answers: the next ``commits`` commits fail."""

    def __init__(self, flaky: FlakyStore, commits: int, *, error: LLMUnavailable | None = None) -> None:
        super().__init__(["Tell me about your last project."])
        self._flaky = flaky
        self._commits = commits
        self._error = error

    async def complete(self, prompt: Prompt) -> Completion:
        self._flaky.failing = self._commits
        if self._error is not None:
            raise self._error
        return await super().complete(prompt)


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(concurrency, "BOOKKEEPING_RETRY_DELAYS", (0, 0))


@pytest.fixture
def flaky(store: MemoryStore) -> FlakyStore:
    return FlakyStore(store)


def service(flaky: FlakyStore, llm: ScriptedLLM, clock: FrozenClock, policy: QuotaPolicy) -> TutorService:
    return TutorService(
        uow=flaky, llm=llm, clock=clock, policy=policy, chats=ChatService(uow=flaky, clock=clock)
    )


async def test_a_reply_that_cannot_be_stored_at_first_is_stored_on_a_retry(
    flaky: FlakyStore, chats: ChatService, alice: User, clock: FrozenClock, policy: QuotaPolicy
) -> None:
    chat = await chats.start_chat(alice.id)
    asking = service(flaky, OutageDuringTheCall(flaky, commits=2), clock, policy)

    exchange = await asking.ask(alice.id, chat.id, "I am ready.")

    assert exchange.reply.content == "Tell me about your last project."
    assert exchange.quota.used == 1
    assert len((await chats.read_chat(alice.id, chat.id)).messages) == 2


async def test_a_reply_that_cannot_be_stored_is_not_charged(
    tutor: TutorService,
    flaky: FlakyStore,
    chats: ChatService,
    alice: User,
    clock: FrozenClock,
    policy: QuotaPolicy,
) -> None:
    chat = await chats.start_chat(alice.id)
    # Three tries of storing the reply fail; then the database is back for the give-back.
    asking = service(flaky, OutageDuringTheCall(flaky, commits=3), clock, policy)

    with pytest.raises(StorageUnavailable):
        await asking.ask(alice.id, chat.id, "I am ready.")

    assert (await tutor.quota(alice.id)).used == 0
    [message] = (await chats.read_chat(alice.id, chat.id)).messages
    assert (message.content, message.status) == ("I am ready.", MessageStatus.FAILED)


async def test_the_tutors_error_stays_the_one_reported_when_nothing_can_be_written(
    flaky: FlakyStore, chats: ChatService, alice: User, clock: FrozenClock, policy: QuotaPolicy
) -> None:
    chat = await chats.start_chat(alice.id)
    llm = OutageDuringTheCall(flaky, commits=3, error=LLMUnavailable())
    asking = service(flaky, llm, clock, policy)

    with pytest.raises(LLMUnavailable):
        await asking.ask(alice.id, chat.id, "I am ready.")

    [message] = (await chats.read_chat(alice.id, chat.id)).messages
    assert message.content == "I am ready."  # the learner's message is never lost


async def test_an_idempotency_key_of_a_request_that_died_can_be_used_again_later(
    tutor: TutorService,
    flaky: FlakyStore,
    chats: ChatService,
    alice: User,
    clock: FrozenClock,
    policy: QuotaPolicy,
) -> None:
    chat = await chats.start_chat(alice.id)
    dying = service(flaky, OutageDuringTheCall(flaky, commits=6), clock, policy)
    with pytest.raises(StorageUnavailable):
        await dying.ask(alice.id, chat.id, "I am ready.", idempotency_key="k-1")

    clock.advance(seconds=(IN_FLIGHT_LIMIT + timedelta(seconds=1)).total_seconds())
    exchange = await tutor.ask(alice.id, chat.id, "I am ready.", idempotency_key="k-1")

    assert exchange.reply.content == "You said: I am ready."  # a fresh answer (the tutor echoes)


async def test_a_reply_whose_commit_is_in_doubt_is_neither_stored_twice_nor_given_back(
    tutor: TutorService,
    flaky: FlakyStore,
    chats: ChatService,
    alice: User,
    clock: FrozenClock,
    policy: QuotaPolicy,
) -> None:
    chat = await chats.start_chat(alice.id)
    flaky.in_doubt = True
    asking = service(flaky, OutageDuringTheCall(flaky, commits=1), clock, policy)

    with pytest.raises(StorageUnavailable):
        await asking.ask(alice.id, chat.id, "I am ready.")

    messages = (await chats.read_chat(alice.id, chat.id)).messages
    assert [m.content for m in messages] == ["I am ready.", "Tell me about your last project."]
    assert (await tutor.quota(alice.id)).used == 1


class SlowTutorOvertaken(ScriptedLLM):
    """The first call takes longer than IN_FLIGHT_LIMIT, and meanwhile the learner retries with
    the same key (the retry takes the claim over); then the first call fails."""

    def __init__(self, clock: FrozenClock, retry: Callable[[], Awaitable[Exchange]]) -> None:
        super().__init__(["The retry's answer."])
        self._clock = clock
        self._retry = retry
        self.retried: Exchange | None = None
        self._calls = 0

    async def complete(self, prompt: Prompt) -> Completion:
        self._calls += 1
        if self._calls == 1:
            self._clock.advance(seconds=(IN_FLIGHT_LIMIT + timedelta(minutes=1)).total_seconds())
            self.retried = await self._retry()
            raise LLMUnavailable
        return await super().complete(prompt)


async def test_a_request_whose_key_was_taken_over_cannot_touch_the_new_owners_claim(
    store: MemoryStore, chats: ChatService, alice: User, clock: FrozenClock, policy: QuotaPolicy
) -> None:
    chat = await chats.start_chat(alice.id)
    holder: list[TutorService] = []
    llm = SlowTutorOvertaken(clock, lambda: holder[0].ask(alice.id, chat.id, "Hello", idempotency_key="k"))
    asking = TutorService(
        uow=store.unit_of_work,
        llm=llm,
        clock=clock,
        policy=policy,
        chats=ChatService(uow=store.unit_of_work, clock=clock),
    )
    holder.append(asking)

    with pytest.raises(LLMUnavailable):
        await asking.ask(alice.id, chat.id, "Hello", idempotency_key="k")

    # The first request failed and released "its" claim: the retry's claim must survive that,
    # so a third try replays the retry's answer instead of asking (and charging) again.
    assert llm.retried is not None
    again = await asking.ask(alice.id, chat.id, "Hello", idempotency_key="k")
    assert again.reply == llm.retried.reply
    assert again.quota.used == 1


class StreamThenOutage(ScriptedLLM):
    """Streams the whole reply, and the database goes away before it can be stored."""

    def __init__(self, flaky: FlakyStore) -> None:
        super().__init__()
        self._flaky = flaky

    async def stream(self, prompt: Prompt) -> AsyncGenerator[str, None]:
        for piece in ("Tell me ", "about it."):
            yield piece
        self._flaky.failing = 3


async def test_a_streamed_reply_that_cannot_be_stored_is_kept_as_a_failed_partial_reply(
    tutor: TutorService,
    flaky: FlakyStore,
    chats: ChatService,
    alice: User,
    clock: FrozenClock,
    policy: QuotaPolicy,
) -> None:
    chat = await chats.start_chat(alice.id)
    asking = service(flaky, StreamThenOutage(flaky), clock, policy)
    pending = await asking.accept(alice.id, chat.id, "I am ready.")
    assert isinstance(pending, PendingAsk)
    seen: list[str] = []

    async def read() -> None:
        async for event in asking.stream(pending):
            if isinstance(event, Delta):
                seen.append(event.text)

    with pytest.raises(StorageUnavailable):
        await read()

    # The learner read the whole reply: it counts, and is kept (marked failed) in the history.
    assert "".join(seen) == "Tell me about it."
    assert (await tutor.quota(alice.id)).used == 1
    messages = (await chats.read_chat(alice.id, chat.id)).messages
    assert [(m.content, m.status) for m in messages] == [
        ("I am ready.", MessageStatus.OK),
        ("Tell me about it.", MessageStatus.FAILED),
    ]
