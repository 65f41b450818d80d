"""SPEC §4.7 end to end: the real ``chatcore serve`` against the fake OpenAI server in a process
of its own, whose answers (the reply with its feedback, in one call per message; scorecards) are
structured JSON, plain text, broken JSON, or refuse ``response_format`` (a server without
structured output, as many Ollama and llama.cpp builds are). The reply is never lost for its
feedback, one message is one upstream call and one counted request.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from e2e.server import Server, base_env, free_port, running_server
from fakes.fake_openai_process import FakeOpenAIProcess
from fakes.openai_payloads import FEEDBACK, SCORECARD

pytestmark = pytest.mark.e2e

API_KEY = "sk-e2e-learning-key"
PASSWORD = "e2e password 1"
REPLY = "Oh no, that sounds dull. What would you rather be doing?"
_names = itertools.count(1)


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeOpenAIProcess]:
    with FakeOpenAIProcess(port=free_port()) as fake:
        yield fake


def _serve(upstream: FakeOpenAIProcess, data_dir: Path) -> Iterator[Server]:
    env = base_env(
        data_dir,
        OPENAI_API_KEY=API_KEY,
        OPENAI_BASE_URL=upstream.base_url,
        CHATCORE_LLM_MODEL="e2e-model",
        CHATCORE_LLM_TIMEOUT="5",
    )
    with running_server(env) as running:
        yield running


@pytest.fixture(scope="module")
def server(upstream: FakeOpenAIProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _serve(upstream, tmp_path_factory.mktemp("learning") / "data")


@pytest.fixture(scope="module")
def server_without_structured_output(
    upstream: FakeOpenAIProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server of its own: its gateway learns that the upstream refuses ``response_format``."""
    yield from _serve(upstream, tmp_path_factory.mktemp("learning-plain") / "data")


def _reset(upstream: FakeOpenAIProcess, structured: str) -> FakeOpenAIProcess:
    upstream.configure(
        mode="ok", reply=REPLY, structured=structured, answer_delay=0.0, assessment_delay=None, api_key=None
    )
    upstream.clear()
    return upstream


