"""Storage ports: repositories reached through a :class:`UnitOfWork`, one transaction per
``async with`` block. Nothing slow (an LLM call, password hashing) may happen while one is open.
Adapters translate their library's errors into :mod:`chatcore.errors` at the boundary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Protocol, Self

from chatcore.learning import Correction, Feedback, Level, NotebookEntry, SavedScorecard, Scorecard
from chatcore.model import (
    ApiKey,
    AuditEntry,
    Chat,
    DayTotals,
    LinkedAccount,
    Message,
    MessageStatus,
    Mode,
    NewMessage,
    Provider,
    RefreshRecord,
    Role,
    UsageDay,
    User,
    UserOverview,
)


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
        is_active: bool | None = None,
    ) -> User:
        """Change the given fields (``None`` = unchanged). Raises ``EmailTaken``, ``UserNotFound``."""
        ...

    async def lock_active_admins(self) -> list[int]:
        """The ids of the active administrators, in id order, locked until the transaction ends
        (on PostgreSQL; SQLite's writing transactions take turns anyway): two concurrent changes
        that would each leave one administrator cannot both see two."""
        ...

    async def set_daily_limit(self, user_id: int, limit: int | None) -> User:
        """Set (or with ``None`` clear) the per-user daily limit. Raises ``UserNotFound``."""
        ...

    async def delete(self, user_id: int, *, joined_day: date | None = None) -> bool:
        """Delete the user and every row of theirs: chats, messages, notebook entries, scorecards,
        linked identities, refresh
        tokens, API keys, idempotency records, quota counters (their counts are first added to
        the anonymous per-day totals, :meth:`QuotaLedger.anonymous_totals`) and login-failure
        records kept under their id. ``False`` if there was no such user. ``joined_day``, the
        quota day the user joined, is counted among that day's anonymous sign-ups.

        Raises ``LastAdmin`` (and deletes nothing) when the user is the only active
        administrator; concurrent deletions of the last two administrators cannot both succeed.
        Audit entries keep their copied names; their ids of the user become ``None``.
        """
        ...


class IdentityRepository(Protocol):
    """Links between users and their accounts at external providers."""

    async def find_user_id(self, provider: Provider, subject: str) -> int | None: ...

    async def link(self, user_id: int, account: LinkedAccount) -> None:
        """Link an account. Raises ``Conflict`` if it is already linked to another user."""
        ...

    async def list_for(self, user_id: int) -> list[LinkedAccount]: ...

    async def unlink(self, user_id: int, provider: Provider) -> bool:
        """Remove the user's account of ``provider``; ``False`` if none is linked.

        Raises ``LastLoginMethod`` (and removes nothing) when the user has no password and no
        other linked account: concurrent unlinks cannot together leave the user without a way in.
        """
        ...


@dataclass(frozen=True, slots=True)
class OAuthState:
    """A login or link started with a provider, stored until its callback (single use).

    Only hashes are kept: of the ``state`` sent through the provider and of the random value in
    the starting browser's cookie. The PKCE verifier is derived from the two, so the database
    alone holds nothing that finishes a login."""

    state_hash: str
    browser_hash: str
    provider: Provider
    expires_at: datetime
    user_id: int | None = None
    """The signed-in user who is linking an account; ``None`` for a login."""


class OAuthRepository(Protocol):
    """Started OAuth logins (states) and the one-time codes that finish them, stored hashed."""

    async def add_state(self, state: OAuthState) -> None: ...

    async def take_state(
        self, *, state_hash: str, browser_hash: str, provider: Provider, now: datetime
    ) -> OAuthState | None:
        """Remove and return the unexpired state with these hashes of this provider; ``None``
        otherwise. Once only: of concurrent calls, one gets it. A state presented with another
        browser's hash is left in place (a stranger cannot spend someone else's login)."""
        ...

    async def add_code(self, *, code_hash: str, user_id: int, expires_at: datetime) -> None: ...

    async def use_code(self, code_hash: str, *, now: datetime) -> int | None:
        """The user id of an unused, unexpired code, which is used up by this call; ``None``
        otherwise (also for every concurrent caller but one)."""
        ...

    async def purge(self, *, now: datetime) -> int:
        """Delete the states and codes that expired before ``now``; returns how many."""
        ...


@dataclass(frozen=True, slots=True)
class ChatCursor:
    """Position after the last chat of a page (chats are ordered by ``updated_at, id`` descending)."""

    updated_at: datetime
    id: int


class ChatRepository(Protocol):
    """Chats, always scoped to their owner: another user's chat is simply absent."""

    async def add(
        self,
        *,
        user_id: int,
        title: str,
        mode: Mode,
        topic: str,
        now: datetime,
        level: Level = Level.INTERMEDIATE,
    ) -> Chat: ...

    async def get(self, user_id: int, chat_id: int) -> Chat | None: ...

    async def page(self, user_id: int, *, limit: int, after: ChatCursor | None) -> list[Chat]:
        """Up to ``limit`` chats, most recently updated first, strictly after ``after``."""
        ...

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
        """Change the given fields (``None`` = unchanged) and move ``updated_at`` to ``now``."""
        ...

    async def delete(self, user_id: int, chat_id: int) -> bool:
        """Delete a chat and its messages; ``False`` if there was no such chat of this user."""
        ...

    async def by_id(self, user_id: int, *, after: int | None, limit: int) -> list[Chat]:
        """Up to ``limit`` chats of the user with an id above ``after``, in id order (a stable
        keyset for reading everything page by page, unlike ``updated_at``, which moves)."""
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

    async def after(self, chat_id: int, *, after: int | None, limit: int) -> list[Message]:
        """Up to ``limit`` messages of a chat with an id above ``after``, oldest first."""
        ...

    async def get(self, chat_id: int, message_id: int) -> Message | None: ...

    async def set_status(self, message_id: int, status: MessageStatus) -> None: ...

    async def activity(self, user_id: int, *, since: datetime) -> list[Activity]:
        """The user's ``ok`` messages created at or after ``since``, in every chat, oldest first
        (what progress is computed from)."""
        ...

    async def ask_context(self, user_id: int, chat_id: int, *, limit: int) -> AskContext:
        """What asking the tutor reads first, in one read: the user, their chat ``chat_id``
        (``None`` when missing or another user's) and its last ``limit`` messages, oldest first
        (as :meth:`recent`; none without the chat)."""
        ...

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
        """Asking the tutor without an Idempotency-Key, read and write as one step: read what
        :meth:`ask_context` reads (``history`` messages, from before ``message``) and, only when
        the user exists, is active and owns the chat, take a slot with their limit (their
        ``daily_limit``, else ``default_limit``; as :meth:`QuotaLedger.consume`) and store
        ``message`` (as :meth:`add`), the message only when the slot was granted.
        ``CountedAsk.counted`` is ``None`` when nothing was taken (no such active user or chat of
        theirs, or the day full). Raises ``ChatNotFound`` when the chat goes away before the
        message is stored, taking no slot. The one write a ``one_write`` unit of work may make
        (PostgreSQL: one statement); databases with a single writer may read before taking
        their write lock."""
        ...

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
        """Claim the Idempotency-Key ``key`` of ``user_id`` for ``chat_id`` (as
        :meth:`IdempotencyRepository.claim`) and, once this caller owns it, take a slot and store
        ``message`` (as :meth:`ask_counted` does) and record the message on the claim (as
        :meth:`IdempotencyRepository.attach`), as one write in the unit of work's transaction.

        Returns the existing record when another request holds the key (nothing else done);
        ``(used, message)``; or ``None`` when ``limit`` slots are taken: no slot, no message,
        but the claim is taken, so the caller must leave the unit of work without ``commit()``
        (which undoes it). Raises ``ChatNotFound`` when the chat is gone (the unit of work must
        then be left without ``commit()`` too), or ``Conflict`` when the key stays held and
        released too fast to be read. Not fit for a ``one_write`` unit of work."""
        ...

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
        """Store the tutor's ``reply`` (as :meth:`add`) to the learner's message ``message_id`` of
        ``user_id``, keep the message's ``corrections`` in the notebook (as
        :meth:`NotebookRepository.add`) and, with ``idempotency_key``, record the reply on that
        claim (as :meth:`IdempotencyRepository.finish`): one atomic write. Raises ``ChatNotFound``
        (storing nothing) when the chat is gone. Like :meth:`ask_counted`, fit for a ``one_write``
        unit of work."""
        ...


