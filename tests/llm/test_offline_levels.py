"""The offline tutor words its replies for the chat's level: short, simple sentences for
beginners, more open questions for advanced learners; intermediate is its usual wording."""

from __future__ import annotations

import re

import pytest

from adapters.offline_tutor.conversation import conversation_reply
from adapters.offline_tutor.interview import interview_reply
from chatcore.learning import Level
from chatcore.model import Mode
from llm.conftest import prompt

SAID = (
    "I went to Busan with my family last weekend.",
    "Next month I will start a new job at a game company in Pangyo.",
    "I really like cooking Italian food for my friends.",
    "Hello!",
)


def _question(reply: str) -> str:
    """The reply's last sentence: its follow-up question."""
    return re.split(r"(?<=[.?!])\s+", reply.strip())[-1]


@pytest.mark.parametrize("said", SAID)
def test_the_default_level_is_intermediate(said: str) -> None:
    chosen = prompt(said)

    assert conversation_reply(chosen) == conversation_reply(chosen, level=Level.INTERMEDIATE)


@pytest.mark.parametrize("said", SAID)
def test_beginners_get_shorter_questions_than_advanced_learners(said: str) -> None:
    beginner = conversation_reply(prompt(said), level=Level.BEGINNER)
    advanced = conversation_reply(prompt(said), level=Level.ADVANCED)

    assert _question(beginner).endswith("?")
    assert _question(advanced).endswith("?")
    assert len(_question(beginner).split()) <= 8
    assert len(_question(beginner).split()) < len(_question(advanced).split())


def test_a_beginners_correction_note_uses_the_simpler_reason() -> None:
    beginner = conversation_reply(prompt("I am boring at home."), level=Level.BEGINNER)
    usual = conversation_reply(prompt("I am boring at home."))

    assert "use '-ed' for how you feel" in beginner
    assert "'-ed' says how you feel; '-ing' describes" in usual


def test_a_beginner_in_an_interview_gets_simple_feedback_and_follow_ups() -> None:
    opening = interview_reply(prompt("Hi", mode=Mode.INTERVIEW, topic="nurse"), level=Level.BEGINNER)

    reply = interview_reply(
        prompt("Hi", opening, "I like people.", mode=Mode.INTERVIEW, topic="nurse"), level=Level.BEGINNER
    )

    assert "your answer is short" in reply
    assert "Follow-up: Can you give me an example? What happened, and what did you do?" in reply
    assert "Situation, Task, Action, Result" not in reply
