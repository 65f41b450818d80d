"""Contract: LLMGateway, run unchanged against every tutor: the offline tutor, the scripted fake
of ``chatcore.testing``, and the OpenAI adapter talking to the fake OpenAI server. A spec never
branches on which one it is testing. (What only the OpenAI adapter does, such as translating
upstream failures, is tested in ``tests/llm/``.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from adapters.offline_tutor import OfflineTutorGateway
from adapters.openai_llm import OpenAIGateway
from chatcore.learning import Feedback, Level
from chatcore.model import Mode
from chatcore.ports.llm import FeedbackRequest, LLMGateway, Prompt, ScorecardRequest, Turn, Tutor
from chatcore.testing import ScriptedLLM
from chatcore.tutor import build_prompt, scorecard_turns
from fakes.fake_openai import FakeOpenAI
from llm.conftest import API_KEY, MODEL, prompt

TIMEOUT = 30
"""Generous: these specs time no one, and the SDK's first request also imports and builds models."""


@pytest.fixture(params=["offline-tutor", "scripted", "openai-over-fake"])
async def llm(request: pytest.FixtureRequest) -> AsyncIterator[Tutor]:
    if request.param == "offline-tutor":
        yield OfflineTutorGateway()
    elif request.param == "scripted":
        yield ScriptedLLM()
    else:
        async with FakeOpenAI() as server:
            gateway = OpenAIGateway(api_key=API_KEY, model=MODEL, base_url=server.base_url, timeout=TIMEOUT)
            yield gateway
            await gateway.aclose()


PROMPTS = {
    "conversation": prompt("I went hiking with my friends last weekend and it was great."),
    "interview": prompt(
        "Hello, I'm ready.",
        "Welcome. Could you tell me about yourself?",
        "I am a backend developer with three years of experience in payments.",
        mode=Mode.INTERVIEW,
        topic="backend developer at a fintech company",
    ),
}


async def _pieces(llm: LLMGateway, chosen: Prompt) -> list[str | Feedback]:
    return [piece async for piece in llm.stream(chosen)]


@pytest.mark.parametrize("mode", PROMPTS)
async def test_complete_returns_a_reply_marked_with_the_model(llm: LLMGateway, mode: str) -> None:
    completion = await llm.complete(PROMPTS[mode])

    assert completion.text.strip()
    assert completion.model == llm.model
    assert llm.model


@pytest.mark.parametrize("mode", PROMPTS)
async def test_the_streamed_pieces_join_into_the_complete_reply(llm: LLMGateway, mode: str) -> None:
    whole = await llm.complete(PROMPTS[mode])
    pieces = await _pieces(llm, PROMPTS[mode])

    assert len(pieces) > 1, "a reply of several words arrives in several pieces"
    assert all(isinstance(piece, str) and piece for piece in pieces)
    assert "".join(map(str, pieces)) == whole.text


async def test_closing_a_stream_early_is_clean_and_the_tutor_keeps_working(llm: LLMGateway) -> None:
    stream = llm.stream(PROMPTS["conversation"])
    first = await anext(stream)
    await stream.aclose()

    assert first
    with pytest.raises(StopAsyncIteration):
        await anext(stream)
    assert (await llm.complete(PROMPTS["conversation"])).text.strip()


async def test_a_stream_never_started_can_be_closed(llm: LLMGateway) -> None:
    stream = llm.stream(PROMPTS["conversation"])
    await stream.aclose()

    assert (await llm.complete(PROMPTS["conversation"])).text.strip()


async def test_the_reply_answers_the_latest_learner_turn(llm: LLMGateway) -> None:
    first = await llm.complete(prompt("I love cooking Korean food for my friends."))
    second = await llm.complete(prompt("My brother studies physics at a university in Daejeon."))

    assert first.text != second.text


# --- FeedbackGateway (SPEC §4.7) -------------------------------------------------------------------

ANSWER = "I am boring at my job, so I want to change it. I led a team of three and we shipped on time."
QUESTION = "Why do you want to leave your current job?"


async def test_feedback_comes_with_the_reply_none_or_valid_and_a_scorecard_is_whole(llm: Tutor) -> None:
    request = FeedbackRequest(
        learner_text=ANSWER, question=QUESTION, mode=Mode.INTERVIEW, level=Level.INTERMEDIATE
    )
    asking = replace(
        prompt(QUESTION, ANSWER, mode=Mode.INTERVIEW, topic="backend developer"),
        feedback=request,
        turns=(
            *build_prompt(mode=Mode.INTERVIEW, topic="backend developer", history=(), feedback=request).turns[
                :1
            ],
            Turn(role="assistant", content=QUESTION),
            Turn(role="user", content=ANSWER),
        ),
    )
    whole = await llm.complete(asking)
    pieces = await _pieces(llm, asking)

    assert whole.text.strip()
    texts = [p for p in pieces if isinstance(p, str)]
    assert "".join(texts) == whole.text  # the reply only, never the JSON around it
    assert pieces[: len(texts)] == texts  # the feedback, if any, comes last
    assert pieces[len(texts) :] == ([] if whole.feedback is None else [whole.feedback])
    for feedback in (whole.feedback,):
        if feedback is not None:  # None is a valid answer: no feedback could be produced
            assert all(c.original and c.corrected for c in feedback.corrections)

    exchanges = ((QUESTION, ANSWER),)
    card = await llm.scorecard(
        ScorecardRequest(
            exchanges=exchanges,
            topic="backend developer",
            level=Level.ADVANCED,
            turns=scorecard_turns(exchanges=exchanges, topic="backend developer", level=Level.ADVANCED),
        )
    )
    scores = (
        card.overall,
        card.criteria.relevance,
        card.criteria.structure,
        card.criteria.clarity,
        card.criteria.grammar,
    )
    assert all(0 <= s <= 100 for s in scores)
    assert card.model_answer.answer.strip()