@dataclass(frozen=True, slots=True)
class AskContext:
    """What :meth:`MessageRepository.ask_context` read: ``user`` is ``None`` when there is no such
    user, ``chat`` when the user has no such chat (and ``history`` is then empty). The
    ``history`` messages are what the tutor's context needs: without their feedback (``None``)."""

    user: User | None
    chat: Chat | None
    history: list[Message]


@dataclass(frozen=True, slots=True)
class CountedAsk:
    """What :meth:`MessageRepository.ask_counted` read (``context``, as :meth:`MessageRepository.ask_context`)
    and wrote: ``counted`` is ``(used, message)``, the day's count with the slot taken and the
    stored message, or ``None`` when no slot was taken."""

    context: AskContext
    counted: tuple[int, Message] | None


@dataclass(frozen=True, slots=True)
class Activity:
    """One stored ``ok`` message, as progress sees it."""

    at: datetime
    role: Role
    mode: Mode
    feedback: Feedback | None


class NotebookRepository(Protocol):
    """The corrections kept for review, always scoped to their owner."""

    async def add(
        self,
        *,
        user_id: int,
        chat_id: int,
        message_id: int,
        corrections: tuple[Correction, ...],
        now: datetime,
    ) -> None:
        """Keep ``corrections`` (in their order) of the learner's message ``message_id``."""
        ...

    async def page(self, user_id: int, *, before: int | None, limit: int) -> list[NotebookEntry]:
        """Up to ``limit`` entries with an id below ``before`` (all when ``None``), newest first."""
        ...

    async def set_reviewed(self, user_id: int, entry_id: int, reviewed: bool) -> NotebookEntry | None:
        """Mark an entry (not) reviewed; ``None`` when the user has no such entry."""
        ...


