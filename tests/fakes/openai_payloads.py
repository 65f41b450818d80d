"""JSON bodies in the shape of the OpenAI Chat Completions API, for the fake server."""

from __future__ import annotations

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
