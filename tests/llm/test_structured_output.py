"""The OpenAI gateway's feedback and scorecards (SPEC §4.7) against the in-process fake: a chat
message is ONE call asking for the reply and its feedback as JSON (structured output with
``response_format``, "reply" first), whole or streamed; the fallback for servers that refuse
the format; validation; the reply is never lost for its feedback."""

from __future__ import annotations

import json
import time

import pytest

from adapters.openai_llm import OpenAIGateway
from adapters.openai_llm.structured import feedback_from, scorecard_from
from chatcore.errors import LLMTimeout, LLMUpstreamError
from chatcore.learning import Correction, Criteria, Feedback, Level, Score
from chatcore.model import Mode
from chatcore.ports.llm import Completion, FeedbackRequest, Prompt, ScorecardRequest, Turn
from chatcore.tutor import feedback_instructions, scorecard_turns, system_prompt
from fakes.fake_openai import FakeOpenAI
from fakes.openai_payloads import FEEDBACK, SCORECARD
from llm.conftest import TIMEOUT

QUESTION = "Tell me about yourself."
ANSWER = "I am boring at my job"
REPLY = 'Thanks.\nWhy do you say "boring"? Tell me more \\ about it, 한국어 OK 😀.'
REQUEST = FeedbackRequest(
    learner_text=ANSWER, question=QUESTION, mode=Mode.INTERVIEW, level=Level.INTERMEDIATE
)
SYSTEM = system_prompt(Mode.INTERVIEW, "backend developer", extra=feedback_instructions(REQUEST))
PROMPT = Prompt(
    turns=(
        Turn(role="system", content=SYSTEM),
        Turn(role="assistant", content=QUESTION),
        Turn(role="user", content=ANSWER),
    ),
    mode=Mode.INTERVIEW,
    topic="backend developer",
    feedback=REQUEST,
)
PLAIN = Prompt(turns=(Turn(role="user", content="Hi"),))
EXCHANGES = ((QUESTION, "I am a backend developer."),)
SCORECARD_REQUEST = ScorecardRequest(
    exchanges=EXCHANGES,
    topic="backend developer",
    level=Level.ADVANCED,
    turns=scorecard_turns(exchanges=EXCHANGES, topic="backend developer", level=Level.ADVANCED),
)
EXPECTED = Feedback(
    corrections=(Correction(**FEEDBACK["corrections"][0]),),  # type: ignore[index]
    better_phrasing=str(FEEDBACK["better_phrasing"]),
    score=Score(overall=74, criteria=Criteria(relevance=80, structure=70, clarity=75, grammar=70)),
)


async def streamed(gateway: OpenAIGateway, prompt: Prompt = PROMPT) -> Completion:
    """The stream read to its end, as a completion: the text deltas joined, and the feedback,
    which must come last if at all."""
    items = [item async for item in gateway.stream(prompt)]
    texts = [item for item in items if isinstance(item, str)]
    feedback = items[-1] if items and isinstance(items[-1], Feedback) else None
    assert items == [*texts, *([] if feedback is None else [feedback])]
    return Completion(text="".join(texts), model=gateway.model, feedback=feedback)


@pytest.fixture(autouse=True)
def _reply(fake: FakeOpenAI) -> None:
    fake.configure(reply=REPLY)


@pytest.mark.parametrize("how", ["complete", "stream"])
async def test_the_reply_and_its_feedback_are_asked_in_one_call_with_a_strict_json_schema(
    fake: FakeOpenAI, gateway: OpenAIGateway, how: str
) -> None:
    answer = await (gateway.complete(PROMPT) if how == "complete" else streamed(gateway))

    assert answer.text == REPLY
    assert answer.feedback == EXPECTED
    [sent] = fake.chat_requests()
    assert (sent.kind, sent.feedback, sent.stream) == ("reply", True, how == "stream")
    body = sent.json()
    assert body["response_format"]["type"] == "json_schema"
    schema = body["response_format"]["json_schema"]
    assert (schema["name"], schema["strict"]) == ("reply", True)
    assert list(schema["schema"]["properties"]) == ["reply", "feedback"]  # the reply is written first
    assert schema["schema"]["additionalProperties"] is False
    assert body["messages"] == [{"role": t.role, "content": t.content} for t in PROMPT.turns]
    assert gateway.structured_output is True


async def test_the_streamed_reply_arrives_as_plain_text_pieces(
    fake: FakeOpenAI, gateway: OpenAIGateway
) -> None:
    fake.configure(chunk_delay=0.01)  # chunks that arrive apart are passed on apart
    pieces = [item async for item in gateway.stream(PROMPT)]
    texts = [p for p in pieces if isinstance(p, str)]
    assert len(texts) > 3  # streamed, not given at the end
    assert not any("{" in p or '"reply"' in p or "\\n" in p for p in texts)
    assert isinstance(pieces[-1], Feedback)


