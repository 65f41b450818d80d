"""HTTP: the learning rows of SPEC §4.7: level, feedback on assistant messages (JSON, streamed,
GET), scorecards, the notebook and its CSV export, progress; every refusal; foreign ids 404."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from typing import Any

import pytest

from api.conftest import Api
from chatcore.errors import LLMTimeout
from chatcore.learning import Correction, Criteria, Feedback, Score
from contract.helpers import CORRECTION, FEEDBACK, SCORECARD

SCORE = Score(overall=70, criteria=Criteria(relevance=70, structure=70, clarity=70, grammar=70))
FEEDBACK_JSON = {
    "corrections": [
        {
            "original": CORRECTION.original,
            "corrected": CORRECTION.corrected,
            "explanation": CORRECTION.explanation,
            "explanation_ko": CORRECTION.explanation_ko,
        }
    ],
    "better_phrasing": FEEDBACK.better_phrasing,
    "score": None,
}


async def _send(api: Api, headers: dict[str, str], chat_id: int, content: str) -> dict[str, Any]:
    response = await api.client.post(
        f"/chatbot/chats/{chat_id}/messages/", json={"content": content}, headers=headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_chat_has_a_level_set_on_create_and_changed_by_patch(api: Api) -> None:
    headers = await api.user()
    created = await api.client.post("/chatbot/chats/", json={"level": "beginner"}, headers=headers)
    assert created.json()["chat"]["level"] == "beginner"
    default_id = await api.chat(headers)
    chat_id = created.json()["chat"]["id"]

    patched = await api.client.patch(
        f"/chatbot/chats/{chat_id}/", json={"level": "advanced"}, headers=headers
    )
    untouched = await api.client.patch(f"/chatbot/chats/{chat_id}/", json={"title": "x"}, headers=headers)

    assert patched.status_code == 200
    assert patched.json()["level"] == "advanced"
    assert untouched.json()["level"] == "advanced"
    assert (await api.client.get(f"/chatbot/chats/{default_id}/", headers=headers)).json()[
        "level"
    ] == "intermediate"
    listed = (await api.client.get("/chatbot/chats/", headers=headers)).json()["items"]
    assert {c["id"]: c["level"] for c in listed} == {chat_id: "advanced", default_id: "intermediate"}


@pytest.mark.parametrize("level", [None, "expert", 3, ""])
async def test_a_null_or_unknown_level_is_422(api: Api, level: object) -> None:
    headers = await api.user()
    chat_id = await api.chat(headers)
    created = await api.client.post("/chatbot/chats/", json={"level": level}, headers=headers)
    patched = await api.client.patch(f"/chatbot/chats/{chat_id}/", json={"level": level}, headers=headers)
    for response in (created, patched):
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "validation_error"


async def test_assistant_messages_carry_the_feedback_in_every_answer(api: Api) -> None:
    headers = await api.user()
    chat_id = await api.chat(headers)
    api.llm.push("Oh, why?", "Tell me more.")
    api.llm.push_feedback(replace(FEEDBACK, score=None), None)

    sent = await _send(api, headers, chat_id, "I am boring")
    streamed = await api.client.post(
        f"/chatbot/chats/{chat_id}/messages/",
        json={"content": "I stay home"},
        headers={**headers, "Accept": "text/event-stream"},
    )
    detail = (await api.client.get(f"/chatbot/chats/{chat_id}/", headers=headers)).json()

    assert sent["reply"]["feedback"] == FEEDBACK_JSON
    assert sent["message"]["feedback"] is None
    done = [line for line in streamed.text.splitlines() if line.startswith("data:")][-1]
    assert json.loads(done.removeprefix("data:"))["reply"]["feedback"] is None
    assert [(m["role"], m["feedback"]) for m in detail["messages"]] == [
        ("user", None),
        ("assistant", FEEDBACK_JSON),
        ("user", None),
        ("assistant", None),
    ]


async def test_feedback_that_is_not_valid_leaves_the_reply_ok(api: Api) -> None:
    headers = await api.user()
    chat_id = await api.chat(headers, mode="interview", topic="backend developer")
    api.llm.push("Welcome. Tell me about yourself.", "Thank you.")
    out_of_range = replace(FEEDBACK, score=replace(SCORE, overall=101))
    api.llm.push_feedback(None, out_of_range)
    await _send(api, headers, chat_id, "Hello")
    sent = await _send(api, headers, chat_id, "I build payment APIs.")
    assert (sent["reply"]["content"], sent["reply"]["status"]) == ("Thank you.", "ok")
    assert (sent["reply"]["feedback"], sent["quota"]["used"]) == (None, 2)


async def _interview(api: Api, headers: dict[str, str]) -> int:
    chat_id = await api.chat(headers, mode="interview", topic="backend developer")
    api.llm.push("Welcome. Tell me about yourself.")
    await _send(api, headers, chat_id, "Hello")
    await _send(api, headers, chat_id, "I build payment APIs in Go.")
    return chat_id


async def test_a_scorecard_is_made_once_counted_and_read_back(api: Api) -> None:
    headers = await api.user()
    chat_id = await _interview(api, headers)
    assert (await api.client.get(f"/chatbot/chats/{chat_id}/scorecard/", headers=headers)).json() == {
        "code": "scorecard_not_found",
        "detail": "This chat has no scorecard yet.",
    }
    api.llm.push_scorecard(SCORECARD)

    made = await api.client.post(f"/chatbot/chats/{chat_id}/scorecard/", headers=headers)
    read = await api.client.get(f"/chatbot/chats/{chat_id}/scorecard/", headers=headers)

    assert made.status_code == 201, made.text
    assert made.headers["X-RateLimit-Remaining"] == "2"
    assert "X-RateLimit-Reset" in made.headers
    body = made.json()
    assert body == read.json()
    assert body["overall"] == SCORECARD.overall
    assert body["criteria"] == {"relevance": 70, "structure": 60, "clarity": 72, "grammar": 69}
    assert body["strengths"] == list(SCORECARD.strengths)
    assert body["improvements"] == list(SCORECARD.improvements)
    assert body["model_answer"] == {
        "question": "Why this role?",
        "answer": "Because I build payment systems.",
    }
    assert set(body) == {"overall", "criteria", "strengths", "improvements", "model_answer", "created_at"}
    assert (await api.client.get("/chatbot/quota/", headers=headers)).json()["used"] == 3


async def test_scorecard_refusals(api: Api) -> None:
    headers = await api.user()
    other = await api.user("other")
    talk = await api.chat(headers)
    await _send(api, headers, talk, "Hi")
    fresh = await api.chat(headers, mode="interview")
    interview = await _interview(api, headers)

    for chat_id in (talk, fresh):
        refused = await api.client.post(f"/chatbot/chats/{chat_id}/scorecard/", headers=headers)
        assert refused.status_code == 409
        assert refused.json()["code"] == "nothing_to_score"
    for method in ("get", "post"):
        foreign = await api.client.request(method, f"/chatbot/chats/{interview}/scorecard/", headers=other)
        assert (foreign.status_code, foreign.json()["code"]) == (404, "chat_not_found")
        missing = await api.client.request(method, "/chatbot/chats/999999/scorecard/", headers=headers)
        assert missing.status_code == 404
    unauthenticated = await api.client.post(f"/chatbot/chats/{interview}/scorecard/")
    assert unauthenticated.status_code == 401
    assert (await api.client.get("/chatbot/quota/", headers=headers)).json()["used"] == 3


async def test_a_scorecard_past_the_quota_is_429_and_an_upstream_failure_is_given_back(api: Api) -> None:
    headers = await api.user()
    chat_id = await _interview(api, headers)
    api.llm.push_scorecard(LLMTimeout())
    failed = await api.client.post(f"/chatbot/chats/{chat_id}/scorecard/", headers=headers)
    assert (failed.status_code, failed.json()["code"]) == (504, "llm_timeout")
    assert failed.headers["X-RateLimit-Remaining"] == "3"
    for _ in range(3):
        await _send(api, headers, chat_id, "More.")
    refused = await api.client.post(f"/chatbot/chats/{chat_id}/scorecard/", headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (429, "quota_exceeded")
    assert "Retry-After" in refused.headers


async def test_the_notebook_lists_pages_and_marks_reviewed(api: Api) -> None:
    headers = await api.user()
    other = await api.user("other")
    chat_id = await api.chat(headers)
    second = Correction(
        original="at morning", corrected="in the morning", explanation="e", explanation_ko="한"
    )
    api.llm.push_feedback(Feedback(corrections=(CORRECTION,)), Feedback(corrections=(second,)))
    first_sent = await _send(api, headers, chat_id, "I am boring")
    second_sent = await _send(api, headers, chat_id, "I run at morning")

    page = (await api.client.get("/chatbot/notebook/?limit=1", headers=headers)).json()
    rest = (
        await api.client.get(f"/chatbot/notebook/?limit=1&cursor={page['next_cursor']}", headers=headers)
    ).json()

    [newest] = page["items"]
    assert set(newest) == {
        "id",
        "original",
        "corrected",
        "explanation",
        "explanation_ko",
        "chat_id",
        "message_id",
        "created_at",
        "reviewed",
    }
    assert (newest["corrected"], newest["message_id"], newest["chat_id"], newest["reviewed"]) == (
        "in the morning",
        second_sent["message"]["id"],
        chat_id,
        False,
    )
    assert [e["message_id"] for e in rest["items"]] == [first_sent["message"]["id"]]
    assert rest["next_cursor"] is None

    marked = await api.client.patch(
        f"/chatbot/notebook/{newest['id']}/", json={"reviewed": True}, headers=headers
    )
    assert marked.status_code == 200
    assert marked.json() == {**newest, "reviewed": True}
    foreign = await api.client.patch(
        f"/chatbot/notebook/{newest['id']}/", json={"reviewed": True}, headers=other
    )
    assert (foreign.status_code, foreign.json()["code"]) == (404, "notebook_entry_not_found")
    assert (await api.client.get("/chatbot/notebook/", headers=other)).json() == {
        "items": [],
        "next_cursor": None,
    }
    for body in ({}, {"reviewed": None}, {"reviewed": "yes"}):
        bad = await api.client.patch(f"/chatbot/notebook/{newest['id']}/", json=body, headers=headers)
        assert bad.status_code in (400, 422), body
    for query in ("limit=0", "limit=101", "cursor=broken", "limit=x"):
        invalid = await api.client.get(f"/chatbot/notebook/?{query}", headers=headers)
        assert (invalid.status_code, invalid.json()["code"]) in (
            (422, "validation_error"),
            (400, "bad_request"),
        ), query


async def test_the_csv_export_is_anki_cards_quoted_and_safe_from_formulas(api: Api) -> None:
    headers = await api.user()
    chat_id = await api.chat(headers)
    tricky = Correction(
        original='I said "hi", then left',
        corrected='=HYPERLINK("http://evil")',
        explanation='-commas, quotes " and\nnew lines',
        explanation_ko="따옴표와 쉼표",
    )
    api.llm.push_feedback(Feedback(corrections=(CORRECTION,)), Feedback(corrections=(tricky,)))
    await _send(api, headers, chat_id, "one")
    await _send(api, headers, chat_id, "two")

    response = await api.client.get("/chatbot/notebook/export.csv", headers=headers)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert not response.content.startswith(b"\xef\xbb\xbf")
    text = response.content.decode("utf-8")
    headers_lines, _, rows = text.partition("#columns:Front,Back\n")
    assert headers_lines == "#separator:comma\n#html:false\n"
    cards = list(csv.reader(io.StringIO(rows)))
    assert cards == [
        [
            '\'=HYPERLINK("http://evil")',
            'I said "hi", then left\n-commas, quotes " and\nnew lines\n따옴표와 쉼표',
        ],
        [
            CORRECTION.corrected,
            f"{CORRECTION.original}\n{CORRECTION.explanation}\n{CORRECTION.explanation_ko}",
        ],
    ]
    other = await api.user("other")
    empty = await api.client.get("/chatbot/notebook/export.csv", headers=other)
    assert empty.text == "#separator:comma\n#html:false\n#columns:Front,Back\n"
    assert (await api.client.get("/chatbot/notebook/export.csv")).status_code == 401


async def test_progress_shows_the_last_quota_days(api: Api) -> None:
    headers = await api.user()
    assert (await api.client.get("/chatbot/progress/", headers=headers)).json() == {
        "days_practised": 0,
        "current_streak": 0,
        "messages": 0,
        "corrections_per_message": [],
        "interview_scores": [],
    }
    chat_id = await _interview(api, headers)
    api.llm.push_feedback(replace(FEEDBACK, corrections=(CORRECTION, CORRECTION)))
    await _send(api, headers, chat_id, "I am boring at work")

    body = (await api.client.get("/chatbot/progress/", headers=headers)).json()

    today = api.clock.now().astimezone(api.container.tutor.policy.zone).date().isoformat()
    assert body == {
        "days_practised": 1,
        "current_streak": 1,
        "messages": 3,
        "corrections_per_message": [{"day": today, "value": 0.67}],
        "interview_scores": [{"day": today, "overall": 72}],
    }
    assert (await api.client.get("/chatbot/progress/")).status_code == 401
