"""The OpenAI gateway's feedback and scorecards (SPEC §4.7) against the in-process fake: structured
output with ``response_format``, the fallback for servers that refuse it, and validation."""

from __future__ import annotations

import json

import pytest

from adapters.openai_llm import OpenAIGateway
from adapters.openai_llm.structured import feedback_from, scorecard_from
from chatcore.errors import LLMTimeout, LLMUpstreamError
from chatcore.learning import Correction, Criteria, Level, Score
from chatcore.model import Mode
from chatcore.ports.llm import FeedbackRequest, ScorecardRequest
from chatcore.tutor import feedback_turns, scorecard_turns
from fakes.fake_openai import FakeOpenAI
from fakes.openai_payloads import FEEDBACK, SCORECARD

QUESTION = "Tell me about yourself."
REQUEST = FeedbackRequest(
    learner_text="I am boring at my job",
    question=QUESTION,
    mode=Mode.INTERVIEW,
    level=Level.INTERMEDIATE,
    turns=feedback_turns(
        learner_text="I am boring at my job", question=QUESTION, mode=Mode.INTERVIEW, level=Level.INTERMEDIATE
    ),
)
EXCHANGES = ((QUESTION, "I am a backend developer."),)
SCORECARD_REQUEST = ScorecardRequest(
    exchanges=EXCHANGES,
    topic="backend developer",
    level=Level.ADVANCED,
    turns=scorecard_turns(exchanges=EXCHANGES, topic="backend developer", level=Level.ADVANCED),
)


async def test_feedback_is_asked_with_a_strict_json_schema_and_read_back(
    fake: FakeOpenAI, gateway: OpenAIGateway
) -> None:
    feedback = await gateway.feedback(REQUEST)

    assert feedback is not None
    assert feedback.corrections == (Correction(**FEEDBACK["corrections"][0]),)  # type: ignore[index]
    assert feedback.better_phrasing == FEEDBACK["better_phrasing"]
    assert feedback.score == Score(
        overall=74, criteria=Criteria(relevance=80, structure=70, clarity=75, grammar=70)
    )
    [sent] = fake.chat_requests("feedback")
    body = sent.json()
    assert body["response_format"]["type"] == "json_schema"
    schema = body["response_format"]["json_schema"]
    assert (schema["name"], schema["strict"]) == ("feedback", True)
    assert schema["schema"]["additionalProperties"] is False
    assert body["messages"] == [{"role": t.role, "content": t.content} for t in REQUEST.turns]
    assert gateway.structured_output is True


@pytest.mark.parametrize("structured", ["text", "broken"])
async def test_feedback_that_is_not_valid_json_is_none(
    fake: FakeOpenAI, gateway: OpenAIGateway, structured: str
) -> None:
    fake.configure(structured=structured)
    assert await gateway.feedback(REQUEST) is None
    with pytest.raises(LLMUpstreamError):
        await gateway.scorecard(SCORECARD_REQUEST)


async def test_a_server_refusing_response_format_is_asked_again_without_it_and_remembered(
    fake: FakeOpenAI, gateway: OpenAIGateway
) -> None:
    fake.configure(structured="reject_format")

    first = await gateway.feedback(REQUEST)
    card = await gateway.scorecard(SCORECARD_REQUEST)

    assert first is not None
    assert first.corrections[0].corrected == "I am bored"
    assert card.overall == SCORECARD["overall"]
    assert gateway.structured_output is False
    sent = [("response_format" in r.json(), r.kind) for r in fake.chat_requests()]
    assert sent == [(True, "feedback"), (False, "feedback"), (False, "scorecard")]


async def test_a_400_after_structured_output_worked_is_an_upstream_error(
    fake: FakeOpenAI, gateway: OpenAIGateway
) -> None:
    assert await gateway.feedback(REQUEST) is not None
    fake.configure(mode="400")
    with pytest.raises(LLMUpstreamError):
        await gateway.feedback(REQUEST)
    assert len(fake.chat_requests()) == 2  # not asked again without the format


async def test_a_slow_assessment_times_out(fake: FakeOpenAI, gateway: OpenAIGateway) -> None:
    fake.configure(mode="timeout", delay=5)
    with pytest.raises(LLMTimeout):
        await gateway.feedback(REQUEST)


def test_the_json_is_validated() -> None:
    assert feedback_from('{"corrections": [], "better_phrasing": null, "score": null}') is not None
    assert feedback_from('Sure! ```json\n{"corrections": []}\n``` Bye') is not None
    criteria = {"relevance": 1, "structure": 1, "clarity": 1, "grammar": 1}
    out_of_range = json.dumps({"corrections": [], "score": {"overall": 101, "criteria": criteria}})
    assert feedback_from(out_of_range) is None
    assert feedback_from('{"corrections": [{"original": "a"}]}') is None
    assert feedback_from('{"corrections": "none"}') is None
    assert feedback_from("no json here") is None
    assert feedback_from("}{") is None
    assert scorecard_from('{"overall": 50}') is None
    empty_answer = {**SCORECARD, "model_answer": {"question": "q", "answer": "  "}}
    assert scorecard_from(json.dumps(empty_answer)) is None
    assert scorecard_from(json.dumps(SCORECARD)) is not None
