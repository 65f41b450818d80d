"""What asking the tutor produces: the accepted request, the exchange, and the streamed events."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Coroutine
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

from chatcore.concurrency import run_to_completion
from chatcore.model import Chat, Message, Quota
from chatcore.ports.llm import Prompt

E = TypeVar("E")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Exchange:
    """The learner's message, the tutor's reply and the quota after the request."""

    message: Message
    reply: Message
    quota: Quota


@dataclass(frozen=True, slots=True)
class ChatDetail:
    """A chat with its latest messages (oldest first); ``older_cursor`` pages to earlier ones."""

    chat: Chat
    messages: tuple[Message, ...]
    older_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class PendingAsk:
    """An accepted request: slot taken, message stored, tutor not yet asked."""

    user_id: int
    chat_id: int
    message: Message
    prompt: Prompt
    day: date
    quota: Quota
    idempotency_key: str | None


@dataclass(frozen=True, slots=True)
class Delta:
    text: str


@dataclass(frozen=True, slots=True)
class Done(Generic[R]):
    """The last event of a stream: the request's result (an ``Exchange`` for a chat message)."""

    result: R


class ReplyStream(Generic[E]):
    """Events of a counted request (``TutorService.stream``, ``RelayService.stream``). Read it to
    the end or ``aclose()`` it.

    A plain async generator runs no clean-up when it is closed before its first step, which
    would leave the slot taken (and a message without a reply); this wrapper settles that case
    with ``abandon``.
    """

    def __init__(
        self,
        events: AsyncGenerator[E, None],
        *,
        abandon: Callable[[], Coroutine[object, object, None]],
    ) -> None:
        self._events = events
        self._abandon = abandon
        self._started = False

    def __aiter__(self) -> ReplyStream[E]:
        return self

    async def __anext__(self) -> E:
        self._started = True
        return await self._events.__anext__()

    async def aclose(self) -> None:
        """Stop the events; the request is settled as the stream's producer describes."""
        started, self._started = self._started, True
        await self._events.aclose()
        if not started:
            await run_to_completion(self._abandon())
