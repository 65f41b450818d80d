"""In-memory repositories over :class:`~adapters.memory.tables.Tables`."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from adapters.memory.tables import OAuthCode, Tables
from chatcore.errors import (
    ChatNotFound,
    Conflict,
    EmailTaken,
    LastAdmin,
    LastLoginMethod,
    TooManyApiKeys,
    UsernameTaken,
    UserNotFound,
)
from chatcore.learning import Correction, Level, NotebookEntry, SavedScorecard, Scorecard
from chatcore.model import (
    ApiKey,
    Chat,
    LinkedAccount,
    Message,
    MessageStatus,
    Mode,
    NewMessage,
    Provider,
    RefreshRecord,
    User,
)
from chatcore.ports.storage import (
    Activity,
    AskContext,
    ChatCursor,
    CountedAsk,
    IdempotencyRecord,
    OAuthState,
)


class _Repo:
    def __init__(self, tables: Tables) -> None:
        self._t = tables


class MemoryUserRepository(_Repo):
    def _check_unique(self, *, username: str | None, email: str | None, exclude: int | None) -> None:
        for user in self._t.users.values():
            if user.id == exclude:
                continue
            if username is not None and user.username.casefold() == username.casefold():
                raise UsernameTaken
            if email is not None and user.email is not None and user.email.casefold() == email.casefold():
                raise EmailTaken

    async def add(
        self,
        *,
        username: str,
        email: str | None,
        password_hash: str | None,
        now: datetime,
        is_admin: bool = False,
    ) -> User:
        self._check_unique(username=username, email=email, exclude=None)
        user = User(
            id=self._t.next_id("users"),
            username=username,
            email=email,
            password_hash=password_hash,
            date_joined=now,
            is_admin=is_admin,
        )
        self._t.users[user.id] = user
        return user

    async def get(self, user_id: int) -> User | None:
        return self._t.users.get(user_id)

    async def find_by_login(self, login: str) -> User | None:
        key = login.casefold()
        for user in self._t.users.values():
            if user.username.casefold() == key or (user.email or "").casefold() == key:
                return user
        return None

    async def username_exists(self, username: str) -> bool:
        key = username.casefold()
        return any(u.username.casefold() == key for u in self._t.users.values())

    async def update(
        self,
        user_id: int,
        *,
        email: str | None = None,
        password_hash: str | None = None,
        is_admin: bool | None = None,
        is_active: bool | None = None,
    ) -> User:
        user = self._t.users.get(user_id)
        if user is None:
            raise UserNotFound
        if email is not None:
            self._check_unique(username=None, email=email, exclude=user_id)
            user = replace(user, email=email)
        if password_hash is not None:
            user = replace(user, password_hash=password_hash)
        if is_admin is not None:
            user = replace(user, is_admin=is_admin)
        if is_active is not None:
            user = replace(user, is_active=is_active)
        self._t.users[user_id] = user
        return user

    async def lock_active_admins(self) -> list[int]:
        # A memory unit of work holds the store's lock: it is serialisable already.
        return sorted(u.id for u in self._t.users.values() if u.is_admin and u.is_active)

    async def set_daily_limit(self, user_id: int, limit: int | None) -> User:
        user = self._t.users.get(user_id)
        if user is None:
            raise UserNotFound
        user = replace(user, daily_limit=limit)
        self._t.users[user_id] = user
        return user

    async def delete(self, user_id: int, *, joined_day: date | None = None) -> bool:
        user = self._t.users.get(user_id)
        if user is None:
            return False
        if user.is_admin and user.is_active and await self.lock_active_admins() == [user_id]:
            raise LastAdmin
        t = self._t
        for (owner, day), used in list(t.quota.items()):
            if owner == user_id:
                if used > 0:
                    t.anonymous_usage[day] = t.anonymous_usage.get(day, 0) + used
                    t.anonymous_users[day] = t.anonymous_users.get(day, 0) + 1
                del t.quota[(owner, day)]
        if joined_day is not None:
            day = joined_day.isoformat()
            t.anonymous_joined[day] = t.anonymous_joined.get(day, 0) + 1
        t.failed = {k: n for k, n in t.failed.items() if k[0] != user_id}
        t.audit = {
            k: replace(
                e,
                admin_id=None if e.admin_id == user_id else e.admin_id,
                target_user_id=None if e.target_user_id == user_id else e.target_user_id,
            )
            for k, e in t.audit.items()
        }
        chat_ids = {c.id for c in t.chats.values() if c.user_id == user_id}
        t.chats = {k: c for k, c in t.chats.items() if c.id not in chat_ids}
        t.messages = {k: m for k, m in t.messages.items() if m.chat_id not in chat_ids}
        t.notebook = {k: e for k, e in t.notebook.items() if e.user_id != user_id}
        t.scorecards = {k: c for k, c in t.scorecards.items() if c.user_id != user_id}
        t.identities = {k: v for k, v in t.identities.items() if v[0] != user_id}
        t.refresh_tokens = {k: r for k, r in t.refresh_tokens.items() if r.user_id != user_id}
        t.api_keys = {k: v for k, v in t.api_keys.items() if v[0].user_id != user_id}
        t.idempotency = {k: r for k, r in t.idempotency.items() if r.user_id != user_id}
        t.oauth_states = {k: s for k, s in t.oauth_states.items() if s.user_id != user_id}
        t.oauth_codes = {k: c for k, c in t.oauth_codes.items() if c.user_id != user_id}
        del t.users[user_id]
        return True


class MemoryIdentityRepository(_Repo):
    async def find_user_id(self, provider: Provider, subject: str) -> int | None:
        found = self._t.identities.get((provider.value, subject))
        return None if found is None else found[0]

    async def link(self, user_id: int, account: LinkedAccount) -> None:
        key = (account.provider.value, account.subject)
        existing = self._t.identities.get(key)
        if existing is not None and existing[0] != user_id:
            raise Conflict("This account is already linked to another user.")
        self._t.identities[key] = (user_id, account)

    async def list_for(self, user_id: int) -> list[LinkedAccount]:
        found = [acc for uid, acc in self._t.identities.values() if uid == user_id]
        return sorted(found, key=lambda a: (a.provider.value, a.subject))

    async def unlink(self, user_id: int, provider: Provider) -> bool:
        mine = {k: acc for k, (uid, acc) in self._t.identities.items() if uid == user_id}
        gone = [k for k, acc in mine.items() if acc.provider == provider]
        if not gone:
            return False
        user = self._t.users.get(user_id)
        if (user is None or user.password_hash is None) and len(mine) == len(gone):
            raise LastLoginMethod
        for key in gone:
            del self._t.identities[key]
        return True


class MemoryOAuthRepository(_Repo):
    async def add_state(self, state: OAuthState) -> None:
        self._t.oauth_states[state.state_hash] = state

    async def take_state(
        self, *, state_hash: str, browser_hash: str, provider: Provider, now: datetime
    ) -> OAuthState | None:
        found = self._t.oauth_states.get(state_hash)
        if (
            found is None
            or found.browser_hash != browser_hash
            or found.provider != provider
            or found.expires_at <= now
        ):
            return None
        del self._t.oauth_states[state_hash]
        return found

    async def add_code(self, *, code_hash: str, user_id: int, expires_at: datetime) -> None:
        self._t.oauth_codes[code_hash] = OAuthCode(user_id=user_id, expires_at=expires_at)

    async def use_code(self, code_hash: str, *, now: datetime) -> int | None:
        found = self._t.oauth_codes.get(code_hash)
        if found is None or found.used or found.expires_at <= now:
            return None
        self._t.oauth_codes[code_hash] = replace(found, used=True)
        return found.user_id

    async def purge(self, *, now: datetime) -> int:
        states = {k: s for k, s in self._t.oauth_states.items() if s.expires_at >= now}
        codes = {k: c for k, c in self._t.oauth_codes.items() if c.expires_at >= now}
        purged = len(self._t.oauth_states) - len(states) + len(self._t.oauth_codes) - len(codes)
        self._t.oauth_states, self._t.oauth_codes = states, codes
        return purged


class MemoryChatRepository(_Repo):
    async def add(
        self,
        *,
        user_id: int,
        title: str,
        mode: Mode,
        topic: str,
        now: datetime,
        level: Level = Level.INTERMEDIATE,
    ) -> Chat:
        chat = Chat(
            level=level,
            id=self._t.next_id("chats"),
            user_id=user_id,
            title=title,
            mode=mode,
            topic=topic,
            created_at=now,
            updated_at=now,
        )
        self._t.chats[chat.id] = chat
        return chat

    async def get(self, user_id: int, chat_id: int) -> Chat | None:
        chat = self._t.chats.get(chat_id)
        return chat if chat is not None and chat.user_id == user_id else None

    async def page(self, user_id: int, *, limit: int, after: ChatCursor | None) -> list[Chat]:
        mine = [c for c in self._t.chats.values() if c.user_id == user_id]
        if after is not None:
            mine = [c for c in mine if (c.updated_at, c.id) < (after.updated_at, after.id)]
        mine.sort(key=lambda c: (c.updated_at, c.id), reverse=True)
        return mine[:limit]

    async def by_id(self, user_id: int, *, after: int | None, limit: int) -> list[Chat]:
        mine = sorted(
            (c for c in self._t.chats.values() if c.user_id == user_id and (after is None or c.id > after)),
            key=lambda c: c.id,
        )
        return mine[:limit]

    async def update(
        self,
        user_id: int,
        chat_id: int,
        *,
        title: str | None,
        topic: str | None,
        now: datetime,
        level: Level | None = None,
    ) -> Chat | None:
        chat = await self.get(user_id, chat_id)
        if chat is None:
            return None
        chat = replace(
            chat,
            level=chat.level if level is None else level,
            title=chat.title if title is None else title,
            topic=chat.topic if topic is None else topic,
            updated_at=now,
        )
        self._t.chats[chat_id] = chat
        return chat

    async def delete(self, user_id: int, chat_id: int) -> bool:
        if await self.get(user_id, chat_id) is None:
            return False
        del self._t.chats[chat_id]
        for message_id in [m.id for m in self._t.messages.values() if m.chat_id == chat_id]:
            del self._t.messages[message_id]
        for key in [k for k, r in self._t.idempotency.items() if r.chat_id == chat_id]:
            del self._t.idempotency[key]
        self._t.notebook = {k: e for k, e in self._t.notebook.items() if e.chat_id != chat_id}
        self._t.scorecards = {k: c for k, c in self._t.scorecards.items() if c.chat_id != chat_id}
        return True


class MemoryMessageRepository(_Repo):
    async def add(self, chat_id: int, message: NewMessage, *, now: datetime) -> Message:
        chat = self._t.chats.get(chat_id)
        if chat is None:
            raise ChatNotFound
        self._t.chats[chat_id] = replace(
            chat, updated_at=max(chat.updated_at, now), message_count=chat.message_count + 1
        )
        stored = Message(
            id=self._t.next_id("messages"),
            chat_id=chat_id,
            role=message.role,
            content=message.content,
            created_at=now,
            status=message.status,
            model=message.model,
            feedback=message.feedback,
        )
        self._t.messages[stored.id] = stored
        return stored

    async def for_chat(self, chat_id: int) -> list[Message]:
        return sorted((m for m in self._t.messages.values() if m.chat_id == chat_id), key=lambda m: m.id)

    async def recent(self, chat_id: int, *, limit: int, before: int | None = None) -> list[Message]:
        earlier = [m for m in await self.for_chat(chat_id) if before is None or m.id < before]
        return earlier[-limit:] if limit > 0 else []

    async def after(self, chat_id: int, *, after: int | None, limit: int) -> list[Message]:
        later = [m for m in await self.for_chat(chat_id) if after is None or m.id > after]
        return later[:limit]

    async def get(self, chat_id: int, message_id: int) -> Message | None:
        message = self._t.messages.get(message_id)
        return message if message is not None and message.chat_id == chat_id else None

    async def set_status(self, message_id: int, status: MessageStatus) -> None:
        message = self._t.messages.get(message_id)
        if message is not None:
            self._t.messages[message_id] = replace(message, status=status)

    async def activity(self, user_id: int, *, since: datetime) -> list[Activity]:
        modes = {c.id: c.mode for c in self._t.chats.values() if c.user_id == user_id}
        found = [
            m
            for m in self._t.messages.values()
            if m.chat_id in modes and m.status is MessageStatus.OK and m.created_at >= since
        ]
        found.sort(key=lambda m: m.id)
        return [
            Activity(at=m.created_at, role=m.role, mode=modes[m.chat_id], feedback=m.feedback) for m in found
        ]

    async def ask_context(self, user_id: int, chat_id: int, *, limit: int) -> AskContext:
        user = self._t.users.get(user_id)
        chat = self._t.chats.get(chat_id)
        if chat is None or chat.user_id != user_id:
            return AskContext(user=user, chat=None, history=[])
        history = [replace(m, feedback=None) for m in await self.recent(chat_id, limit=limit)]
        return AskContext(user=user, chat=chat, history=history)

    async def _counted(
        self, user_id: int, chat_id: int, message: NewMessage, *, day: date, limit: int, now: datetime
    ) -> tuple[int, Message] | None:
        """The slot and the message, in the unit of work (its rollback undoes both)."""
        if chat_id not in self._t.chats:
            raise ChatNotFound
        used = await MemoryQuotaLedger(self._t).consume(user_id, day, limit=limit)
        if used is None:
            return None
        return used, await self.add(chat_id, message, now=now)

    async def ask_counted(
        self,
        user_id: int,
        chat_id: int,
        message: NewMessage,
        *,
        day: date,
        default_limit: int,
        history: int,
        now: datetime,
    ) -> CountedAsk:
        context = await self.ask_context(user_id, chat_id, limit=history)
        user = context.user
        if user is None or not user.is_active or context.chat is None:
            return CountedAsk(context=context, counted=None)
        limit = default_limit if user.daily_limit is None else user.daily_limit
        counted = await self._counted(user_id, chat_id, message, day=day, limit=limit, now=now)
        return CountedAsk(context=context, counted=counted)

    async def add_claimed(
        self,
        user_id: int,
        chat_id: int,
        message: NewMessage,
        *,
        key: str,
        day: date,
        limit: int,
        now: datetime,
        not_before: datetime,
        abandoned_before: datetime | None = None,
    ) -> tuple[int, Message] | IdempotencyRecord | None:
        claims = MemoryIdempotencyRepository(self._t)
        earlier = await claims.claim(
            user_id=user_id,
            key=key,
            chat_id=chat_id,
            now=now,
            not_before=not_before,
            abandoned_before=abandoned_before,
        )
        if earlier is not None:
            return earlier
        counted = await self._counted(user_id, chat_id, message, day=day, limit=limit, now=now)
        if counted is not None:
            await claims.attach(user_id=user_id, key=key, message_id=counted[1].id)
        return counted

    async def add_reply(
        self,
        chat_id: int,
        reply: NewMessage,
        *,
        now: datetime,
        user_id: int,
        message_id: int,
        corrections: tuple[Correction, ...] = (),
        idempotency_key: str | None = None,
    ) -> Message:
        stored = await self.add(chat_id, reply, now=now)
        await MemoryNotebookRepository(self._t).add(
            user_id=user_id, chat_id=chat_id, message_id=message_id, corrections=corrections, now=now
        )
        if idempotency_key is not None:
            await MemoryIdempotencyRepository(self._t).finish(
                user_id=user_id, key=idempotency_key, message_id=message_id, reply_id=stored.id
            )
        return stored


class MemoryNotebookRepository(_Repo):
    async def add(
        self,
        *,
        user_id: int,
        chat_id: int,
        message_id: int,
        corrections: tuple[Correction, ...],
        now: datetime,
    ) -> None:
        for correction in corrections:
            entry = NotebookEntry(
                id=self._t.next_id("notebook"),
                user_id=user_id,
                chat_id=chat_id,
                message_id=message_id,
                correction=correction,
                created_at=now,
            )
            self._t.notebook[entry.id] = entry

    async def page(self, user_id: int, *, before: int | None, limit: int) -> list[NotebookEntry]:
        mine = [
            e for e in self._t.notebook.values() if e.user_id == user_id and (before is None or e.id < before)
        ]
        mine.sort(key=lambda e: e.id, reverse=True)
        return mine[:limit]

    async def set_reviewed(self, user_id: int, entry_id: int, reviewed: bool) -> NotebookEntry | None:
        entry = self._t.notebook.get(entry_id)
        if entry is None or entry.user_id != user_id:
            return None
        entry = self._t.notebook[entry_id] = replace(entry, reviewed=reviewed)
        return entry


class MemoryScorecardRepository(_Repo):
    async def add(self, *, user_id: int, chat_id: int, scorecard: Scorecard, now: datetime) -> SavedScorecard:
        chat = self._t.chats.get(chat_id)
        if chat is None or chat.user_id != user_id:
            raise ChatNotFound
        saved = SavedScorecard(
            id=self._t.next_id("scorecards"),
            user_id=user_id,
            chat_id=chat_id,
            scorecard=scorecard,
            created_at=now,
        )
        self._t.scorecards[saved.id] = saved
        return saved

    async def latest(self, user_id: int, chat_id: int) -> SavedScorecard | None:
        found = await self.for_chat(user_id, chat_id)
        return found[-1] if found else None

    async def for_chat(self, user_id: int, chat_id: int) -> list[SavedScorecard]:
        return sorted(
            (c for c in self._t.scorecards.values() if c.user_id == user_id and c.chat_id == chat_id),
            key=lambda c: c.id,
        )


class MemoryQuotaLedger(_Repo):
    async def consume(self, user_id: int, day: date, *, limit: int) -> int | None:
        key = (user_id, day.isoformat())
        used = self._t.quota.get(key, 0)
        if used >= limit:
            return None
        self._t.quota[key] = used + 1
        return used + 1

    async def give_back(self, user_id: int, day: date, *, failure: str | None = None) -> None:
        key = (user_id, day.isoformat())
        used = self._t.quota.get(key, 0)
        self._t.quota[key] = max(used - 1, 0)
        if failure is not None and used > 0:
            self._t.failed[key] = self._t.failed.get(key, 0) + 1
            event = (day.isoformat(), failure)
            self._t.day_events[event] = self._t.day_events.get(event, 0) + 1

    async def count_refusal(self, day: date) -> None:
        event = (day.isoformat(), "refused")
        self._t.day_events[event] = self._t.day_events.get(event, 0) + 1

    async def used(self, user_id: int, day: date) -> int:
        return self._t.quota.get((user_id, day.isoformat()), 0)

    async def days(self, user_id: int) -> list[tuple[date, int]]:
        found = [
            (date.fromisoformat(d), n) for (uid, d), n in self._t.quota.items() if uid == user_id and n > 0
        ]
        return sorted(found)

    async def anonymous_totals(self) -> list[tuple[date, int]]:
        return sorted((date.fromisoformat(d), n) for d, n in self._t.anonymous_usage.items())


class MemoryRefreshTokenRepository(_Repo):
    async def add(self, record: RefreshRecord) -> None:
        self._t.refresh_tokens[record.token_hash] = record

    async def find(self, token_hash: str) -> RefreshRecord | None:
        return self._t.refresh_tokens.get(token_hash)

    async def mark_used(self, token_hash: str) -> bool:
        record = self._t.refresh_tokens.get(token_hash)
        if record is None or record.used or record.revoked:
            return False
        self._t.refresh_tokens[token_hash] = replace(record, used=True)
        return True

    async def revoke_family(self, family: str) -> None:
        for key, record in list(self._t.refresh_tokens.items()):
            if record.family == family:
                self._t.refresh_tokens[key] = replace(record, revoked=True)

    async def revoke_user(self, user_id: int) -> None:
        for key, record in list(self._t.refresh_tokens.items()):
            if record.user_id == user_id:
                self._t.refresh_tokens[key] = replace(record, revoked=True)

    async def purge_expired(self, now: datetime) -> int:
        live = {record.family for record in self._t.refresh_tokens.values() if record.expires_at >= now}
        expired = [
            key
            for key, record in self._t.refresh_tokens.items()
            if record.expires_at < now and record.family not in live
        ]
        for key in expired:
            del self._t.refresh_tokens[key]
        return len(expired)


class MemoryApiKeyRepository(_Repo):
    async def add(
        self,
        *,
        user_id: int,
        name: str,
        prefix: str,
        key_hash: str,
        now: datetime,
        at_most: int | None = None,
    ) -> ApiKey:
        if at_most is not None and len(await self.list_for(user_id)) >= at_most:
            raise TooManyApiKeys
        key = ApiKey(
            id=self._t.next_id("api_keys"),
            user_id=user_id,
            name=name,
            prefix=prefix,
            created_at=now,
        )
        self._t.api_keys[key.id] = (key, key_hash)
        return key

    async def find(self, key_hash: str) -> ApiKey | None:
        key = next((k for k, h in self._t.api_keys.values() if h == key_hash), None)
        owner = None if key is None else self._t.users.get(key.user_id)
        return key if owner is not None and owner.is_active else None

    async def record_use(self, key_id: int, *, now: datetime, unless_since: datetime) -> None:
        found = self._t.api_keys.get(key_id)
        if found is None:
            return
        key, key_hash = found
        if key.last_used_at is None or key.last_used_at < unless_since:
            self._t.api_keys[key_id] = (replace(key, last_used_at=now), key_hash)

    async def list_for(self, user_id: int) -> list[ApiKey]:
        return sorted((k for k, _ in self._t.api_keys.values() if k.user_id == user_id), key=lambda k: k.id)

    async def delete(self, user_id: int, key_id: int) -> bool:
        found = self._t.api_keys.get(key_id)
        if found is None or found[0].user_id != user_id:
            return False
        del self._t.api_keys[key_id]
        return True


class MemoryIdempotencyRepository(_Repo):
    async def claim(
        self,
        *,
        user_id: int,
        key: str,
        chat_id: int,
        now: datetime,
        not_before: datetime,
        abandoned_before: datetime | None = None,
    ) -> IdempotencyRecord | None:
        existing = self._t.idempotency.get((user_id, key))
        abandoned = (
            existing is not None
            and abandoned_before is not None
            and existing.reply_id is None
            and existing.created_at < abandoned_before
        )
        if existing is not None and existing.created_at >= not_before and not abandoned:
            return existing
        self._t.idempotency[(user_id, key)] = IdempotencyRecord(
            user_id=user_id, key=key, chat_id=chat_id, created_at=now
        )
        return None

    async def attach(self, *, user_id: int, key: str, message_id: int) -> None:
        record = self._t.idempotency.get((user_id, key))
        if record is not None:
            self._t.idempotency[(user_id, key)] = replace(record, message_id=message_id)

    async def finish(self, *, user_id: int, key: str, message_id: int, reply_id: int) -> None:
        record = self._t.idempotency.get((user_id, key))
        if record is not None and record.message_id == message_id:
            self._t.idempotency[(user_id, key)] = replace(record, reply_id=reply_id)

    async def release(self, *, user_id: int, key: str, message_id: int) -> None:
        record = self._t.idempotency.get((user_id, key))
        if record is not None and record.message_id == message_id:
            del self._t.idempotency[(user_id, key)]

    async def purge(self, *, before: datetime) -> int:
        old = [key for key, record in self._t.idempotency.items() if record.created_at < before]
        for key in old:
            del self._t.idempotency[key]
        return len(old)
