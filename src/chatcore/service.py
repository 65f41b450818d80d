"""Use cases of the chat side: chats, asking the tutor, the quota (SPEC §4.2, §5, §6, §7).

Asking follows one rule: a quota slot is taken atomically together with storing the learner's
message, in one short transaction; the tutor is called with no transaction open; a failed call
gives the slot back and marks the message ``failed``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta

from chatcore.accounts import AccountService, TokenPair
from chatcore.concurrency import run_to_completion, settle, with_storage_retries
from chatcore.errors import (
    ChatNotFound,
    Conflict,
    LLMError,
    QuotaExceeded,
    StorageUnavailable,
    UserNotFound,
    ValidationFailed,
)
from chatcore.model import Chat, ChatPage, MessageStatus, Mode, NewMessage, Quota, Role
from chatcore.ports import ChatCursor, Clock, LLMGateway, UnitOfWork, UnitOfWorkFactory
from chatcore.quota import QuotaPolicy
from chatcore.results import ChatDetail, Delta, Done, Exchange, PendingAsk, ReplyStream
from chatcore.tutor import ContextBudget, build_prompt, sanitize_topic

__all__ = [
    "AccountService",
    "ChatDetail",
    "ChatService",
    "Delta",
    "Done",
    "Exchange",
    "PendingAsk",
    "ReplyStream",
    "TokenPair",
]

MAX_CONTENT_CHARS = 4000
MAX_TITLE_CHARS = 200
MAX_PAGE_SIZE = 100
MAX_ID = 2**31 - 1
"""Ids are 32-bit integers in every store (PostgreSQL ``integer``)."""
IDEMPOTENCY_WINDOW = timedelta(hours=24)
IN_FLIGHT_LIMIT = timedelta(minutes=10)
"""A claimed Idempotency-Key with no stored reply after this long belongs to a request that died
(a crash, a database outage during its bookkeeping): a retry may claim it again."""


def clean_content(content: str) -> str:
    text = content.strip()
    if not 1 <= len(text) <= MAX_CONTENT_CHARS:
        raise ValidationFailed(
            f"The message must be 1 to {MAX_CONTENT_CHARS} characters long.", field="content"
        )
    return text


def encode_cursor(chat: Chat) -> str:
    raw = f"{chat.updated_at.isoformat()}|{chat.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> ChatCursor:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _, ident = raw.partition("|")
        when = datetime.fromisoformat(stamp)
        if when.tzinfo is None:
            raise ValueError("a cursor's instant is aware")
        parsed = ChatCursor(updated_at=when.astimezone(UTC), id=int(ident))
    except (ValueError, UnicodeDecodeError, binascii.Error, OverflowError) as exc:
        raise ValidationFailed("The cursor is not valid.", field="cursor") from exc
    if not 0 < parsed.id <= MAX_ID:
        raise ValidationFailed("The cursor is not valid.", field="cursor")
    return parsed


class ChatService:
    """Everything a learner does with chats and the tutor. One public method per use case."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        llm: LLMGateway,
        clock: Clock,
        policy: QuotaPolicy,
        budget: ContextBudget | None = None,
    ) -> None:
        self._uow = uow
        self._llm = llm
        self._clock = clock
        self._policy = policy
        self._budget = budget or ContextBudget()

    @property
    def policy(self) -> QuotaPolicy:
        return self._policy

    async def start_chat(
        self,
        user_id: int,
        *,
        title: str | None = None,
        mode: Mode = Mode.CONVERSATION,
        topic: str = "",
    ) -> Chat:
        """Open a new practice chat."""
        clean_topic = sanitize_topic(topic)
        name = _clean_title(title) or _default_title(mode, clean_topic)
        async with self._uow() as uow:
            chat = await uow.chats.add(
                user_id=user_id, title=name, mode=mode, topic=clean_topic, now=self._clock.now()
            )
            await uow.commit()
        return chat

    async def start_chat_with(
        self,
        user_id: int,
        message: str,
        *,
        title: str | None = None,
        mode: Mode = Mode.CONVERSATION,
        topic: str = "",
    ) -> tuple[ChatDetail, Exchange]:
        """Open a chat and send its first message (which counts). A refusal by the quota leaves no
        empty chat behind; a failed tutor call leaves the chat with the message marked ``failed``."""
        chat = await self.start_chat(user_id, title=title, mode=mode, topic=topic)
        try:
            exchange = await self.ask(user_id, chat.id, message)
        except QuotaExceeded:
            await self.delete_chat(user_id, chat.id)
            raise
        return await self.read_chat(user_id, chat.id), exchange

    async def list_chats(self, user_id: int, *, limit: int = 20, cursor: str | None = None) -> ChatPage:
        """The user's chats, most recently active first, ``limit`` at a time."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValidationFailed(f"limit must be between 1 and {MAX_PAGE_SIZE}.", field="limit")
        after = decode_cursor(cursor) if cursor else None
        async with self._uow(read_only=True) as uow:
            chats = await uow.chats.page(user_id, limit=limit + 1, after=after)
        items = tuple(chats[:limit])
        next_cursor = encode_cursor(items[-1]) if len(chats) > limit else None
        return ChatPage(items=items, next_cursor=next_cursor)

    async def read_chat(self, user_id: int, chat_id: int) -> ChatDetail:
        async with self._uow(read_only=True) as uow:
            chat = await _owned_chat(uow, user_id, chat_id)
            messages = await uow.messages.for_chat(chat_id)
        return ChatDetail(chat=chat, messages=tuple(messages))

    async def update_chat(
        self, user_id: int, chat_id: int, *, title: str | None = None, topic: str | None = None
    ) -> ChatDetail:
        new_title = None if title is None else _clean_title(title)
        if title is not None and not new_title:
            raise ValidationFailed("The title must not be empty.", field="title")
        new_topic = None if topic is None else sanitize_topic(topic)
        async with self._uow() as uow:
            chat = await uow.chats.update(
                user_id, chat_id, title=new_title, topic=new_topic, now=self._clock.now()
            )
            if chat is None:
                raise ChatNotFound
            messages = await uow.messages.for_chat(chat_id)
            await uow.commit()
        return ChatDetail(chat=chat, messages=tuple(messages))

    async def delete_chat(self, user_id: int, chat_id: int) -> None:
        async with self._uow() as uow:
            if not await uow.chats.delete(user_id, chat_id):
                raise ChatNotFound
            await uow.commit()

    async def quota(self, user_id: int) -> Quota:
        """What the user has left today."""
        now = self._clock.now()
        async with self._uow(read_only=True) as uow:
            limit = await daily_limit_of(uow, user_id, self._policy)
            used = await uow.quota.used(user_id, self._policy.day_of(now))
        return self._policy.quota(used=used, now=now, limit=limit)

    async def ask(
        self, user_id: int, chat_id: int, content: str, *, idempotency_key: str | None = None
    ) -> Exchange:
        """Send the learner's message and wait for the whole reply (counts against the quota)."""
        pending = await self.accept(user_id, chat_id, content, idempotency_key=idempotency_key)
        if isinstance(pending, Exchange):
            return pending
        try:
            completion = await self._llm.complete(pending.prompt)
        except BaseException:
            await run_to_completion(self._settle_failure(pending, partial=""))
            raise
        return await run_to_completion(self._store_reply(pending, completion.text, completion.model))

    async def accept(
        self, user_id: int, chat_id: int, content: str, *, idempotency_key: str | None = None
    ) -> PendingAsk | Exchange:
        """Take a quota slot and store the message, or replay an earlier result for the same key.

        Raises ``ChatNotFound``, ``QuotaExceeded``, ``ValidationFailed`` or ``Conflict`` (the same
        ``Idempotency-Key`` is still in flight) before anything is counted.
        """
        text = clean_content(content)
        now = self._clock.now()
        day = self._policy.day_of(now)
        # Reads first, outside the writing transaction: a database with a single writer
        # (SQLite) then holds its write lock only for the two writes below.
        async with self._uow(read_only=True) as uow:
            chat = await _owned_chat(uow, user_id, chat_id)
            limit = await daily_limit_of(uow, user_id, self._policy)
            history = await uow.messages.recent(chat_id, limit=self._budget.max_messages - 1)
        async with self._uow() as uow:
            if idempotency_key is not None:
                earlier = await uow.idempotency.claim(
                    user_id=user_id,
                    key=idempotency_key,
                    chat_id=chat_id,
                    now=now,
                    not_before=now - IDEMPOTENCY_WINDOW,
                    abandoned_before=now - IN_FLIGHT_LIMIT,
                )
                if earlier is not None:
                    return await self._replay(
                        uow, earlier.chat_id, chat_id, earlier.message_id, earlier.reply_id, user_id
                    )
            used = await uow.quota.consume(user_id, day, limit=limit)
            if used is None:
                spent = await uow.quota.used(user_id, day)
                raise QuotaExceeded(self._policy.quota(used=max(spent, limit), now=now, limit=limit))
            # Raises ChatNotFound if the chat was deleted since: the slot is rolled back with it.
            message = await uow.messages.add(chat_id, NewMessage(role=Role.USER, content=text), now=now)
            if idempotency_key is not None:
                await uow.idempotency.attach(user_id=user_id, key=idempotency_key, message_id=message.id)
            await uow.commit()
        prompt = build_prompt(
            mode=chat.mode, topic=chat.topic, history=[*history, message], budget=self._budget
        )
        return PendingAsk(
            user_id=user_id,
            chat_id=chat_id,
            message=message,
            prompt=prompt,
            day=day,
            quota=self._policy.quota(used=used, now=now, limit=limit),
            idempotency_key=idempotency_key,
        )

    def stream(self, pending: PendingAsk) -> ReplyStream[Delta | Done]:
        """Stream the reply to an accepted request: ``Delta``s, then one ``Done``.

        On an ``LLMError`` the slot is given back and the error re-raised. If the consumer stops
        early (the client went away), the upstream call is cancelled and the partial reply is
        stored as ``failed``; the slot is kept only if some text had already arrived. Closing
        the stream before reading from it gives the slot back.
        """
        return ReplyStream(self._events(pending), abandon=lambda: self._settle_failure(pending, partial=""))

    async def _events(self, pending: PendingAsk) -> AsyncGenerator[Delta | Done, None]:
        parts: list[str] = []
        finished = False
        try:
            upstream = self._llm.stream(pending.prompt)
            try:
                async for piece in upstream:
                    parts.append(piece)
                    yield Delta(piece)
            finally:
                await upstream.aclose()
            finished = True
        except LLMError:
            finished = True
            await run_to_completion(self._settle_failure(pending, partial=""))
            raise
        finally:
            if not finished:
                await run_to_completion(self._settle_failure(pending, partial="".join(parts)))
        exchange = await run_to_completion(
            self._store_reply(pending, "".join(parts), self._llm.model, delivered=True)
        )
        yield Done(exchange)

    # --- internals ---------------------------------------------------------------------------

    async def _replay(
        self,
        uow: UnitOfWork,
        stored_chat: int,
        chat_id: int,
        message_id: int | None,
        reply_id: int | None,
        user_id: int,
    ) -> Exchange:
        if stored_chat != chat_id:
            raise ValidationFailed(
                "This Idempotency-Key was already used for another chat.", field="Idempotency-Key"
            )
        if message_id is None or reply_id is None:
            raise Conflict("A request with this Idempotency-Key is still being processed.")
        message = await uow.messages.get(chat_id, message_id)
        reply = await uow.messages.get(chat_id, reply_id)
        if message is None or reply is None:
            raise ChatNotFound
        now = self._clock.now()
        limit = await daily_limit_of(uow, user_id, self._policy)
        used = await uow.quota.used(user_id, self._policy.day_of(now))
        quota = self._policy.quota(used=used, now=now, limit=limit)
        return Exchange(message=message, reply=reply, quota=quota)

    async def _store_reply(
        self, pending: PendingAsk, text: str, model: str, *, delivered: bool = False
    ) -> Exchange:
        """Store the tutor's reply. If the database cannot take it even after retries:
        a reply the learner never got is not charged (the slot is given back, the message marked
        ``failed``); a streamed reply they already read is kept as a ``failed`` partial reply
        and counts, like a stream the client left. ``StorageUnavailable`` is raised either way."""
        try:
            return await with_storage_retries(lambda: self._finish(pending, text, model))
        except StorageUnavailable as exc:
            if not exc.in_doubt:  # surely not stored
                await self._settle_failure(pending, partial=text if delivered else "")
            raise

    async def _settle_failure(self, pending: PendingAsk, *, partial: str) -> None:
        """Record a request that got no (complete) reply. If even that cannot be written, the
        caller's own error stays the one reported: the slot stays taken and the claimed
        Idempotency-Key is freed after ``IN_FLIGHT_LIMIT``."""
        await settle(lambda: self._fail(pending, partial=partial))

    async def _finish(self, pending: PendingAsk, text: str, model: str) -> Exchange:
        now = self._clock.now()
        async with self._uow() as uow:
            # Raises ChatNotFound if the chat was deleted while the tutor answered: nothing to
            # store the reply in. The tokens were spent, so the slot stays taken.
            reply = await uow.messages.add(
                pending.chat_id,
                NewMessage(role=Role.ASSISTANT, content=text, model=model),
                now=now,
            )
            if pending.idempotency_key is not None:
                await uow.idempotency.finish(
                    user_id=pending.user_id,
                    key=pending.idempotency_key,
                    message_id=pending.message.id,
                    reply_id=reply.id,
                )
            await uow.commit()
        return Exchange(message=pending.message, reply=reply, quota=pending.quota)

    async def _fail(self, pending: PendingAsk, *, partial: str) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            if not partial:
                await uow.quota.give_back(pending.user_id, pending.day)
                await uow.messages.set_status(pending.message.id, MessageStatus.FAILED)
            elif await uow.chats.get(pending.user_id, pending.chat_id) is not None:
                # Tokens were spent: the slot stays taken and the partial reply is kept as failed.
                await uow.messages.add(
                    pending.chat_id,
                    NewMessage(
                        role=Role.ASSISTANT,
                        content=partial,
                        status=MessageStatus.FAILED,
                        model=self._llm.model,
                    ),
                    now=now,
                )
            if pending.idempotency_key is not None:
                await uow.idempotency.release(
                    user_id=pending.user_id, key=pending.idempotency_key, message_id=pending.message.id
                )
            await uow.commit()


async def _owned_chat(uow: UnitOfWork, user_id: int, chat_id: int) -> Chat:
    chat = await uow.chats.get(user_id, chat_id)
    if chat is None:
        raise ChatNotFound
    return chat


async def daily_limit_of(uow: UnitOfWork, user_id: int, policy: QuotaPolicy) -> int:
    """The user's daily limit: their own override, else the policy's. Raises ``UserNotFound``."""
    user = await uow.users.get(user_id)
    if user is None:
        raise UserNotFound
    return policy.effective_limit(user.daily_limit)


def _clean_title(title: str | None) -> str:
    return " ".join((title or "").split())[:MAX_TITLE_CHARS]


def _default_title(mode: Mode, topic: str) -> str:
    if mode is Mode.INTERVIEW:
        return f"Interview: {topic}"[:MAX_TITLE_CHARS] if topic else "Job interview practice"
    return f"Conversation: {topic}"[:MAX_TITLE_CHARS] if topic else "Free conversation"
