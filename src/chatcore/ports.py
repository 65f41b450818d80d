"""Ports: what the use cases need from the outside world, as ``typing.Protocol``s.

Adapters implement them (``adapters.sql``, ``adapters.memory``, ``adapters.openai_llm``, ...) and must
translate their library's errors into :mod:`chatcore.errors` at the boundary. Every storage
port is reached through a :class:`UnitOfWork`, one transaction per ``async with`` block;
nothing slow (an LLM call, password hashing) may happen while one is open.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Literal, Protocol, Self

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


class Clock(Protocol):
    """Tells the time. Always aware (UTC)."""

    def now(self) -> datetime: ...


# --- the tutor ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Turn:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True, slots=True)
class Prompt:
    """What is sent to the tutor: the turns (system prompt first) and the practice settings.

    ``mode`` and ``topic`` are there for tutors that do not read the system prompt (the offline
    tutor); an LLM gets them through the system prompt, where the topic is delimited as data.
    """

    turns: tuple[Turn, ...]
    mode: Mode = Mode.CONVERSATION
    topic: str = ""


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    model: str


class LLMGateway(Protocol):
    """The tutor that writes replies. Raises only :class:`chatcore.errors.LLMError` subclasses."""

    @property
    def model(self) -> str:
        """The model name stored with replies (``offline-tutor`` for the built-in one)."""
        ...

    async def complete(self, prompt: Prompt) -> Completion:
        """The whole reply at once."""
        ...

    def stream(self, prompt: Prompt) -> AsyncGenerator[str, None]:
        """The reply as text deltas, in order. Closing the iterator early cancels the upstream call."""
        ...

    async def aclose(self) -> None:
        """Release connections; called once at shutdown."""
        ...


# --- storage --------------------------------------------------------------------------------


class UserRepository(Protocol):
    async def add(
        self,
        *,
        username: str,
        email: str | None,
        password_hash: str | None,
        now: datetime,
        is_admin: bool = False,
    ) -> User:
        """Store a new user. Usernames and e-mails are unique, compared case-insensitively;
        any number of users may have no e-mail (``None``).

        Raises ``UsernameTaken`` or ``EmailTaken``.
        """
        ...

    async def get(self, user_id: int) -> User | None: ...

    async def find_by_login(self, login: str) -> User | None:
        """The user whose username or e-mail equals ``login`` (case-insensitive)."""
        ...

    async def username_exists(self, username: str) -> bool: ...

    async def update(
        self,
        user_id: int,
        *,
        email: str | None = None,
        password_hash: str | None = None,
        is_admin: bool | None = None,
    ) -> User:
        """Change the given fields (``None`` = unchanged). Raises ``EmailTaken``, ``UserNotFound``."""
        ...

    async def set_daily_limit(self, user_id: int, limit: int | None) -> User:
        """Set (or with ``None`` clear) the per-user daily limit. Raises ``UserNotFound``."""
        ...


class IdentityRepository(Protocol):
    """Links between users and their accounts at external providers."""

    async def find_user_id(self, provider: Provider, subject: str) -> int | None: ...

    async def link(self, user_id: int, account: LinkedAccount) -> None:
        """Link an account. Raises ``Conflict`` if it is already linked to another user."""
        ...

    async def list_for(self, user_id: int) -> list[LinkedAccount]: ...


@dataclass(frozen=True, slots=True)
class ChatCursor:
    """Position after the last chat of a page (chats are ordered by ``updated_at, id`` descending)."""

    updated_at: datetime
    id: int


class ChatRepository(Protocol):
    """Chats, always scoped to their owner: another user's chat is simply absent."""

    async def add(self, *, user_id: int, title: str, mode: Mode, topic: str, now: datetime) -> Chat: ...

    async def get(self, user_id: int, chat_id: int) -> Chat | None: ...

    async def page(self, user_id: int, *, limit: int, after: ChatCursor | None) -> list[Chat]:
        """Up to ``limit`` chats, most recently updated first, strictly after ``after``."""
        ...

    async def update(
        self, user_id: int, chat_id: int, *, title: str | None, topic: str | None, now: datetime
    ) -> Chat | None: ...

    async def delete(self, user_id: int, chat_id: int) -> bool:
        """Delete a chat and its messages; ``False`` if there was no such chat of this user."""
        ...