class ScorecardRepository(Protocol):
    """Interview scorecards, always scoped to their owner; they go with their chat."""

    async def add(self, *, user_id: int, chat_id: int, scorecard: Scorecard, now: datetime) -> SavedScorecard:
        """Store a scorecard. Raises ``ChatNotFound`` when the chat is gone."""
        ...

    async def latest(self, user_id: int, chat_id: int) -> SavedScorecard | None: ...

    async def for_chat(self, user_id: int, chat_id: int) -> list[SavedScorecard]:
        """Every scorecard of the chat, oldest first."""
        ...


class QuotaLedger(Protocol):
    """Counts chatbot requests per user and quota day. Must be exact under any concurrency."""

    async def consume(self, user_id: int, day: date, *, limit: int) -> int | None:
        """Take one slot if fewer than ``limit`` are used: the new count, or ``None`` if full.

        One atomic step: two concurrent calls can never both take the last slot.
        """
        ...

    async def give_back(self, user_id: int, day: date, *, failure: str | None = None) -> None:
        """Return one slot; the count never goes below zero. With ``failure`` (the tutor's
        failure code, ``LLMError.failure``) the slot comes back after an upstream failure: the
        user's failed requests of the day and the day's counter ``failure`` grow by one."""
        ...

    async def count_refusal(self, day: date) -> None:
        """Add one to the day's ``refused`` counter (a request refused by the quota)."""
        ...

    async def used(self, user_id: int, day: date) -> int: ...

    async def days(self, user_id: int) -> list[tuple[date, int]]:
        """Every quota day of the user with a count above zero, oldest first: ``(day, used)``."""
        ...

    async def anonymous_totals(self) -> list[tuple[date, int]]:
        """Requests per quota day of users who deleted their account, oldest first: all that
        remains of their usage, tied to no one."""
        ...


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


class AdminQueries(Protocol):
    """What administrators read about users and usage (SPEC §4.6): never chats or messages."""

    async def users(
        self, *, query: str | None, before: int | None, limit: int, today: date
    ) -> list[UserOverview]:
        """Up to ``limit`` users, newest (highest id) first, with an id below ``before``; with
        ``query``, only those whose username or e-mail contains it (case-insensitive).
        ``used_today`` is their count on the quota day ``today``."""
        ...

    async def user(self, user_id: int, *, today: date) -> UserOverview | None: ...

    async def usage(self, user_id: int, *, since: date) -> list[UsageDay]:
        """The user's quota days from ``since`` on with any request or failure, oldest first."""
        ...

    async def totals(self, *, since: date) -> list[DayTotals]:
        """Every quota day from ``since`` on with any usage or counter, oldest first; deleted
        accounts' usage is included from the anonymous totals."""
        ...

    async def joined_since(self, at: datetime) -> list[datetime]:
        """When each user who joined at or after ``at`` joined (to count new users per day)."""
        ...


class AuditLog(Protocol):
    """The append-only record of administrative actions: nothing is ever changed or removed."""

    async def append(
        self,
        *,
        at: datetime,
        admin_id: int | None,
        admin_name: str,
        action: str,
        target_user_id: int | None,
        target_name: str | None,
        before: dict[str, object] | None,
        after: dict[str, object] | None,
    ) -> AuditEntry: ...

    async def page(self, *, before: int | None, limit: int) -> list[AuditEntry]:
        """Up to ``limit`` entries, newest first, with an id below ``before``."""
        ...


class UnitOfWork(Protocol):
    """One transaction over every repository. Leaving the block without ``commit()`` rolls back
    (except the one write of a ``one_write`` unit of work, see :class:`UnitOfWorkFactory`)."""

    users: UserRepository
    identities: IdentityRepository
    oauth: OAuthRepository
    chats: ChatRepository
    messages: MessageRepository
    quota: QuotaLedger
    refresh_tokens: RefreshTokenRepository
    api_keys: ApiKeyRepository
    idempotency: IdempotencyRepository
    notebook: NotebookRepository
    scorecards: ScorecardRepository
    admin: AdminQueries
    audit: AuditLog

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
    data, and the BEGIN/ROLLBACK round trips are saved).

    ``one_write=True`` promises at most one writing call, an atomic one
    (:meth:`MessageRepository.ask_counted`, :meth:`MessageRepository.add_reply`), then
    ``commit()``: a database may then run each statement on its own, applied and durable as it
    returns (PostgreSQL: one statement, no BEGIN/COMMIT round trips), so leaving the block
    without ``commit()`` may not undo that write."""

    def __call__(self, *, read_only: bool = False, one_write: bool = False) -> UnitOfWork: ...
