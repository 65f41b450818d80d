"""The OpenAI-compatible relay (SPEC §4.5): the caller's own conversation, our key, the same quota.

Nothing of the conversation is stored: only the quota slot is counted, and given back when
the tutor fails, exactly as for chat messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import date

from chatcore.concurrency import run_to_completion, settle
from chatcore.errors import QuotaExceeded, ValidationFailed
from chatcore.model import Quota
from chatcore.ports import Clock, Completion, LLMGateway, Prompt, Turn, UnitOfWorkFactory
from chatcore.quota import QuotaPolicy
from chatcore.results import ReplyStream
from chatcore.service import daily_limit_of

MAX_TURNS = 200
MAX_TOTAL_CHARS = 48_000


@dataclass(frozen=True, slots=True)
class Slot:
    user_id: int
    day: date
    quota: Quota


class RelayService:
    """Authenticated, counted access to the tutor model for OpenAI-compatible clients."""

    def __init__(self, *, uow: UnitOfWorkFactory, llm: LLMGateway, clock: Clock, policy: QuotaPolicy) -> None:
        self._uow = uow
        self._llm = llm
        self._clock = clock
        self._policy = policy

    @property
    def model(self) -> str:
        return self._llm.model

    async def take_slot(self, user_id: int, turns: Sequence[Turn]) -> Slot:
        """Validate the conversation and count the request. Raises ``QuotaExceeded``."""
        validate_turns(turns)
        now = self._clock.now()
        day = self._policy.day_of(now)
        async with self._uow() as uow:
            limit = await daily_limit_of(uow, user_id, self._policy)
            used = await uow.quota.consume(user_id, day, limit=limit)
            if used is None:
                raise QuotaExceeded(self._policy.quota(used=limit, now=now, limit=limit))
            await uow.commit()
        return Slot(user_id=user_id, day=day, quota=self._policy.quota(used=used, now=now, limit=limit))

    async def complete(self, slot: Slot, turns: Sequence[Turn]) -> Completion:
        try:
            return await self._llm.complete(Prompt(turns=tuple(turns)))
        except BaseException:
            await run_to_completion(self._settle(slot))
            raise

    def stream(self, slot: Slot, turns: Sequence[Turn]) -> ReplyStream[str]:
        """Text deltas. An upstream failure, or a consumer that leaves before any text (closing
        the stream even before reading it), gives the slot back; once text has flowed the
        request counts (tokens were spent)."""
        return ReplyStream(self._deltas(slot, turns), abandon=lambda: self._settle(slot))

    async def _deltas(self, slot: Slot, turns: Sequence[Turn]) -> AsyncGenerator[str, None]:
        received = False
        upstream = self._llm.stream(Prompt(turns=tuple(turns)))
        try:
            async for piece in upstream:
                received = True
                yield piece
        except BaseException as exc:
            consumer_left = isinstance(exc, (GeneratorExit, asyncio.CancelledError))
            if not (consumer_left and received):
                await run_to_completion(self._settle(slot))
            raise
        finally:
            await upstream.aclose()

    async def _settle(self, slot: Slot) -> None:
        """Give the slot back, retried; if the database cannot take it, the caller's own error
        stays the one reported (the slot then stays taken)."""
        await settle(lambda: self.give_back(slot))

    async def give_back(self, slot: Slot) -> None:
        async with self._uow() as uow:
            await uow.quota.give_back(slot.user_id, slot.day)
            await uow.commit()


def validate_turns(turns: Sequence[Turn]) -> None:
    if not turns:
        raise ValidationFailed("messages must not be empty.", field="messages")
    if len(turns) > MAX_TURNS:
        raise ValidationFailed(f"At most {MAX_TURNS} messages are accepted.", field="messages")
    if sum(len(t.content) for t in turns) > MAX_TOTAL_CHARS:
        raise ValidationFailed(
            f"The messages exceed {MAX_TOTAL_CHARS} characters in total.", field="messages"
        )
    if not any(t.role == "user" and t.content.strip() for t in turns):
        raise ValidationFailed("At least one non-empty user message is required.", field="messages")
