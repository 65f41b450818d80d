"""Learning (SPEC §4.7): interview scorecards, the notebook of corrections (with its Anki CSV
export) and progress. The feedback itself travels with each assistant message (``app_http.chats``)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import date, datetime

import msgspec
from litestar import Controller, Response, get, patch, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, JSONBody, SkipValidation
from litestar.response import Stream

from app_http.auth import TOKEN_ONLY, provide_user_id
from app_http.errors import ErrorBody, llm_failure_response
from app_http.openapi import responses
from app_http.quota_headers import quota_headers
from app_http.structs import CorrectionOut, CriteriaOut, ResourceId
from chatcore.errors import LLMError
from chatcore.learning import NotebookEntry, SavedScorecard
from chatcore.learning_service import LearningService
from chatcore.ports.clock import Clock
from chatcore.tutoring import TutorService

NO_STORE = CacheControlHeader(no_store=True)

CSV_HEADER = "#separator:comma\n#html:false\n#columns:Front,Back\n"
"""Anki's file headers: its importer then needs no choices (older versions: pick comma)."""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet runs a cell starting with one of these as a formula (CSV injection)."""


class ModelAnswerOut(msgspec.Struct):
    question: str
    answer: str


class ScorecardOut(msgspec.Struct):
    overall: int
    criteria: CriteriaOut
    strengths: list[str]
    improvements: list[str]
    model_answer: ModelAnswerOut
    created_at: datetime

    @classmethod
    def of(cls, saved: SavedScorecard) -> ScorecardOut:
        card = saved.scorecard
        return cls(
            overall=card.overall,
            criteria=CriteriaOut.of(card.criteria),
            strengths=list(card.strengths),
            improvements=list(card.improvements),
            model_answer=ModelAnswerOut(question=card.model_answer.question, answer=card.model_answer.answer),
            created_at=saved.created_at,
        )


class NotebookEntryOut(msgspec.Struct):
    id: int
    original: str
    corrected: str
    explanation: str
    explanation_ko: str
    chat_id: int
    message_id: int
    """The learner's message the correction is about."""
    created_at: datetime
    reviewed: bool

    @classmethod
    def of(cls, entry: NotebookEntry) -> NotebookEntryOut:
        c = CorrectionOut.of(entry.correction)
        return cls(
            id=entry.id,
            original=c.original,
            corrected=c.corrected,
            explanation=c.explanation,
            explanation_ko=c.explanation_ko,
            chat_id=entry.chat_id,
            message_id=entry.message_id,
            created_at=entry.created_at,
            reviewed=entry.reviewed,
        )


class NotebookOut(msgspec.Struct):
    items: list[NotebookEntryOut]
    next_cursor: str | None


class ReviewIn(msgspec.Struct):
    reviewed: bool


class DayValueOut(msgspec.Struct):
    day: date
    value: float


class DayScoreOut(msgspec.Struct):
    day: date
    overall: int


class ProgressOut(msgspec.Struct):
    days_practised: int
    current_streak: int
    messages: int
    corrections_per_message: list[DayValueOut]
    interview_scores: list[DayScoreOut]


def csv_cell(text: str) -> str:
    """A cell a spreadsheet will not run: a leading formula character gets an apostrophe."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_row(entry: NotebookEntry) -> str:
    """One card: the corrected phrase in front; the original and both explanations behind."""
    c = entry.correction
    back = f"{c.original}\n{c.explanation}\n{c.explanation_ko}"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([csv_cell(c.corrected), csv_cell(back)])
    return out.getvalue()


async def _csv(entries: AsyncIterator[NotebookEntry]) -> AsyncIterator[str]:
    yield CSV_HEADER
    async for entry in entries:
        yield csv_row(entry)


class LearningController(Controller):
    path = "/chatbot"
    tags = ["learning"]  # noqa: RUF012
    dependencies = {"user_id": Provide(provide_user_id)}  # noqa: RUF012

    @post(
        "/chats/{chat_id:int}/scorecard/",
        status_code=201,
        operation_id="scoreInterview",
        summary="Score an interview chat (counts against the quota)",
        responses=responses(401, 404, 409, 429, 502, 503, 504),
        dependencies=TOKEN_ONLY,
    )
    async def score(
        self,
        learning: NamedDependency[LearningService],
        tutor: NamedDependency[TutorService],
        clock: NamedDependency[SkipValidation[Clock]],
        user_id: NamedDependency[int],
        chat_id: ResourceId,
    ) -> Response[ScorecardOut] | Response[ErrorBody]:
        try:
            scored = await learning.score_interview(user_id, chat_id)
        except LLMError as exc:
            return llm_failure_response(exc, await tutor.quota(user_id), clock.now())
        return Response(
            ScorecardOut.of(scored.saved), status_code=201, headers=quota_headers(scored.quota, clock.now())
        )

    @get(
        "/chats/{chat_id:int}/scorecard/",
        operation_id="getScorecard",
        summary="The latest scorecard of an interview chat",
        responses=responses(401, 404),
    )
    async def latest(
        self, learning: NamedDependency[LearningService], user_id: NamedDependency[int], chat_id: ResourceId
    ) -> ScorecardOut:
        return ScorecardOut.of(await learning.latest_scorecard(user_id, chat_id))

    @get(
        "/notebook/",
        operation_id="listNotebook",
        summary="Every correction the tutor made for me, newest first",
        responses=responses(401, 422),
    )
    async def notebook(
        self,
        learning: NamedDependency[LearningService],
        user_id: NamedDependency[int],
        limit: FromQuery[int] = 50,
        cursor: FromQuery[str | None] = None,
    ) -> NotebookOut:
        page = await learning.notebook(user_id, limit=limit, cursor=cursor)
        return NotebookOut(items=[NotebookEntryOut.of(e) for e in page.items], next_cursor=page.next_cursor)

    @patch(
        "/notebook/{entry_id:int}/",
        operation_id="reviewNotebookEntry",
        summary="Mark a correction reviewed (or not)",
        responses=responses(401, 404, 422),
    )
    async def review(
        self,
        learning: NamedDependency[LearningService],
        user_id: NamedDependency[int],
        entry_id: ResourceId,
        data: JSONBody[ReviewIn],
    ) -> NotebookEntryOut:
        return NotebookEntryOut.of(await learning.mark_reviewed(user_id, entry_id, reviewed=data.reviewed))

    @get(
        "/notebook/export.csv",
        operation_id="exportNotebook",
        summary="My notebook as CSV cards (front, back) for Anki",
        responses=responses(401),
        cache_control=NO_STORE,
        media_type="text/csv; charset=utf-8",
    )
    async def export(
        self, learning: NamedDependency[LearningService], user_id: NamedDependency[int]
    ) -> Stream:
        return Stream(
            _csv(learning.all_entries(user_id)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="chatcore-notebook.csv"'},
        )

    @get(
        "/progress/",
        operation_id="getProgress",
        summary="My practice over the last 30 quota days",
        responses=responses(401),
    )
    async def progress(
        self, learning: NamedDependency[LearningService], user_id: NamedDependency[int]
    ) -> ProgressOut:
        p = await learning.progress(user_id)
        return ProgressOut(
            days_practised=p.days_practised,
            current_streak=p.current_streak,
            messages=p.messages,
            corrections_per_message=[
                DayValueOut(day=d.day, value=d.value) for d in p.corrections_per_message
            ],
            interview_scores=[DayScoreOut(day=d.day, overall=d.overall) for d in p.interview_scores],
        )
