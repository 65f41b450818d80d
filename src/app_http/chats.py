"""Chatbot (SPEC §4.2, §4.3): chats, messages (JSON or streamed as server-sent events), quota."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, HeaderParameter, JSONBody
from litestar.response import ServerSentEvent, ServerSentEventMessage

from app_http.auth import container_of, provide_user_id
from app_http.errors import ErrorBody, error_response, extra_headers, status_and_code
from app_http.openapi import StreamingOperation, responses
from app_http.quota_headers import quota_headers
from app_http.structs import ChatOut, ChatSummaryOut, ExchangeOut, MessageOut, QuotaOut, ResourceId
from chatcore.errors import ChatcoreError, LLMError
from chatcore.model import Mode
from chatcore.service import Delta, Done, Exchange, ReplyStream

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


class UpdateChatIn(msgspec.Struct):
    title: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    topic: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class MessageIn(msgspec.Struct):
    content: Text


class ChatListOut(msgspec.Struct):
    items: list[ChatSummaryOut]
    next_cursor: str | None


class CreatedChatOut(msgspec.Struct):
    chat: ChatOut
    reply: MessageOut | None = None
    quota: QuotaOut | None = None


def _exchange_out(exchange: Exchange) -> ExchangeOut:
    return ExchangeOut(
        message=MessageOut.of(exchange.message),
        reply=MessageOut.of(exchange.reply),
        quota=QuotaOut.of(exchange.quota),
    )


def _wants_stream(request: Request[Any, Any, Any]) -> bool:
    return "text/event-stream" in request.headers.get("accept", "")


def _json(value: object) -> str:
    return msgspec.json.encode(value).decode()


async def _replayed(exchange: Exchange) -> AsyncGenerator[ServerSentEventMessage, None]:
    """An Idempotency-Key replay: the stored result at once."""
    yield ServerSentEventMessage(event="done", data=_json(_exchange_out(exchange)))


async def _sse(events: ReplyStream[Delta | Done]) -> AsyncGenerator[ServerSentEventMessage, None]:
    try:
        async for event in events:
            if isinstance(event, Delta):
                yield ServerSentEventMessage(event="delta", data=_json({"text": event.text}))
            else:
                yield ServerSentEventMessage(event="done", data=_json(_exchange_out(event.exchange)))
    except ChatcoreError as exc:
        _, code = status_and_code(exc)
        yield ServerSentEventMessage(event="error", data=_json(ErrorBody(code=code, detail=exc.detail)))


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
        request: Request[Any, Any, Any],
        user_id: NamedDependency[int],
        limit: FromQuery[int] = 20,
        cursor: FromQuery[str | None] = None,
    ) -> ChatListOut:
        page = await container_of(request).chats.list_chats(user_id, limit=limit, cursor=cursor)
        return ChatListOut(items=[ChatSummaryOut.of(c) for c in page.items], next_cursor=page.next_cursor)

    @post(
        "/chats/",
        status_code=201,
        operation_id="createChat",
        summary="Start a chat (optionally with a first message, which counts against the quota)",
        responses=responses(401, 422, 429, 502, 503, 504),
    )
    async def create_chat(
        self, request: Request[Any, Any, Any], user_id: NamedDependency[int], data: JSONBody[CreateChatIn]
    ) -> Response[CreatedChatOut] | Response[ErrorBody]:
        chats = container_of(request).chats
        topic = data.topic or ""
        if data.message is None:
            chat = await chats.start_chat(user_id, title=data.title, mode=data.mode, topic=topic)
            return Response(CreatedChatOut(chat=ChatOut.of(chat, [])), status_code=201)
        try:
            detail, exchange = await chats.start_chat_with(
                user_id, data.message, title=data.title, mode=data.mode, topic=topic
            )
        except LLMError as exc:
            return await _llm_failure(request, user_id, exc)
        body = CreatedChatOut(
            chat=ChatOut.of(detail.chat, detail.messages),
            reply=MessageOut.of(exchange.reply),
            quota=QuotaOut.of(exchange.quota),
        )
        now = container_of(request).clock.now()
        return Response(body, status_code=201, headers=quota_headers(exchange.quota, now))

    @get(
        "/chats/{chat_id:int}/",
        operation_id="getChat",
        summary="A chat with its messages",
        responses=responses(401, 404),
    )
    async def get_chat(
        self, request: Request[Any, Any, Any], user_id: NamedDependency[int], chat_id: ResourceId
    ) -> ChatOut:
        detail = await container_of(request).chats.read_chat(user_id, chat_id)
        return ChatOut.of(detail.chat, detail.messages)

    @put(
        "/chats/{chat_id:int}/",
        operation_id="replaceChat",
        summary="Rename a chat or change its topic",
        responses=responses(401, 404, 422),
    )
    async def put_chat(
        self,
        request: Request[Any, Any, Any],
        user_id: NamedDependency[int],
        chat_id: ResourceId,
        data: JSONBody[UpdateChatIn],
    ) -> ChatOut:
        return await self._update(request, user_id, chat_id, data)

    @patch(
        "/chats/{chat_id:int}/",
        operation_id="updateChat",
        summary="Rename a chat or change its topic",
        responses=responses(401, 404, 422),
    )
    async def patch_chat(
        self,
        request: Request[Any, Any, Any],
        user_id: NamedDependency[int],
        chat_id: ResourceId,
        data: JSONBody[UpdateChatIn],
    ) -> ChatOut:
        return await self._update(request, user_id, chat_id, data)

    async def _update(
        self, request: Request[Any, Any, Any], user_id: NamedDependency[int], chat_id: int, data: UpdateChatIn
    ) -> ChatOut:
        detail = await container_of(request).chats.update_chat(
            user_id, chat_id, title=data.title, topic=data.topic
        )
        return ChatOut.of(detail.chat, detail.messages)

    @delete(
        "/chats/{chat_id:int}/",
        status_code=204,
        operation_id="deleteChat",
        summary="Delete a chat and its messages",
        responses=responses(401, 404),
    )
    async def delete_chat(
        self, request: Request[Any, Any, Any], user_id: NamedDependency[int], chat_id: ResourceId
    ) -> None:
        await container_of(request).chats.delete_chat(user_id, chat_id)

    @post(
        "/chats/{chat_id:int}/messages/",
        status_code=201,
        operation_id="sendMessage",
        operation_class=StreamingOperation,
        summary="Send a message to the tutor (JSON, or server-sent events with Accept: text/event-stream)",
        responses=responses(401, 404, 409, 422, 429, 502, 503, 504),
    )
    async def send_message(
        self,
        request: Request[Any, Any, Any],
        user_id: NamedDependency[int],
        chat_id: ResourceId,
        data: JSONBody[MessageIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ExchangeOut] | Response[ErrorBody] | ServerSentEvent:
        container = container_of(request)
        chats = container.chats
        if _wants_stream(request):
            pending = await chats.accept(user_id, chat_id, data.content, idempotency_key=idempotency_key)
            quota = pending.quota
            if isinstance(pending, Exchange):
                body, after = _replayed(pending), None
            else:
                # Closed after the response in every case: a client that leaves before the first
                # event never starts the generator, and only aclose() then settles the request.
                events = chats.stream(pending)
                body, after = _sse(events), BackgroundTask(events.aclose)
            return ServerSentEvent(
                body,
                background=after,
                headers={
                    **quota_headers(quota, container.clock.now()),
                    "Cache-Control": "no-cache",
                    "X-Accel-Buffering": "no",
                },
                status_code=201,
            )
        try:
            exchange = await chats.ask(user_id, chat_id, data.content, idempotency_key=idempotency_key)
        except LLMError as exc:
            return await _llm_failure(request, user_id, exc)
        now = container.clock.now()
        return Response(_exchange_out(exchange), status_code=201, headers=quota_headers(exchange.quota, now))

    @get("/quota/", operation_id="getQuota", summary="My quota for today", responses=responses(401))
    async def quota(
        self, request: Request[Any, Any, Any], user_id: NamedDependency[int]
    ) -> Response[QuotaOut]:
        container = container_of(request)
        quota = await container.chats.quota(user_id)
        return Response(QuotaOut.of(quota), headers=quota_headers(quota, container.clock.now()))


async def _llm_failure(request: Request[Any, Any, Any], user_id: int, exc: LLMError) -> Response[ErrorBody]:
    """The §6 error, with the quota headers after the slot was given back."""
    container = container_of(request)
    status, code = status_and_code(exc)
    quota = await container.chats.quota(user_id)
    headers = {**quota_headers(quota, container.clock.now()), **extra_headers(exc)}
    return error_response(status, code, exc.detail, headers)
