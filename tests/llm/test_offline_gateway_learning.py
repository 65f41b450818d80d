"""The offline gateway wires the chat's level and the learning requests to the offline tutor's
rules (SPEC §4.7, §7): what the rules themselves do is tested with them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from adapters.offline_tutor import OfflineTutorGateway
from adapters.offline_tutor.conversation import conversation_reply
from adapters.offline_tutor.feedback import feedback_for, scorecard_for
from adapters.offline_tutor.interview import interview_reply
from chatcore.learning import Level
from chatcore.model import Mode
from chatcore.ports.llm import FeedbackRequest, ScorecardRequest
from llm.conftest import prompt

ASKED = prompt(
    "Hello, I'm ready.",
    "Welcome. Could you tell me about yourself?",
    "I am boring with my job, so I want to work in data.",
    mode=Mode.INTERVIEW,
    topic="data analyst",
)


@pytest.mark.parametrize("mode", [Mode.INTERVIEW, Mode.CONVERSATION])
async def test_replies_are_worded_for_the_chats_level(mode: Mode) -> None:
    gateway = OfflineTutorGateway()
    rule = interview_reply if mode is Mode.INTERVIEW else conversation_reply
    replies = {}
    for level in Level:
        leveled = replace(ASKED, mode=mode, level=level)
        replies[level] = (await gateway.complete(leveled)).text
        assert replies[level] == rule(leveled, level=level)
    assert replies[Level.BEGINNER] != replies[Level.INTERMEDIATE]


async def test_feedback_and_scorecards_come_from_the_offline_rules() -> None:
    gateway = OfflineTutorGateway()
    text, question = "I am boring with my job.", "Why do you want to leave?"
    request = FeedbackRequest(learner_text=text, question=question, mode=Mode.INTERVIEW, level=Level.BEGINNER)
    exchanges = ((question, text),)
    card_request = ScorecardRequest(exchanges=exchanges, topic="data analyst", level=Level.ADVANCED, turns=())
    asking = replace(ASKED, level=Level.BEGINNER, feedback=request)

    whole = await gateway.complete(asking)
    streamed = [item async for item in gateway.stream(asking)]
    feedback = whole.feedback

    assert feedback == feedback_for(text, mode=Mode.INTERVIEW, level=Level.BEGINNER, question=question)
    assert streamed[-1] == feedback  # last, after the text
    assert "".join(str(item) for item in streamed[:-1]) == whole.text == gateway.reply_to(asking)
    assert (await gateway.complete(ASKED)).feedback is None  # not asked, none given
    assert not [item async for item in gateway.stream(ASKED) if not isinstance(item, str)]
    assert feedback is not None
    assert feedback.corrections
    assert feedback.score is not None
    assert await gateway.scorecard(card_request) == scorecard_for(
        exchanges, topic="data analyst", level=Level.ADVANCED
    )
