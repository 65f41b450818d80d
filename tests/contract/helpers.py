"""Small builders shared by the contract specs (they only use the ports)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chatcore.learning import Correction, Criteria, Feedback, Level, ModelAnswer, Score, Scorecard
from chatcore.model import Chat, Mode, User
from chatcore.ports.storage import UnitOfWorkFactory

T0 = datetime(2026, 11, 26, 3, 0, 0, 123456, tzinfo=UTC)
"""A fixed instant with microseconds, to check that timestamps survive storage exactly."""


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def add_user(uow: UnitOfWorkFactory, username: str = "alice", *, email: str | None = None) -> User:
    async with uow() as tx:
        user = await tx.users.add(
            username=username, email=email or f"{username}@example.com", password_hash="h", now=T0
        )
        await tx.commit()
    return user


CORRECTION = Correction(
    original="I am boring",
    corrected="I am bored",
    explanation="'Boring' describes what causes the feeling; 'bored' is how you feel.",
    explanation_ko="'boring'은 지루하게 만드는 것, 'bored'는 지루함을 느끼는 것입니다.",
)
FEEDBACK = Feedback(
    corrections=(CORRECTION,),
    better_phrasing="I was bored, so I went for a walk.",
    score=Score(overall=72, criteria=Criteria(relevance=80, structure=60, clarity=75, grammar=70)),
)
SCORECARD = Scorecard(
    overall=68,
    criteria=Criteria(relevance=70, structure=60, clarity=72, grammar=69),
    strengths=("Clear examples.", "Good énergie ✓"),
    improvements=("Say what the result was.",),
    model_answer=ModelAnswer(question="Why this role?", answer="Because I build payment systems."),
)


async def add_chat(
    uow: UnitOfWorkFactory,
    user_id: int,
    *,
    now: datetime = T0,
    title: str = "chat",
    mode: Mode = Mode.CONVERSATION,
    level: Level = Level.INTERMEDIATE,
) -> Chat:
    async with uow() as tx:
        chat = await tx.chats.add(user_id=user_id, title=title, mode=mode, topic="", now=now, level=level)
        await tx.commit()
    return chat
