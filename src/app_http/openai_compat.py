"""OpenAI-compatible API (SPEC §4.5): ``base_url=<server>/v1`` works with any OpenAI client.

Authenticated by an access token or a personal API key; every completion counts against the
same daily quota as the chatbot (§5). Errors keep this service's one shape (§4).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncGenerator
from typing import Annotated, Literal

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, SkipValidation
from litestar.response import ServerSentEvent, ServerSentEventMessage

from app_http.auth import API_TOKEN_ONLY, provide_api_user_id
from app_http.errors import ErrorBody, llm_failure_response
from app_http.openapi import StreamingOperation, responses
from app_http.quota_headers import quota_headers
from app_http.sse import error_event, event_stream, to_json
from chatcore.errors import ChatcoreError, LLMError
from chatcore.ports.clock import Clock
from chatcore.ports.llm import Completion, Turn
from chatcore.relay import RelayService
from chatcore.results import Delta, Done, ReplyStream
from chatcore.tutoring import TutorService


class ChatMessageIn(msgspec.Struct):
    role: Literal["system", "user", "assistant", "developer"]
    content: Annotated[str, msgspec.Meta(max_length=48_000)]


class CompletionIn(msgspec.Struct):
    messages: Annotated[list[ChatMessageIn], msgspec.Meta(max_length=200)]
    model: str | None = None
    stream: bool = False


class AssistantMessage(msgspec.Struct):
    content: str
    role: str = "assistant"


class Choice(msgspec.Struct):
    message: AssistantMessage
    index: int = 0
    finish_reason: str = "stop"


class Usage(msgspec.Struct):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class CompletionOut(msgspec.Struct):
    id: str
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    object: str = "chat.completion"


class ModelOut(msgspec.Struct):
    id: str
    created: int = 0
    owned_by: str = "chatcore"
    object: str = "model"


class ModelList(msgspec.Struct):
    data: list[ModelOut]
    object: str = "list"


def turns_of(data: CompletionIn) -> list[Turn]:
    return [
        Turn(role="system" if m.role == "developer" else m.role, content=m.content) for m in data.messages
    ]


def _chunk(ident: str, created: int, model: str, delta: dict[str, str], finish: str | None) -> str:
    body = {
        "id": ident,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return to_json(body)


async def completion_events(
    model: str, events: ReplyStream[Delta | Done[Completion]]
) -> AsyncGenerator[ServerSentEventMessage, None]:
    ident, created = f"chatcmpl-{secrets.token_hex(12)}", int(time.time())
    yield ServerSentEventMessage(
        data=_chunk(ident, created, model, {"role": "assistant", "content": ""}, None)
    )
    try:
        async for event in events:
            if isinstance(event, Delta):
                yield ServerSentEventMessage(
                    data=_chunk(ident, created, model, {"content": event.text}, None)
                )
    except ChatcoreError as exc:
        yield error_event(exc)
        return
    yield ServerSentEventMessage(data=_chunk(ident, created, model, {}, "stop"))
    yield ServerSentEventMessage(data="[DONE]")


def completion_out(completion: Completion) -> CompletionOut:
    return CompletionOut(
        id=f"chatcmpl-{secrets.token_hex(12)}",
        created=int(time.time()),
        model=completion.model,
        choices=[Choice(message=AssistantMessage(content=completion.text))],
        usage=Usage(),
    )


class OpenAICompatController(Controller):
    path = "/v1"
    tags = ["openai-compatible"]  # noqa: RUF012
    dependencies = {"user_id": Provide(provide_api_user_id)}  # noqa: RUF012

    @get(
        "/models",
        operation_id="listModels",
        summary="The model this server relays to",
        responses=responses(401),
    )
    async def models(self, relay: NamedDependency[RelayService], user_id: NamedDependency[int]) -> ModelList:
        return ModelList(data=[ModelOut(id=relay.model)])

    @post(
        "/chat/completions",
        status_code=200,
        operation_id="createChatCompletion",
        operation_class=StreamingOperation,
        summary="OpenAI-compatible chat completion (counts against the daily quota)",
        responses=responses(401, 422, 429, 502, 503, 504),
        dependencies=API_TOKEN_ONLY,
    )
    async def completions(
        self,
        relay: NamedDependency[RelayService],
        tutor: NamedDependency[TutorService],
        clock: NamedDependency[SkipValidation[Clock]],
        user_id: NamedDependency[int],
        data: JSONBody[CompletionIn],
    ) -> Response[CompletionOut] | Response[ErrorBody] | ServerSentEvent:
        turns = turns_of(data)
        slot = await relay.take_slot(user_id, turns)
        now = clock.now()
        if data.stream:
            events = relay.stream(slot, turns)
            return event_stream(
                completion_events(relay.model, events),
                quota=slot.quota,
                now=now,
                status_code=200,
                close=events.aclose,
            )
        try:
            completion = await relay.complete(slot, turns)
        except LLMError as exc:
            return llm_failure_response(exc, await tutor.quota(user_id), clock.now())
        return Response(completion_out(completion), headers=quota_headers(slot.quota, now))