async def test_a_prompt_without_feedback_is_a_plain_completion(
    fake: FakeOpenAI, gateway: OpenAIGateway
) -> None:
    whole = await gateway.complete(PLAIN)
    pieces = [item async for item in gateway.stream(PLAIN)]

    assert (whole.text, whole.feedback) == (REPLY, None)
    assert "".join(str(p) for p in pieces) == REPLY
    assert all("response_format" not in r.json() for r in fake.chat_requests())
    assert gateway.structured_output is None


@pytest.mark.parametrize("structured", ["text", "broken"])
@pytest.mark.parametrize("how", ["complete", "stream"])
async def test_an_answer_without_valid_feedback_keeps_the_whole_reply(
    fake: FakeOpenAI, gateway: OpenAIGateway, structured: str, how: str
) -> None:
    fake.configure(structured=structured)
    answer = await (gateway.complete(PROMPT) if how == "complete" else streamed(gateway))
    assert (answer.text, answer.feedback) == (REPLY, None)
    with pytest.raises(LLMUpstreamError):
        await gateway.scorecard(SCORECARD_REQUEST)


async def test_a_server_refusing_response_format_is_asked_again_without_it_and_remembered(
    fake: FakeOpenAI, gateway: OpenAIGateway
) -> None:
    fake.configure(structured="reject_format")

    first = await gateway.complete(PROMPT)
    second = await streamed(gateway)
    card = await gateway.scorecard(SCORECARD_REQUEST)

    assert (first.text, first.feedback) == (REPLY, EXPECTED)
    assert (second.text, second.feedback) == (REPLY, EXPECTED)
    assert card.overall == SCORECARD["overall"]
    assert gateway.structured_output is False
    sent = [("response_format" in r.json(), r.kind, r.stream) for r in fake.chat_requests()]
    assert sent == [
        (True, "reply", False),
        (False, "reply", False),
        (False, "reply", True),
        (False, "scorecard", False),
    ]


async def test_a_server_refusing_response_format_on_a_stream_is_asked_again_at_once(
    fake: FakeOpenAI, gateway: OpenAIGateway
) -> None:
    fake.configure(structured="reject_format")
    answer = await streamed(gateway)
    assert (answer.text, answer.feedback) == (REPLY, EXPECTED)
    assert [("response_format" in r.json(), r.stream) for r in fake.chat_requests()] == [
        (True, True),
        (False, True),
    ]


async def test_a_stream_stalling_after_the_reply_keeps_the_reply_without_feedback(
    fake: FakeOpenAI, gateway: OpenAIGateway
) -> None:
    fake.configure(mode="stall", stall_at=-2, delay=5)
    answer = await streamed(gateway)
    assert (answer.text, answer.feedback) == (REPLY, None)


@pytest.mark.parametrize("mode", ["cut", "truncated"])
async def test_a_stream_ending_inside_the_feedback_keeps_the_reply_without_feedback(
    fake: FakeOpenAI, gateway: OpenAIGateway, mode: str
) -> None:
    fake.configure(mode=mode)  # the answer ends halfway: inside the feedback, after the reply
    answer = await streamed(gateway)
    assert (answer.text, answer.feedback) == (REPLY, None)


async def test_the_timeout_bounds_the_gaps_of_the_feedback_not_its_length(
    fake: FakeOpenAI, gateway: OpenAIGateway
) -> None:
    fake.configure(chunk_delay=TIMEOUT / 10)  # ~40 pieces: the whole takes several timeouts
    started = time.monotonic()
    answer = await streamed(gateway)
    assert (answer.text, answer.feedback) == (REPLY, EXPECTED)
    assert time.monotonic() - started > 2 * TIMEOUT


async def test_a_400_after_structured_output_worked_is_an_upstream_error(
    fake: FakeOpenAI, gateway: OpenAIGateway
) -> None:
    assert (await gateway.complete(PROMPT)).feedback is not None
    fake.configure(mode="400")
    with pytest.raises(LLMUpstreamError):
        await gateway.complete(PROMPT)
    with pytest.raises(LLMUpstreamError):
        await streamed(gateway)
    assert len(fake.chat_requests()) == 3  # not asked again without the format


async def test_a_slow_answer_times_out(fake: FakeOpenAI, gateway: OpenAIGateway) -> None:
    fake.configure(mode="timeout", delay=5)
    with pytest.raises(LLMTimeout):
        await gateway.complete(PROMPT)
    with pytest.raises(LLMTimeout):
        await gateway.scorecard(SCORECARD_REQUEST)


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
    assert feedback_from(json.dumps(FEEDBACK)) == EXPECTED
