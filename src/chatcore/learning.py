"""Learning (SPEC §4.7): the feedback on a learner's message, interview scores and scorecards.

These are values: what a tutor (the offline one or an upstream model) produces and what is
stored with an assistant message. Scores are whole numbers from 0 to 100.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

MAX_CORRECTIONS = 3
"""At most this many corrections per learner message: the most useful ones."""


class Level(enum.StrEnum):
    """How hard the tutor's English is (vocabulary, sentence length, pace)."""

    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


@dataclass(frozen=True, slots=True)
class Correction:
    """One mistake in the learner's message: the words as written, the natural version, why."""

    original: str
    corrected: str
    explanation: str
    """Why, in English."""
    explanation_ko: str
    """Why, in Korean."""


@dataclass(frozen=True, slots=True)
class Criteria:
    """An interview answer scored per criterion, 0-100 each."""

    relevance: int
    structure: int
    clarity: int
    grammar: int


@dataclass(frozen=True, slots=True)
class Score:
    overall: int
    criteria: Criteria


@dataclass(frozen=True, slots=True)
class Feedback:
    """What the tutor says about the learner message an assistant message answers."""

    corrections: tuple[Correction, ...] = ()
    """At most :data:`MAX_CORRECTIONS`; empty when there was no mistake."""
    better_phrasing: str | None = None
    """A more natural way to say the whole message, when there is one."""
    score: Score | None = None
    """Only in interview mode, for an answer to the interviewer's question."""


@dataclass(frozen=True, slots=True)
class ModelAnswer:
    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class Scorecard:
    """The summary of an interview: overall and per-criterion scores, what went well, what to
    practise, and a model answer to one of the questions asked."""

    overall: int
    criteria: Criteria
    strengths: tuple[str, ...]
    improvements: tuple[str, ...]
    model_answer: ModelAnswer


@dataclass(frozen=True, slots=True)
class NotebookEntry:
    """One correction kept for review: made in ``chat_id`` about the learner's message
    ``message_id`` (the message the correction quotes)."""

    id: int
    user_id: int
    chat_id: int
    message_id: int
    correction: Correction
    created_at: datetime
    reviewed: bool = False


@dataclass(frozen=True, slots=True)
class NotebookPage:
    items: tuple[NotebookEntry, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class SavedScorecard:
    """A scorecard as stored for a chat (a chat may be scored again later: the latest counts)."""

    id: int
    user_id: int
    chat_id: int
    scorecard: Scorecard
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DayValue:
    day: date
    value: float


@dataclass(frozen=True, slots=True)
class DayScore:
    day: date
    overall: int


@dataclass(frozen=True, slots=True)
class Progress:
    """The learner's practice over the last quota days (see ``chatcore.progress``)."""

    days_practised: int
    current_streak: int
    messages: int
    corrections_per_message: tuple[DayValue, ...]
    interview_scores: tuple[DayScore, ...]
