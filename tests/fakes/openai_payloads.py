"""JSON bodies in the shape of the OpenAI Chat Completions API, for the fake server."""

from __future__ import annotations

import json
from typing import Any


def default_reply(body: dict[str, Any]) -> str:
    """The fake's answer when no fixed reply is set: it quotes the last user message."""
    messages = body.get("messages") or []
    said = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
    return f'Thanks for your message. You said: "{str(said)[:200]}". What would you like to talk about next?'


def error(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def completion(ident: str, model: str, text: str) -> dict[str, Any]:
    words = len(text.split())
    return {
        "id": ident,
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": words, "total_tokens": 10 + words},
    }


def chunk(ident: str, model: str, delta: dict[str, str], finish: str | None) -> dict[str, Any]:
    return {
        "id": ident,
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


FEEDBACK = {
    "corrections": [
        {
            "original": "I am boring",
            "corrected": "I am bored",
            "explanation": "'Bored' is how you feel; 'boring' is what causes it.",
            "explanation_ko": "'bored'는 느끼는 감정, 'boring'은 지루하게 만드는 것입니다.",
        }
    ],
    "better_phrasing": "I was bored at home, so I went out.",
    "score": {"overall": 74, "criteria": {"relevance": 80, "structure": 70, "clarity": 75, "grammar": 70}},
}
SCORECARD = {
    "overall": 71,
    "criteria": {"relevance": 75, "structure": 65, "clarity": 72, "grammar": 70},
    "strengths": ["You gave a concrete example."],
    "improvements": ["Say what the result of your work was, with a number."],
    "model_answer": {"question": "Tell me about yourself.", "answer": "I am a backend developer who ..."},
}


def _system(body: dict[str, Any]) -> str:
    messages = body.get("messages") or []
    return next((str(m.get("content", "")) for m in messages if m.get("role") == "system"), "")


def kind_of(body: dict[str, Any]) -> str:
    """``scorecard`` or ``reply``: what chatcore asks for, told by the JSON shape its system
    prompt describes (present with and without ``response_format``). ``feedback`` is a separate
    feedback call, which chatcore no longer makes (kept so a test can prove there is none)."""
    system = _system(body)
    if '"model_answer"' in system:
        return "scorecard"
    if '"corrections"' in system and '{"reply"' not in system:
        return "feedback"
    return "reply"


def asks_feedback(body: dict[str, Any]) -> bool:
    """Whether a reply call asks for ``{"reply": ..., "feedback": ...}`` (a chat message)."""
    return '{"reply"' in _system(body)


def reply_with_feedback(reply: str, structured: str, *, with_format: bool) -> str | None:
    """The answer to a reply call that asks for its feedback too, in ``structured`` mode; ``None``
    for a 400. ``text`` is the reply alone (a model that ignored the format); ``broken`` the JSON
    cut inside the feedback (the reply string whole)."""
    # Compact, as models often write it: the first streamed piece carries the reply's first word.
    valid = json.dumps({"reply": reply, "feedback": FEEDBACK}, ensure_ascii=False, separators=(",", ":"))
    if structured == "json":
        return valid
    if structured == "text":
        return reply
    if structured == "broken":
        feedback = json.dumps(FEEDBACK, ensure_ascii=False, separators=(",", ":"))
        return valid[: len(valid) - len(feedback) // 2]
    if structured == "reject_format":
        if with_format:
            return None
        # Servers without structured output answer the JSON the prompt asked for in a code fence.
        return f"```json\n{valid}\n```\nGood luck!"
    raise ValueError(f"unknown structured mode {structured!r}")


def assessment(kind: str, structured: str, *, with_format: bool) -> str | None:
    """The text the fake answers an assessment with in ``structured`` mode; ``None`` for a 400."""
    valid = json.dumps(FEEDBACK if kind == "feedback" else SCORECARD, ensure_ascii=False)
    if structured == "json":
        return valid
    if structured == "text":
        return "Great answer! Your English is very good. Keep practising."
    if structured == "broken":
        return valid[: len(valid) // 2]
    if structured == "reject_format":
        if with_format:
            return None
        # Servers without structured output wrap the JSON the prompt asked for in prose.
        return f"Here is the feedback you asked for:\n```json\n{valid}\n```\nGood luck!"
    raise ValueError(f"unknown structured mode {structured!r}")
