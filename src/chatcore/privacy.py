"""A learner's rights over their data (SPEC §4.1): a copy of all of it, and erasure.

The export is one JSON document in a documented, versioned shape (``docs/privacy.md``)::

    {"format": "chatcore-export", "version": 1, "exported_at": ...,
     "profile": {...}, "linked_accounts": [...], "api_keys": [...], "quota_usage": [...],
     "chats": [{..., "level": ..., "messages": [{..., "feedback": ...}, ...],
                "scorecards": [...]}, ...],
     "notebook": [...]}

It is produced as a stream of text chunks: chats and their messages are read page by page
(keyset pagination on ids), each page in a short read-only unit of work that is closed before
the page is handed on, so no transaction stays open while a slow client reads, and memory holds
one page at a time however long the history is. Never in it: password hashes, token or key
secrets or hashes.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from chatcore.accounts import AccountService
from chatcore.errors import AccountGone, ValidationFailed
from chatcore.learning import NotebookEntry, SavedScorecard
from chatcore.model import ApiKey, Chat, LinkedAccount, Message, User
from chatcore.ports.clock import Clock
from chatcore.ports.security import AttemptLimiter
from chatcore.ports.storage import UnitOfWorkFactory
from chatcore.throttling import account_key

EXPORT_FORMAT = "chatcore-export"
EXPORT_VERSION = 1
CHAT_PAGE = 100
MESSAGE_PAGE = 500


@dataclass(frozen=True, slots=True)
class Export:
    """An export about to be streamed: ``user`` is whose it is, ``chunks`` the JSON text."""

    user: User
    chunks: AsyncIterator[str]


def _when(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _profile(user: User) -> dict[str, Any]:
    # Deliberately field by field: a field added to User later is not exported (a hash, say)
    # until someone decides it belongs to the learner's copy.
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "date_joined": _when(user.date_joined),
        "is_admin": user.is_admin,
        "daily_limit": user.daily_limit,
        "has_password": user.password_hash is not None,
    }


def _linked(account: LinkedAccount) -> dict[str, Any]:
    return {"provider": account.provider.value, "login": account.login}


def _api_key(key: ApiKey) -> dict[str, Any]:
    return {
        "name": key.name,
        "prefix": key.prefix,
        "created_at": _when(key.created_at),
        "last_used_at": _when(key.last_used_at),
    }


def _chat_head(chat: Chat) -> str:
    """The chat's JSON object up to the opening bracket of its ``messages`` list."""
    head = {
        "id": chat.id,
        "title": chat.title,
        "mode": chat.mode.value,
        "topic": chat.topic,
        "created_at": _when(chat.created_at),
        "updated_at": _when(chat.updated_at),
        "level": chat.level.value,
    }
    return _dump(head)[:-1] + ',"messages":['


def _message(message: Message) -> str:
    return _dump(
        {
            "id": message.id,
            "role": message.role.value,
            "content": message.content,
            "status": message.status.value,
            "model": message.model,
            "created_at": _when(message.created_at),
            "feedback": None if message.feedback is None else dataclasses.asdict(message.feedback),
        }
    )


def _scorecard(saved: SavedScorecard) -> dict[str, Any]:
    return {**dataclasses.asdict(saved.scorecard), "created_at": _when(saved.created_at)}


def _entry(entry: NotebookEntry) -> str:
    return _dump(
        {
            "id": entry.id,
            **dataclasses.asdict(entry.correction),
            "chat_id": entry.chat_id,
            "message_id": entry.message_id,
            "created_at": _when(entry.created_at),
            "reviewed": entry.reviewed,
        }
    )


