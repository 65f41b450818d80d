"""Learning (SPEC §4.7): interview scorecards, the notebook of corrections, progress.

The feedback on each message is obtained while asking (:mod:`chatcore.assessing`); this service
serves what it leaves behind. A scorecard is one counted request (:mod:`chatcore.counted`): the
slot is taken before the tutor is asked and given back when the tutor fails.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from dataclasses import dataclass

from chatcore.chats import MAX_ID, MAX_MESSAGES_PAGE, owned_chat
from chatcore.counted import Slot, call_counted, daily_limit_of, take_slot
from chatcore.errors import NotebookEntryNotFound, NothingToScore, ScorecardNotFound, ValidationFailed
from chatcore.learning import NotebookEntry, NotebookPage, Progress, SavedScorecard, Scorecard
from chatcore.model import Mode, Quota
from chatcore.ports.clock import Clock
from chatcore.ports.llm import FeedbackGateway, ScorecardRequest
from chatcore.ports.storage import UnitOfWorkFactory
from chatcore.progress import progress_of, window_start
from chatcore.quota import QuotaPolicy
from chatcore.tutor import exchanges_of, scorecard_turns

MAX_NOTEBOOK_PAGE = 100
EXPORT_PAGE = 500


@dataclass(frozen=True, slots=True)
class ScoredInterview:
    """A new scorecard and the quota after the request that made it."""

    saved: SavedScorecard
    quota: Quota


class LearningService:
    """A learner's scorecards, notebook and progress. One public method per use case."""

    def __init__(
        self, *, uow: UnitOfWorkFactory, coach: FeedbackGateway, clock: Clock, policy: QuotaPolicy
    ) -> None:
        self._uow = uow
        self._coach = coach
        self._clock = clock
        self._policy = policy

    async def score_interview(self, user_id: int, chat_id: int) -> ScoredInterview:
        """Sum up an interview chat in a new scorecard (counts against the quota).

        Raises ``ChatNotFound``; ``NothingToScore`` (before anything is counted) for a
        conversation chat or one where the learner has answered none of the tutor's questions;
        ``QuotaExceeded``; the tutor's ``LLMError`` (the slot is then given back).
        """
        now = self._clock.now()
        async with self._uow(read_only=True) as uow:
            limit = await daily_limit_of(uow, user_id, self._policy)
            chat = await owned_chat(uow, user_id, chat_id)
            history = await uow.messages.recent(chat_id, limit=MAX_MESSAGES_PAGE)
        if chat.mode is not Mode.INTERVIEW:
            raise NothingToScore("Only interview chats get a scorecard.")
        exchanges = exchanges_of(history)
        if not exchanges:
            raise NothingToScore
        async with self._uow() as uow:
            slot = await take_slot(uow, self._policy, user_id=user_id, limit=limit, now=now)
            await uow.commit()
        request = ScorecardRequest(
            exchanges=tuple(exchanges),
            topic=chat.topic,
            level=chat.level,
            turns=scorecard_turns(exchanges=exchanges, topic=chat.topic, level=chat.level),
        )
        outcome = ScorecardOutcome(uow=self._uow, clock=self._clock, slot=slot, chat_id=chat_id)
        return await call_counted(lambda: self._coach.scorecard(request), outcome)

    async def latest_scorecard(self, user_id: int, chat_id: int) -> SavedScorecard:
        """The chat's latest scorecard. Raises ``ChatNotFound``, ``ScorecardNotFound``."""
        async with self._uow(read_only=True) as uow:
            await owned_chat(uow, user_id, chat_id)
            saved = await uow.scorecards.latest(user_id, chat_id)
        if saved is None:
            raise ScorecardNotFound
        return saved

    async def notebook(self, user_id: int, *, limit: int = 50, cursor: str | None = None) -> NotebookPage:
        """The user's corrections, newest first, ``limit`` at a time."""
        if not 1 <= limit <= MAX_NOTEBOOK_PAGE:
            raise ValidationFailed(f"limit must be between 1 and {MAX_NOTEBOOK_PAGE}.", field="limit")
        before = decode_entry_cursor(cursor) if cursor else None
        async with self._uow(read_only=True) as uow:
            entries = await uow.notebook.page(user_id, before=before, limit=limit + 1)
        items = tuple(entries[:limit])
        next_cursor = encode_entry_cursor(items[-1].id) if len(entries) > limit else None
        return NotebookPage(items=items, next_cursor=next_cursor)

    async def mark_reviewed(self, user_id: int, entry_id: int, *, reviewed: bool) -> NotebookEntry:
        """Mark a notebook entry (not) reviewed. Raises ``NotebookEntryNotFound``."""
        async with self._uow() as uow:
            entry = await uow.notebook.set_reviewed(user_id, entry_id, reviewed)
            if entry is None:
                raise NotebookEntryNotFound
            await uow.commit()
        return entry

    async def all_entries(self, user_id: int) -> AsyncIterator[NotebookEntry]:
        """Every entry, newest first, read page by page (each page in its own short read)."""
        before: int | None = None
        while True:
            async with self._uow(read_only=True) as uow:
                page = await uow.notebook.page(user_id, before=before, limit=EXPORT_PAGE)
            for entry in page:
                yield entry
            if len(page) < EXPORT_PAGE:
                return
            before = page[-1].id

    async def progress(self, user_id: int) -> Progress:
        """Practice over the last 30 quota days (:mod:`chatcore.progress`)."""
        now = self._clock.now()
        _, since = window_start(self._policy, now)
        async with self._uow(read_only=True) as uow:
            activity = await uow.messages.activity(user_id, since=since)
        return progress_of(activity, policy=self._policy, now=now)


@dataclass(frozen=True, slots=True)
class ScorecardOutcome:
    """How a scorecard request ends: the scorecard stored, or the slot given back."""

    uow: UnitOfWorkFactory
    clock: Clock
    slot: Slot
    chat_id: int

    async def answered(self, value: Scorecard) -> ScoredInterview:
        async with self.uow() as uow:
            # ChatNotFound if the chat was deleted meanwhile: the tokens were spent, it counts.
            saved = await uow.scorecards.add(
                user_id=self.slot.user_id, chat_id=self.chat_id, scorecard=value, now=self.clock.now()
            )
            await uow.commit()
        return ScoredInterview(saved=saved, quota=self.slot.quota)

    async def failed(self, *, give_back: bool) -> None:
        if not give_back:
            return
        async with self.uow() as uow:
            await uow.quota.give_back(self.slot.user_id, self.slot.day)
            await uow.commit()


def encode_entry_cursor(entry_id: int) -> str:
    return base64.urlsafe_b64encode(f"n{entry_id}".encode()).decode().rstrip("=")


def decode_entry_cursor(cursor: str) -> int:
    """The entry id a notebook cursor points at. Raises ``ValidationFailed``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("n") or not raw[1:].isdigit():
            raise ValueError("not a notebook cursor")
        entry_id = int(raw[1:])
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise ValidationFailed("The cursor is not valid.", field="cursor") from exc
    if not 0 < entry_id <= MAX_ID:
        raise ValidationFailed("The cursor is not valid.", field="cursor")
    return entry_id
