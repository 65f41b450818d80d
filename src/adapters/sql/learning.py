"""SQL repositories of learning (SPEC §4.7): the notebook, scorecards, and the JSON of feedback.

Feedback and scorecards are stored as JSON text (msgspec, from and to chatcore's dataclasses):
the same on SQLite and PostgreSQL, read back only whole.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Integer, Row, Text, insert, literal, select, update

from adapters.sql.schema import UtcDateTime, chats, notebook_entries, scorecards
from adapters.sql.transaction import Repository
from chatcore.errors import ChatNotFound
from chatcore.learning import Correction, Feedback, NotebookEntry, SavedScorecard, Scorecard

_FEEDBACK = msgspec.json.Decoder(Feedback)
_SCORECARD = msgspec.json.Decoder(Scorecard)


def feedback_json(feedback: Feedback | None) -> str | None:
    return None if feedback is None else msgspec.json.encode(feedback).decode()


def feedback_of(text: str | None) -> Feedback | None:
    """The stored feedback; ``None`` when there is none (or, defensively, when unreadable)."""
    if text is None:
        return None
    try:
        return _FEEDBACK.decode(text)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


_ENTRY = (
    notebook_entries.c.id,
    notebook_entries.c.user_id,
    notebook_entries.c.chat_id,
    notebook_entries.c.message_id,
    notebook_entries.c.original,
    notebook_entries.c.corrected,
    notebook_entries.c.explanation,
    notebook_entries.c.explanation_ko,
    notebook_entries.c.created_at,
    notebook_entries.c.reviewed,
)


def _entry(row: Row[Any]) -> NotebookEntry:
    return NotebookEntry(
        id=row.id,
        user_id=row.user_id,
        chat_id=row.chat_id,
        message_id=row.message_id,
        correction=Correction(
            original=row.original,
            corrected=row.corrected,
            explanation=row.explanation,
            explanation_ko=row.explanation_ko,
        ),
        created_at=row.created_at,
        reviewed=bool(row.reviewed),
    )


class SqlNotebookRepository(Repository):
    async def add(
        self,
        *,
        user_id: int,
        chat_id: int,
        message_id: int,
        corrections: tuple[Correction, ...],
        now: datetime,
    ) -> None:
        if not corrections:
            return
        rows = [
            {
                "user_id": user_id,
                "chat_id": chat_id,
                "message_id": message_id,
                "original": c.original,
                "corrected": c.corrected,
                "explanation": c.explanation,
                "explanation_ko": c.explanation_ko,
                "created_at": now,
                "reviewed": False,
            }
            for c in corrections
        ]
        # One statement (one round trip) for every correction of the message.
        await self._tx.execute(insert(notebook_entries).values(rows))

    async def page(self, user_id: int, *, before: int | None, limit: int) -> list[NotebookEntry]:
        stmt = select(*_ENTRY).where(notebook_entries.c.user_id == user_id)
        if before is not None:
            stmt = stmt.where(notebook_entries.c.id < before)
        stmt = stmt.order_by(notebook_entries.c.id.desc()).limit(limit)
        return [_entry(row) for row in (await self._tx.execute(stmt)).all()]

    async def set_reviewed(self, user_id: int, entry_id: int, reviewed: bool) -> NotebookEntry | None:
        stmt = (
            update(notebook_entries)
            .where(notebook_entries.c.id == entry_id, notebook_entries.c.user_id == user_id)
            .values(reviewed=reviewed)
            .returning(*_ENTRY)
        )
        row = (await self._tx.execute(stmt)).first()
        return None if row is None else _entry(row)


_SAVED = (
    scorecards.c.id,
    scorecards.c.user_id,
    scorecards.c.chat_id,
    scorecards.c.body,
    scorecards.c.created_at,
)


def _saved(row: Row[Any]) -> SavedScorecard:
    return SavedScorecard(
        id=row.id,
        user_id=row.user_id,
        chat_id=row.chat_id,
        scorecard=_SCORECARD.decode(row.body),
        created_at=row.created_at,
    )


class SqlScorecardRepository(Repository):
    async def add(self, *, user_id: int, chat_id: int, scorecard: Scorecard, now: datetime) -> SavedScorecard:
        # INSERT ... SELECT from the user's own chat: nothing is stored for a chat that is gone
        # or someone else's, in one statement.
        owned = select(
            chats.c.user_id,
            chats.c.id,
            literal(scorecard.overall, Integer()),
            literal(msgspec.json.encode(scorecard).decode(), Text()),
            literal(now, UtcDateTime()),
        ).where(chats.c.id == chat_id, chats.c.user_id == user_id)
        stmt = (
            insert(scorecards)
            .from_select(["user_id", "chat_id", "overall", "body", "created_at"], owned)
            .returning(scorecards.c.id)
        )
        scorecard_id = (await self._tx.execute(stmt)).scalar()
        if scorecard_id is None:
            raise ChatNotFound
        return SavedScorecard(
            id=scorecard_id, user_id=user_id, chat_id=chat_id, scorecard=scorecard, created_at=now
        )

    async def latest(self, user_id: int, chat_id: int) -> SavedScorecard | None:
        stmt = (
            select(*_SAVED)
            .where(scorecards.c.chat_id == chat_id, scorecards.c.user_id == user_id)
            .order_by(scorecards.c.id.desc())
            .limit(1)
        )
        row = (await self._tx.execute(stmt)).first()
        return None if row is None else _saved(row)

    async def for_chat(self, user_id: int, chat_id: int) -> list[SavedScorecard]:
        stmt = (
            select(*_SAVED)
            .where(scorecards.c.chat_id == chat_id, scorecards.c.user_id == user_id)
            .order_by(scorecards.c.id)
        )
        return [_saved(row) for row in (await self._tx.execute(stmt)).all()]
