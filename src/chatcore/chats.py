"""Chat management (SPEC §4.2): open, list, read, rename and delete practice chats.

Asking the tutor inside a chat, which counts against the quota, is :mod:`chatcore.tutoring`.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from chatcore.errors import ChatNotFound, ValidationFailed
from chatcore.learning import Level
from chatcore.model import Chat, ChatPage, Mode
from chatcore.ports.clock import Clock
from chatcore.ports.storage import ChatCursor, UnitOfWork, UnitOfWorkFactory
from chatcore.results import ChatDetail
from chatcore.tutor import sanitize_topic

MAX_TITLE_CHARS = 200
MAX_PAGE_SIZE = 100
MAX_MESSAGES_PAGE = 200
"""A chat is read ``MAX_MESSAGES_PAGE`` messages at a time, the latest first."""
MAX_ID = 2**31 - 1
"""Ids are 32-bit integers in every store (PostgreSQL ``integer``)."""


class ChatService:
    """A learner's chats. One public method per use case."""

    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def start_chat(
        self,
        user_id: int,
        *,
        title: str | None = None,
        mode: Mode = Mode.CONVERSATION,
        topic: str = "",
        level: Level = Level.INTERMEDIATE,
    ) -> Chat:
        """Open a new practice chat."""
        clean_topic = sanitize_topic(topic)
        name = _clean_title(title) or _default_title(mode, clean_topic)
        async with self._uow() as uow:
            chat = await uow.chats.add(
                user_id=user_id, title=name, mode=mode, topic=clean_topic, now=self._clock.now(), level=level
            )
            await uow.commit()
        return chat

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

    async def read_chat(
        self, user_id: int, chat_id: int, *, before: str | None = None, limit: int = MAX_MESSAGES_PAGE
    ) -> ChatDetail:
        """A chat with its latest ``limit`` messages (oldest first), or those before the cursor
        ``before`` (the ``older_cursor`` of a previous read)."""
        if not 1 <= limit <= MAX_MESSAGES_PAGE:
            raise ValidationFailed(f"limit must be between 1 and {MAX_MESSAGES_PAGE}.", field="limit")
        before_id = decode_message_cursor(before) if before else None
        async with self._uow(read_only=True) as uow:
            chat = await owned_chat(uow, user_id, chat_id)
            return await _detail(uow, chat, before=before_id, limit=limit)

    async def update_chat(
        self,
        user_id: int,
        chat_id: int,
        *,
        title: str | None = None,
        topic: str | None = None,
        level: Level | None = None,
    ) -> ChatDetail:
        """Rename a chat, change its topic or level; returns it as :meth:`read_chat` does."""
        new_title = None if title is None else _clean_title(title)
        if title is not None and not new_title:
            raise ValidationFailed("The title must not be empty.", field="title")
        new_topic = None if topic is None else sanitize_topic(topic)
        async with self._uow() as uow:
            chat = await uow.chats.update(
                user_id, chat_id, title=new_title, topic=new_topic, now=self._clock.now(), level=level
            )
            if chat is None:
                raise ChatNotFound
            detail = await _detail(uow, chat, before=None, limit=MAX_MESSAGES_PAGE)
            await uow.commit()
        return detail

    async def delete_chat(self, user_id: int, chat_id: int) -> None:
        """Delete a chat and its messages. Raises ``ChatNotFound``."""
        async with self._uow() as uow:
            if not await uow.chats.delete(user_id, chat_id):
                raise ChatNotFound
            await uow.commit()


async def owned_chat(uow: UnitOfWork, user_id: int, chat_id: int) -> Chat:
    """The chat if it is ``user_id``'s; another user's chat is ``ChatNotFound`` like a missing one."""
    chat = await uow.chats.get(user_id, chat_id)
    if chat is None:
        raise ChatNotFound
    return chat


async def _detail(uow: UnitOfWork, chat: Chat, *, before: int | None, limit: int) -> ChatDetail:
    # One more than asked tells whether older messages exist.
    messages = await uow.messages.recent(chat.id, limit=limit + 1, before=before)
    older = messages[0].id if len(messages) > limit else None
    page = tuple(messages[-limit:])
    return ChatDetail(
        chat=chat,
        messages=page,
        older_cursor=None if older is None else encode_message_cursor(page[0].id),
    )


def _b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _unb64(cursor: str) -> str:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()


def encode_cursor(chat: Chat) -> str:
    return _b64(f"{chat.updated_at.isoformat()}|{chat.id}")


def decode_cursor(cursor: str) -> ChatCursor:
    try:
        stamp, _, ident = _unb64(cursor).partition("|")
        when = datetime.fromisoformat(stamp)
        if when.tzinfo is None:
            raise ValueError("a cursor's instant is aware")
        parsed = ChatCursor(updated_at=when.astimezone(UTC), id=int(ident))
    except (ValueError, UnicodeDecodeError, binascii.Error, OverflowError) as exc:
        raise ValidationFailed("The cursor is not valid.", field="cursor") from exc
    if not 0 < parsed.id <= MAX_ID:
        raise ValidationFailed("The cursor is not valid.", field="cursor")
    return parsed


def encode_message_cursor(message_id: int) -> str:
    return _b64(f"m{message_id}")


def decode_message_cursor(cursor: str) -> int:
    """The message id a ``before`` cursor points at. Raises ``ValidationFailed``."""
    try:
        raw = _unb64(cursor)
        if not raw.startswith("m") or not raw[1:].isdigit():
            raise ValueError("not a message cursor")
        message_id = int(raw[1:])
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise ValidationFailed("The cursor is not valid.", field="before") from exc
    if not 0 < message_id <= MAX_ID:
        raise ValidationFailed("The cursor is not valid.", field="before")
    return message_id


def _clean_title(title: str | None) -> str:
    return " ".join((title or "").split())[:MAX_TITLE_CHARS]


def _default_title(mode: Mode, topic: str) -> str:
    if mode is Mode.INTERVIEW:
        return f"Interview: {topic}"[:MAX_TITLE_CHARS] if topic else "Job interview practice"
    return f"Conversation: {topic}"[:MAX_TITLE_CHARS] if topic else "Free conversation"
