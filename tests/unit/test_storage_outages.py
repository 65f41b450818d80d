"""Asking when the database cannot serve for a moment (SPEC §5, §6: nothing is lost, a request
without a reply does not count).

The writes after the tutor's call (the reply, or the slot given back) are retried; when they
still cannot be written the learner is not charged for a reply they never got, and the original
error stays the one reported.
"""

from __future__ import annotations

from datetime import timedelta
from types import TracebackType
from typing import Self

import pytest

from adapters.memory import MemoryStore
from chatcore import ChatService, QuotaPolicy, User, concurrency
from chatcore.errors import LLMUnavailable, StorageUnavailable
from chatcore.model import MessageStatus
from chatcore.ports import Completion, Prompt, UnitOfWork
from chatcore.service import IN_FLIGHT_LIMIT
from chatcore.testing import FrozenClock, ScriptedLLM


class FlakyStore:
    """The memory store, whose next ``failing`` commits raise ``StorageUnavailable`` (after
    applying the change when ``in_doubt``: the connection broke after the server committed)."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.failing = 0
        self.in_doubt = False

    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        return FlakyUnitOfWork(self, self.store.unit_of_work(read_only=read_only))


class FlakyUnitOfWork:
    def __init__(self, flaky: FlakyStore, inner: UnitOfWork) -> None:
        self._flaky = flaky
        self._inner = inner
        self.users = inner.users
        self.identities = inner.identities
        self.chats = inner.chats
        self.messages = inner.messages
        self.quota = inner.quota
        self.refresh_tokens = inner.refresh_tokens
        self.api_keys = inner.api_keys
        self.idempotency = inner.idempotency

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


def service(flaky: FlakyStore, llm: ScriptedLLM, clock: FrozenClock, policy: QuotaPolicy) -> ChatService:
    return ChatService(uow=flaky, llm=llm, clock=clock, policy=policy)


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
    flaky: FlakyStore, chats: ChatService, alice: User, clock: FrozenClock, policy: QuotaPolicy
) -> None:
    chat = await chats.start_chat(alice.id)
    # Three tries of storing the reply fail; then the database is back for the give-back.
    asking = service(flaky, OutageDuringTheCall(flaky, commits=3), clock, policy)

    with pytest.raises(StorageUnavailable):
        await asking.ask(alice.id, chat.id, "I am ready.")

    assert (await chats.quota(alice.id)).used == 0
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
    flaky: FlakyStore, chats: ChatService, alice: User, clock: FrozenClock, policy: QuotaPolicy
) -> None:
    chat = await chats.start_chat(alice.id)
    dying = service(flaky, OutageDuringTheCall(flaky, commits=6), clock, policy)
    with pytest.raises(StorageUnavailable):
        await dying.ask(alice.id, chat.id, "I am ready.", idempotency_key="k-1")

    clock.advance(seconds=(IN_FLIGHT_LIMIT + timedelta(seconds=1)).total_seconds())
    exchange = await chats.ask(alice.id, chat.id, "I am ready.", idempotency_key="k-1")

    assert exchange.reply.content == "You said: I am ready."  # a fresh answer (the tutor echoes)


async def test_a_reply_whose_commit_is_in_doubt_is_neither_stored_twice_nor_given_back(
    flaky: FlakyStore, chats: ChatService, alice: User, clock: FrozenClock, policy: QuotaPolicy
) -> None:
    chat = await chats.start_chat(alice.id)
    flaky.in_doubt = True
    asking = service(flaky, OutageDuringTheCall(flaky, commits=1), clock, policy)

    with pytest.raises(StorageUnavailable):
        await asking.ask(alice.id, chat.id, "I am ready.")

    messages = (await chats.read_chat(alice.id, chat.id)).messages
    assert [m.content for m in messages] == ["I am ready.", "Tell me about your last project."]
    assert (await chats.quota(alice.id)).used == 1
