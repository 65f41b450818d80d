"""Chatbot (SPEC §4.2, §4.3): chats, messages (JSON or streamed as server-sent events), quota."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post, route
from litestar.di import NamedDependency, Provide
from litestar.enums import HttpMethod
from litestar.params import FromQuery, HeaderParameter, JSONBody, SkipValidation
from litestar.response import ServerSentEvent, ServerSentEventMessage

from app_http.auth import TOKEN_ONLY, provide_user_id
from app_http.errors import ErrorBody, llm_failure_response
from app_http.openapi import StreamingOperation, responses
from app_http.quota_headers import quota_headers
from app_http.sse import error_event, event_stream, to_json
from app_http.structs import ChatOut, ChatSummaryOut, ExchangeOut, MessageOut, QuotaOut, ResourceId
from chatcore.chats import MAX_MESSAGES_PAGE, ChatService
from chatcore.errors import ChatcoreError, LLMError
from chatcore.learning import Level
from chatcore.model import Mode
from chatcore.ports.clock import Clock
from chatcore.results import Delta, Done, Exchange, ReplyStream
from chatcore.tutoring import TutorService

Text = Annotated[str, msgspec.Meta(max_length=20_000)]

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key", max_length=255, required=False, description="Retry-safe key (24 h)"
    ),
]


class CreateChatIn(msgspec.Struct):
    title: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    mode: Mode = Mode.CONVERSATION
    topic: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    message: Text | None = None
    level: Level = Level.INTERMEDIATE
    """``beginner``, ``intermediate`` or ``advanced``; ``null`` is refused (422)."""


class UpdateChatIn(msgspec.Struct):
    title: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    topic: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    level: Level | msgspec.UnsetType = msgspec.UNSET
    """Absent: unchanged; ``null`` or another value is refused (422)."""


class MessageIn(msgspec.Struct):
    content: Text


class ChatListOut(msgspec.Struct):
    items: list[ChatSummaryOut]
    next_cursor: str | None


class CreatedChatOut(msgspec.Struct):
    chat: ChatOut
    reply: MessageOut | None = None
    quota: QuotaOut | None = None


def exchange_out(exchange: Exchange) -> ExchangeOut:
    return ExchangeOut(
        message=MessageOut.of(exchange.message),
        reply=MessageOut.of(exchange.reply),
        quota=QuotaOut.of(exchange.quota),
    )


def _wants_stream(request: Request[Any, Any, Any]) -> bool:
    return "text/event-stream" in request.headers.get("accept", "")


async def replayed_events(exchange: Exchange) -> AsyncGenerator[ServerSentEventMessage, None]:
    """An Idempotency-Key replay: the stored result at once."""
    yield ServerSentEventMessage(event="done", data=to_json(exchange_out(exchange)))


async def exchange_events(
    events: ReplyStream[Delta | Done[Exchange]],
) -> AsyncGenerator[ServerSentEventMessage, None]:
    try:
        async for event in events:
            if isinstance(event, Delta):
                yield ServerSentEventMessage(event="delta", data=to_json({"text": event.text}))
            else:
                yield ServerSentEventMessage(event="done", data=to_json(exchange_out(event.result)))
    except ChatcoreError as exc:
        yield error_event(exc)


class ChatController(Controller):
    path = "/chatbot"
    tags = ["chatbot"]  # noqa: RUF012
    dependencies = {"user_id": Provide(provide_user_id)}  # noqa: RUF012

    @get(
        "/chats/",
        operation_id="listChats",
        summary="My chats, most recently active first",
        responses=responses(401, 422),
    )
    async def list_chats(
        self,
        chats: NamedDependency[ChatService],
        user_id: NamedDependency[int],
        limit: FromQuery[int] = 20,
        cursor: FromQuery[str | None] = None,
    ) -> ChatListOut:
        page = await chats.list_chats(user_id, limit=limit, cursor=cursor)
        return ChatListOut(items=[ChatSummaryOut.of(c) for c in page.items], next_cursor=page.next_cursor)

    @post(
        "/chats/",
        status_code=201,
        operation_id="createChat",
        summary="Start a chat (optionally with a first message, which counts against the quota)",
        responses=responses(401, 422, 429, 502, 503, 504),
    )
    async def create_chat(
        self,
        chats: NamedDependency[ChatService],
        tutor: NamedDependency[TutorService],
        clock: NamedDependency[SkipValidation[Clock]],
        user_id: NamedDependency[int],
        data: JSONBody[CreateChatIn],
    ) -> Response[CreatedChatOut] | Response[ErrorBody]:
        topic = data.topic or ""
        if data.message is None:
            chat = await chats.start_chat(
                user_id, title=data.title, mode=data.mode, topic=topic, level=data.level
            )
            return Response(CreatedChatOut(chat=ChatOut.of(chat, [])), status_code=201)
        try:
            detail, exchange = await tutor.start_chat_with(
                user_id, data.message, title=data.title, mode=data.mode, topic=topic, level=data.level
            )
        except LLMError as exc:
            return llm_failure_response(exc, await tutor.quota(user_id), clock.now())
        body = CreatedChatOut(
            chat=ChatOut.of(detail.chat, detail.messages, older_cursor=detail.older_cursor),
            reply=MessageOut.of(exchange.reply),
            quota=QuotaOut.of(exchange.quota),
        )
        return Response(body, status_code=201, headers=quota_headers(exchange.quota, clock.now()))

    @get(
        "/chats/{chat_id:int}/",
        operation_id="getChat",
        summary="A chat with its latest messages (200 at most; `before` pages to older ones)",
        responses=responses(401, 404, 422),
    )
    async def get_chat(
        self,
        chats: NamedDependency[ChatService],
        user_id: NamedDependency[int],
        chat_id: ResourceId,
        before: FromQuery[str | None] = None,
        limit: FromQuery[int] = MAX_MESSAGES_PAGE,
    ) -> ChatOut:
        detail = await chats.read_chat(user_id, chat_id, before=before, limit=limit)
        return ChatOut.of(detail.chat, detail.messages, older_cursor=detail.older_cursor)

    @route(
        "/chats/{chat_id:int}/",
        http_method=[HttpMethod.PUT, HttpMethod.PATCH],
        operation_id=lambda handler, method, path: (
            "replaceChat" if method == HttpMethod.PUT else "updateChat"
        ),
        summary="Rename a chat, change its topic or level (PUT and PATCH alike: absent fields stay)",
        responses=responses(401, 404, 422),
    )
    async def update_chat(
        self,
        chats: NamedDependency[ChatService],
        user_id: NamedDependency[int],
        chat_id: ResourceId,
        data: JSONBody[UpdateChatIn],
    ) -> ChatOut:
        level = None if isinstance(data.level, msgspec.UnsetType) else data.level
        detail = await chats.update_chat(user_id, chat_id, title=data.title, topic=data.topic, level=level)
        return ChatOut.of(detail.chat, detail.messages, older_cursor=detail.older_cursor)

    @delete(
        "/chats/{chat_id:int}/",
        status_code=204,
        operation_id="deleteChat",
        summary="Delete a chat and its messages",
        responses=responses(401, 404),
    )
    async def delete_chat(
        self, chats: NamedDependency[ChatService], user_id: NamedDependency[int], chat_id: ResourceId
    ) -> None:
        await chats.delete_chat(user_id, chat_id)

    @post(
        "/chats/{chat_id:int}/messages/",
        status_code=201,
        operation_id="sendMessage",
        operation_class=StreamingOperation,
        summary="Send a message to the tutor (JSON, or server-sent events with Accept: text/event-stream)",
        responses=responses(401, 404, 409, 422, 429, 502, 503, 504),
        dependencies=TOKEN_ONLY,
    )
    async def send_message(
        self,
        request: Request[Any, Any, Any],
        tutor: NamedDependency[TutorService],
        clock: NamedDependency[SkipValidation[Clock]],
        user_id: NamedDependency[int],
        chat_id: ResourceId,
        data: JSONBody[MessageIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ExchangeOut] | Response[ErrorBody] | ServerSentEvent:
        if _wants_stream(request):
            pending = await tutor.accept(user_id, chat_id, data.content, idempotency_key=idempotency_key)
            now = clock.now()
            if isinstance(pending, Exchange):
                return event_stream(replayed_events(pending), quota=pending.quota, now=now, status_code=201)
            events = tutor.stream(pending)
            return event_stream(
                exchange_events(events), quota=pending.quota, now=now, status_code=201, close=events.aclose
            )
        try:
            exchange = await tutor.ask(user_id, chat_id, data.content, idempotency_key=idempotency_key)
        except LLMError as exc:
            return llm_failure_response(exc, await tutor.quota(user_id), clock.now())
        return Response(
            exchange_out(exchange), status_code=201, headers=quota_headers(exchange.quota, clock.now())
        )

    @get(
        "/quota/",
        operation_id="getQuota",
        summary="My quota for today",
        responses=responses(401),
        dependencies=TOKEN_ONLY,
    )
    async def quota(
        self,
        tutor: NamedDependency[TutorService],
        clock: NamedDependency[SkipValidation[Clock]],
        user_id: NamedDependency[int],
    ) -> Response[QuotaOut]:
        quota = await tutor.quota(user_id)
        return Response(QuotaOut.of(quota), headers=quota_headers(quota, clock.now()))
