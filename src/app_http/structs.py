"""Response structs shared by several controllers (msgspec: fast, and documented in OpenAPI)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar.params import PathParameter

from chatcore.accounts import TokenPair
from chatcore.learning import Correction, Criteria, Feedback, Score
from chatcore.model import Chat, Message, Quota

MAX_ID = 2**31 - 1
ResourceId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="A positive integer id")]
"""A path id: positive and within the databases' 32-bit integer ids, so none overflows a column."""


class QuotaOut(msgspec.Struct):
    limit: int
    used: int
    remaining: int
    resets_at: datetime

    @classmethod
    def of(cls, quota: Quota) -> QuotaOut:
        return cls(limit=quota.limit, used=quota.used, remaining=quota.remaining, resets_at=quota.resets_at)


class CorrectionOut(msgspec.Struct):
    original: str
    corrected: str
    explanation: str
    explanation_ko: str

    @classmethod
    def of(cls, correction: Correction) -> CorrectionOut:
        return cls(
            original=correction.original,
            corrected=correction.corrected,
            explanation=correction.explanation,
            explanation_ko=correction.explanation_ko,
        )


class CriteriaOut(msgspec.Struct):
    relevance: int
    structure: int
    clarity: int
    grammar: int

    @classmethod
    def of(cls, criteria: Criteria) -> CriteriaOut:
        return cls(
            relevance=criteria.relevance,
            structure=criteria.structure,
            clarity=criteria.clarity,
            grammar=criteria.grammar,
        )


class ScoreOut(msgspec.Struct):
    overall: int
    criteria: CriteriaOut

    @classmethod
    def of(cls, score: Score) -> ScoreOut:
        return cls(overall=score.overall, criteria=CriteriaOut.of(score.criteria))


class FeedbackOut(msgspec.Struct):
    """The tutor's feedback on the learner message an assistant message answers (SPEC §4.7)."""

    corrections: list[CorrectionOut]
    better_phrasing: str | None
    score: ScoreOut | None

    @classmethod
    def of(cls, feedback: Feedback) -> FeedbackOut:
        return cls(
            corrections=[CorrectionOut.of(c) for c in feedback.corrections],
            better_phrasing=feedback.better_phrasing,
            score=None if feedback.score is None else ScoreOut.of(feedback.score),
        )


class MessageOut(msgspec.Struct):
    id: int
    role: str
    content: str
    created_at: datetime
    status: str
    model: str | None = None
    feedback: FeedbackOut | None = None
    """On an assistant message, the feedback on the learner's message before it (``null`` when
    none could be produced); always ``null`` on the learner's own messages."""

    @classmethod
    def of(cls, message: Message) -> MessageOut:
        return cls(
            id=message.id,
            role=message.role.value,
            content=message.content,
            created_at=message.created_at,
            status=message.status.value,
            model=message.model or None,
            feedback=None if message.feedback is None else FeedbackOut.of(message.feedback),
        )


class ChatSummaryOut(msgspec.Struct):
    id: int
    title: str
    mode: str
    topic: str
    created_at: datetime
    updated_at: datetime
    message_count: int
    level: str

    @classmethod
    def of(cls, chat: Chat) -> ChatSummaryOut:
        return cls(
            id=chat.id,
            title=chat.title,
            mode=chat.mode.value,
            topic=chat.topic,
            created_at=chat.created_at,
            updated_at=chat.updated_at,
            message_count=chat.message_count,
            level=chat.level.value,
        )


class ChatOut(msgspec.Struct):
    id: int
    title: str
    mode: str
    topic: str
    created_at: datetime
    updated_at: datetime
    messages: list[MessageOut]
    """The latest messages (200 at most), oldest first."""
    older_cursor: str | None = None
    """Pass as ``?before=`` to read the messages before these; ``null`` when there are none."""
    level: str = "intermediate"

    @classmethod
    def of(
        cls, chat: Chat, messages: tuple[Message, ...] | list[Message], *, older_cursor: str | None = None
    ) -> ChatOut:
        return cls(
            id=chat.id,
            title=chat.title,
            mode=chat.mode.value,
            topic=chat.topic,
            created_at=chat.created_at,
            updated_at=chat.updated_at,
            messages=[MessageOut.of(m) for m in messages],
            older_cursor=older_cursor,
            level=chat.level.value,
        )


class ExchangeOut(msgspec.Struct):
    message: MessageOut
    reply: MessageOut
    quota: QuotaOut


class TokenOut(msgspec.Struct):
    """The tokens of a login or a refresh, both in the JSON (API clients)."""

    access: str
    refresh: str
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 (the scheme name)

    @classmethod
    def of(cls, pair: TokenPair) -> TokenOut:
        return cls(access=pair.access, refresh=pair.refresh, expires_in=pair.expires_in)


class SessionOut(msgspec.Struct):
    """The tokens of a login or a refresh asked for with ``"cookie": true`` (the web page): the
    access token only; the refresh token is in the HttpOnly cookie."""

    access: str
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 (the scheme name)
