"""The OpenAI-compatible relay (SPEC §4.5): the caller's own conversation, our key, the same quota.

Nothing of the conversation is stored: only the quota slot is counted, and given back when
the tutor fails, exactly as for chat messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chatcore.counted import CountedRequest, Slot, count_refusal, daily_limit_of, take_slot
from chatcore.errors import QuotaExceeded, ValidationFailed
from chatcore.learning import Feedback
from chatcore.ports.clock import Clock
from chatcore.ports.llm import Completion, LLMGateway, Prompt, Turn
from chatcore.ports.storage import UnitOfWorkFactory
from chatcore.quota import QuotaPolicy
from chatcore.results import Delta, Done, ReplyStream

MAX_TURNS = 200
MAX_TOTAL_CHARS = 48_000


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
        try:
            # One write (the slot): on PostgreSQL the user's row and the slot are then two round
            # trips, with no BEGIN/COMMIT around them.
            async with self._uow(one_write=True) as uow:
                limit = await daily_limit_of(uow, user_id, self._policy)
                slot = await take_slot(uow, self._policy, user_id=user_id, limit=limit, now=now)
                await uow.commit()
        except QuotaExceeded:
            await count_refusal(self._uow, self._policy.day_of(now))
            raise
        return slot

    async def complete(self, slot: Slot, turns: Sequence[Turn]) -> Completion:
        """The whole reply. Raises the tutor's ``LLMError`` (the slot is given back)."""
        return await self._request(slot, turns).complete()

    def stream(self, slot: Slot, turns: Sequence[Turn]) -> ReplyStream[Delta | Done[Completion]]:
        """Text deltas, then ``Done``. An upstream failure gives the slot back; a consumer that
        leaves (at any point, even before reading) stops the tutor and the request counts."""
        return self._request(slot, turns).stream()

    def _request(self, slot: Slot, turns: Sequence[Turn]) -> CountedRequest[Completion]:
        return CountedRequest(
            llm=self._llm, prompt=Prompt(turns=tuple(turns)), outcome=RelayOutcome(uow=self._uow, slot=slot)
        )


@dataclass(frozen=True, slots=True)
class RelayOutcome:
    """How a relayed completion ends: nothing of the conversation is stored, only the slot."""

    uow: UnitOfWorkFactory
    slot: Slot

    async def answered(self, text: str, model: str, feedback: Feedback | None = None) -> Completion:
        return Completion(text=text, model=model)  # a relayed prompt never asks for feedback

    async def failed(self, *, partial: str, give_back: bool, failure: str | None = None) -> None:
        if not give_back:
            return
        async with self.uow() as uow:
            await uow.quota.give_back(self.slot.user_id, self.slot.day, failure=failure)
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