@dataclass
class Learner:
    client: httpx.Client
    headers: dict[str, str]

    def chat(self, **body: Any) -> int:
        created = self.client.post("/chatbot/chats/", json=body, headers=self.headers)
        assert created.status_code == 201, created.text
        chat_id: int = created.json()["chat"]["id"]
        return chat_id

    def send(self, chat_id: int, content: str) -> dict[str, Any]:
        sent = self.client.post(
            f"/chatbot/chats/{chat_id}/messages/", json={"content": content}, headers=self.headers
        )
        assert sent.status_code == 201, sent.text
        body: dict[str, Any] = sent.json()
        return body

    def stream(self, chat_id: int, content: str) -> dict[str, Any]:
        with self.client.stream(
            "POST",
            f"/chatbot/chats/{chat_id}/messages/",
            json={"content": content},
            headers={**self.headers, "Accept": "text/event-stream"},
        ) as response:
            assert response.status_code == 201
            lines = [line for line in response.iter_lines() if line.startswith("data:")]
        done: dict[str, Any] = json.loads(lines[-1].removeprefix("data:"))
        return done

    def get(self, path: str) -> Any:
        response = self.client.get(path, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()


def _learner(server: Server) -> Iterator[Learner]:
    name = f"learner{next(_names)}"
    with httpx.Client(base_url=server.url, timeout=30) as client:
        join = {"username": name, "email": f"{name}@example.com", "password": PASSWORD, "password2": PASSWORD}
        assert client.post("/accounts/join/", json=join).status_code == 201
        token = client.post("/accounts/token/", json={"username": name, "password": PASSWORD}).json()[
            "access"
        ]
        yield Learner(client=client, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def learner(server: Server) -> Iterator[Learner]:
    yield from _learner(server)


def _interview(learner: Learner) -> int:
    chat_id = learner.chat(mode="interview", topic="backend developer", level="advanced")
    learner.send(chat_id, "Hello, I am ready.")
    return chat_id


def test_structured_feedback_is_stored_with_the_reply_and_fills_the_notebook(
    learner: Learner, upstream: FakeOpenAIProcess
) -> None:
    fake = _reset(upstream, "json")
    chat_id = learner.chat()

    sent = learner.send(chat_id, "I am boring at home")
    streamed = learner.stream(chat_id, "I am boring again")

    expected = {**FEEDBACK, "score": None}  # no score outside an interview
    assert sent["reply"]["content"] == REPLY
    assert sent["reply"]["feedback"] == expected
    assert streamed["reply"]["feedback"] == expected
    assert [m["feedback"] for m in learner.get(f"/chatbot/chats/{chat_id}/")["messages"]] == [
        None,
        expected,
        None,
        expected,
    ]
    notebook = learner.get("/chatbot/notebook/")["items"]
    assert [(e["original"], e["corrected"]) for e in notebook] == [("I am boring", "I am bored")] * 2
    assert learner.get("/chatbot/quota/")["used"] == 2
    calls = fake.requests()
    assert [(r["kind"], r["feedback"], bool(r["body"].get("stream"))) for r in calls] == [
        ("reply", True, False),
        ("reply", True, True),
    ]
    for call in calls:
        assert call["body"]["response_format"]["type"] == "json_schema"
        assert call["body"]["response_format"]["json_schema"]["strict"] is True
        assert list(call["body"]["response_format"]["json_schema"]["schema"]["properties"]) == [
            "reply",
            "feedback",
        ]


def test_an_interview_answer_is_scored_and_the_interview_gets_a_scorecard(
    learner: Learner, upstream: FakeOpenAIProcess
) -> None:
    fake = _reset(upstream, "json")
    chat_id = _interview(learner)
    answer = learner.send(chat_id, "I built a payment API in Go.")

    assert answer["reply"]["feedback"]["score"] == FEEDBACK["score"]
    scored = learner.client.post(f"/chatbot/chats/{chat_id}/scorecard/", headers=learner.headers)

    assert scored.status_code == 201, scored.text
    assert scored.headers["X-RateLimit-Remaining"] == "2"
    body = scored.json()
    assert {k: body[k] for k in SCORECARD} == SCORECARD
    assert learner.get(f"/chatbot/chats/{chat_id}/scorecard/") == body
    [call] = [r for r in fake.requests() if r["kind"] == "scorecard"]
    assert "<answer>\nI built a payment API in Go.\n</answer>" in call["body"]["messages"][1]["content"]
    assert learner.get("/chatbot/progress/")["interview_scores"][0]["overall"] == FEEDBACK["score"]["overall"]  # type: ignore[index]


@pytest.mark.parametrize("structured", ["text", "broken"])
def test_feedback_that_is_not_valid_json_leaves_the_reply_ok_and_counted_once(
    learner: Learner, upstream: FakeOpenAIProcess, structured: str
) -> None:
    _reset(upstream, structured)
    chat_id = _interview(learner)

    sent = learner.send(chat_id, "I am boring at my job")
    streamed = learner.stream(chat_id, "I want a new challenge")

    for exchange in (sent, streamed):
        assert (exchange["reply"]["content"], exchange["reply"]["status"]) == (REPLY, "ok")
        assert exchange["reply"]["feedback"] is None
    assert learner.get("/chatbot/quota/")["used"] == 3
    assert learner.get("/chatbot/notebook/")["items"] == []
    # An invalid scorecard is an upstream error: 502, the slot given back.
    scored = learner.client.post(f"/chatbot/chats/{chat_id}/scorecard/", headers=learner.headers)
    assert (scored.status_code, scored.json()["code"]) == (502, "llm_error")
    assert scored.headers["X-RateLimit-Remaining"] == "2"
    assert learner.get("/chatbot/quota/")["used"] == 3


def test_a_server_without_structured_output_gets_the_json_asked_in_the_prompt(
    server_without_structured_output: Server, upstream: FakeOpenAIProcess
) -> None:
    fake = _reset(upstream, "reject_format")
    for learner in _learner(server_without_structured_output):
        chat_id = _interview(learner)
        first = learner.send(chat_id, "I am boring at my job")
        second = learner.stream(chat_id, "I am boring, really")
        scored = learner.client.post(f"/chatbot/chats/{chat_id}/scorecard/", headers=learner.headers)

        assert first["reply"]["feedback"]["corrections"] == FEEDBACK["corrections"]
        assert second["reply"]["feedback"]["corrections"] == FEEDBACK["corrections"]
        assert scored.status_code == 201, scored.text
        assert scored.json()["overall"] == SCORECARD["overall"]
        assert learner.get("/chatbot/quota/")["used"] == 4

    calls = fake.requests()
    with_format = ["response_format" in r["body"] for r in calls]
    # The first call of the process was refused (400) and asked again without the format; the
    # gateway remembered, so no later call sent it again.
    assert with_format[0] is True
    assert with_format[1:] == [False] * (len(calls) - 1)
    # 3 messages, one call each (the first asked twice), and 1 scorecard.
    assert [r["kind"] for r in calls] == ["reply"] * 4 + ["scorecard"]