class PrivacyService:
    """Export and erasure of one user's data. One public method per use case."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        accounts: AccountService,
        limiter: AttemptLimiter,
        clock: Clock,
        chat_page: int = CHAT_PAGE,
        message_page: int = MESSAGE_PAGE,
    ) -> None:
        self._uow = uow
        self._accounts = accounts
        self._limiter = limiter
        self._clock = clock
        self._chat_page = chat_page
        self._message_page = message_page

    async def export(self, user_id: int) -> Export:
        """Everything stored about the user, as JSON text chunks. Raises ``AccountGone`` now,
        before anything is streamed; the profile part is read at once, the chats as they go."""
        async with self._uow(read_only=True) as uow:
            user = await uow.users.get(user_id)
            if user is None:
                raise AccountGone
            linked = await uow.identities.list_for(user_id)
            keys = await uow.api_keys.list_for(user_id)
            usage = await uow.quota.days(user_id)
        head = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "exported_at": _when(self._clock.now()),
            "profile": _profile(user),
            "linked_accounts": [_linked(a) for a in linked],
            "api_keys": [_api_key(k) for k in keys],
            "quota_usage": [{"day": day.isoformat(), "used": used} for day, used in usage],
        }
        return Export(user=user, chunks=self._stream(user_id, _dump(head)[:-1] + ',"chats":['))

    async def _stream(self, user_id: int, head: str) -> AsyncIterator[str]:
        yield head
        first = True
        async for chat in self._chats(user_id):
            yield ("" if first else ",") + _chat_head(chat)
            first = False
            async for page in self._message_pages(chat.id):
                yield page
            async with self._uow(read_only=True) as uow:
                cards = await uow.scorecards.for_chat(user_id, chat.id)
            yield '],"scorecards":' + _dump([_scorecard(c) for c in cards]) + "}"
        yield '],"notebook":['
        async for page in self._notebook_pages(user_id):
            yield page
        yield "]}"

    async def _notebook_pages(self, user_id: int) -> AsyncIterator[str]:
        """The notebook, newest first (as the API lists it), page by page."""
        before: int | None = None
        first = True
        while True:
            async with self._uow(read_only=True) as uow:
                page = await uow.notebook.page(user_id, before=before, limit=self._message_page)
            if page:
                yield ("" if first else ",") + ",".join(_entry(e) for e in page)
                first = False
            if len(page) < self._message_page:
                return
            before = page[-1].id

    async def _chats(self, user_id: int) -> AsyncIterator[Chat]:
        after: int | None = None
        while True:
            async with self._uow(read_only=True) as uow:
                chats = await uow.chats.by_id(user_id, after=after, limit=self._chat_page)
            for chat in chats:  # the unit of work is closed: the client may be slow
                yield chat
            if len(chats) < self._chat_page:
                return
            after = chats[-1].id

    async def _message_pages(self, chat_id: int) -> AsyncIterator[str]:
        after: int | None = None
        first = True
        while True:
            async with self._uow(read_only=True) as uow:
                page = await uow.messages.after(chat_id, after=after, limit=self._message_page)
            if page:
                yield ("" if first else ",") + ",".join(_message(m) for m in page)
                first = False
            if len(page) < self._message_page:
                return
            after = page[-1].id

    async def delete_account(self, user_id: int, *, password: str | None, confirm: str | None) -> None:
        """Delete the user and everything of theirs, in one transaction.

        A user with a password confirms with it (:meth:`AccountService.confirm_password`: a
        wrong one is refused exactly as on a password change and draws on the same budget); a
        user without one (signed up through a provider) types their username as ``confirm``.
        Raises ``ValidationFailed``, ``TooManyAttempts``, ``LastAdmin``, ``AccountGone``.
        """
        async with self._uow(read_only=True) as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise AccountGone
        if user.password_hash is not None:
            await self._accounts.confirm_password(user_id, password or "")
        elif (confirm or "").strip().casefold() != user.username.casefold():
            raise ValidationFailed("Type your username to confirm the deletion.", field="confirm")
        async with self._uow() as uow:
            if not await uow.users.delete(user_id):
                raise AccountGone
            await uow.commit()
        # A SQL store dropped these in the transaction; a limiter elsewhere (Redis, memory) keeps
        # the failures counted under the user's id until told. Ids are never reused, so a miss
        # here would only leave rows that expire with their window.
        await self._limiter.reset((account_key(user_id),))