class MessageRepository(Protocol):
    async def add(self, chat_id: int, message: NewMessage, *, now: datetime) -> Message:
        """Store a message and record it on its chat: ``message_count`` grows by one and
        ``updated_at`` moves to ``now`` (never back in time). Raises ``ChatNotFound`` when the
        chat is gone."""
        ...

    async def for_chat(self, chat_id: int) -> list[Message]:
        """Every message of a chat, oldest first."""
        ...

    async def recent(self, chat_id: int, *, limit: int, before: int | None = None) -> list[Message]:
        """The last ``limit`` messages of a chat (those with an id below ``before``, if given),
        oldest first."""
        ...

    async def get(self, chat_id: int, message_id: int) -> Message | None: ...

    async def set_status(self, message_id: int, status: MessageStatus) -> None: ...


class QuotaLedger(Protocol):
    """Counts chatbot requests per user and quota day. Must be exact under any concurrency."""

    async def consume(self, user_id: int, day: date, *, limit: int) -> int | None:
        """Take one slot if fewer than ``limit`` are used: the new count, or ``None`` if full.

        One atomic step: two concurrent calls can never both take the last slot.
        """
        ...

    async def give_back(self, user_id: int, day: date) -> None:
        """Return one slot; the count never goes below zero."""
        ...

    async def used(self, user_id: int, day: date) -> int: ...


class RefreshTokenRepository(Protocol):
    """Refresh tokens, stored only as hashes, grouped in rotation chains (``family``)."""

    async def add(self, record: RefreshRecord) -> None: ...

    async def find(self, token_hash: str) -> RefreshRecord | None: ...

    async def mark_used(self, token_hash: str) -> bool:
        """Atomically mark an unused, unrevoked token used; ``True`` only for the one caller that did."""
        ...

    async def revoke_family(self, family: str) -> None: ...

    async def revoke_user(self, user_id: int) -> None: ...

    async def purge_expired(self, now: datetime) -> int:
        """Delete the chains whose every token expired before ``now``; returns how many tokens.
        A chain with a live token is kept whole: any of its tokens, even expired, can still end
        it (logout) or give it away as stolen (reuse)."""
        ...


class ApiKeyRepository(Protocol):
    """Personal API keys, stored only as hashes."""

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
        """Store a key. With ``at_most``, raises ``TooManyApiKeys`` when the user already has that
        many; concurrent adds for one user cannot get past it together."""
        ...

    async def find(self, key_hash: str) -> ApiKey | None: ...

    async def record_use(self, key_id: int, *, now: datetime, unless_since: datetime) -> None:
        """Set ``last_used_at`` to ``now``, unless a use at or after ``unless_since`` is recorded
        (one conditional statement: a key used by many requests at once is written once)."""
        ...

    async def list_for(self, user_id: int) -> list[ApiKey]: ...

    async def delete(self, user_id: int, key_id: int) -> bool: ...


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """The outcome of a message POST made with an ``Idempotency-Key``; ids unset while in flight."""

    user_id: int
    key: str
    chat_id: int
    created_at: datetime
    message_id: int | None = None
    reply_id: int | None = None


class IdempotencyRepository(Protocol):
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
        """Atomically claim ``key`` for this user: ``None`` if this caller now owns it, else the
        existing record. Records created before ``not_before`` count as absent (and are replaced),
        and so do claims still in flight (no reply stored) created before ``abandoned_before``:
        their request died (a crash, a database outage) without finishing or releasing them.
        """
        ...

    async def attach(self, *, user_id: int, key: str, message_id: int) -> None:
        """Record the learner's message of the request that owns the claim (in the claiming
        transaction). ``finish`` and ``release`` then act only for that request: once a claim
        was taken over as abandoned, its first owner can no longer touch it."""
        ...

    async def finish(self, *, user_id: int, key: str, message_id: int, reply_id: int) -> None:
        """Store the reply of the claim's owner (the request whose ``message_id`` is attached)."""
        ...

    async def release(self, *, user_id: int, key: str, message_id: int) -> None:
        """Forget the claim of the request whose ``message_id`` is attached (it failed and may
        be retried)."""
        ...

    async def purge(self, *, before: datetime) -> int:
        """Delete the records created before ``before`` (they no longer replay); returns how many."""
        ...


class UnitOfWork(Protocol):
    """One transaction over every repository. Leaving the block without ``commit()`` rolls back."""

    users: UserRepository
    identities: IdentityRepository
    chats: ChatRepository
    messages: MessageRepository
    quota: QuotaLedger
    refresh_tokens: RefreshTokenRepository
    api_keys: ApiKeyRepository
    idempotency: IdempotencyRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """Opens units of work. ``read_only=True`` promises no writes (and no ``commit()``), so a
    database may serve it without taking a write lock (SQLite's single writer is the scarce
    resource) or without a transaction at all (PostgreSQL: each read sees the latest committed
    data, and the BEGIN/ROLLBACK round trips are saved)."""

    def __call__(self, *, read_only: bool = False) -> UnitOfWork: ...


class AttemptLimiter(Protocol):
    """Counts failed attempts per key (an account, a client address) across worker processes."""

    async def blocked_for(
        self, keys: Sequence[str], *, now: datetime, allowance: int = 0, limit: int | None = None
    ) -> int | None:
        """Seconds until ``keys`` may try again, or ``None`` when none of them is blocked.

        A key is blocked while it has at least ``limit + allowance`` failures within the window
        (``limit`` defaults to the limiter's own ``max_failures``). ``allowance=1`` asks about a
        key whose current attempt was already recorded.
        """
        ...

    async def record_failure(self, keys: Sequence[str], *, now: datetime) -> None: ...

    async def withdraw(self, keys: Sequence[str], *, at: datetime) -> None:
        """Forget one failure of each key recorded at ``at`` (an attempt counted before it was
        checked, that turned out right); nothing for a key without one."""
        ...

    async def reset(self, keys: Sequence[str]) -> None: ...

    async def purge(self, *, now: datetime) -> None:
        """Forget the failures that can no longer count (older than the window), for every key."""
        ...


# --- identity -------------------------------------------------------------------------------


class PasswordHasher(Protocol):
    """Slow, salted password hashing (Argon2id in production). Async: it must not block the loop."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_in: int


class TokenService(Protocol):
    """Signed, short-lived tokens: access tokens and purpose-bound ones (OAuth state, link)."""

    def issue_access(self, user_id: int, *, now: datetime) -> IssuedToken: ...

    def verify_access(self, token: str, *, now: datetime) -> int:
        """The user id of a valid access token. Raises ``InvalidToken``."""
        ...

    def issue_signed(self, purpose: str, subject: str, *, ttl: int, now: datetime) -> str:
        """A token for ``purpose`` (never ``"access"``: raises ``ValueError``), valid ``ttl`` seconds."""
        ...

    def verify_signed(self, purpose: str, token: str, *, now: datetime) -> str:
        """The subject of a valid token for ``purpose``. Raises ``InvalidToken`` (always for
        ``"access"``: an access token is never accepted as a purpose-bound one)."""
        ...


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    url: str
    state: str
    code_verifier: str


class OAuthProvider(Protocol):
    """An OAuth2 provider (GitHub, Kakao) with state and PKCE (S256)."""

    name: Provider

    async def authorization_request(self, *, redirect_uri: str) -> AuthorizationRequest: ...

    async def fetch_account(self, *, code: str, code_verifier: str, redirect_uri: str) -> LinkedAccount:
        """Exchange the code and read the provider's stable account id and login."""
        ...
