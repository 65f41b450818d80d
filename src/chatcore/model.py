"""Domain model: users, chats, messages and the quota a user has left, as frozen, slotted dataclasses.

Identifiers are integers assigned by the storage adapter when a row is added.
Timestamps are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime


class Role(enum.StrEnum):
    """Who wrote a message."""

    USER = "user"
    ASSISTANT = "assistant"


class Mode(enum.StrEnum):
    """Practice mode of a chat (SPEC §7)."""

    CONVERSATION = "conversation"
    INTERVIEW = "interview"


class MessageStatus(enum.StrEnum):
    """``ok`` once stored normally; ``failed`` when the tutor could not answer it (SPEC §6)."""

    OK = "ok"
    FAILED = "failed"


class Provider(enum.StrEnum):
    """External identity providers a user can sign in with."""

    GITHUB = "github"
    KAKAO = "kakao"


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    email: str | None
    """``None`` for an account made without one (``create-admin``, a provider that gave none)."""
    password_hash: str | None
    date_joined: datetime
    is_admin: bool = False
    daily_limit: int | None = None
    """Per-user override of the daily quota; ``None`` means the policy's default."""
    is_active: bool = True
    """``False`` once an administrator deactivated the account: it can no longer sign in, and its
    tokens and API keys stop working (SPEC §4.1, §4.6)."""


@dataclass(frozen=True, slots=True)
class LinkedAccount:
    provider: Provider
    subject: str
    """The provider's stable numeric account id (never the e-mail)."""
    login: str


@dataclass(frozen=True, slots=True)
class Chat:
    id: int
    user_id: int
    title: str
    mode: Mode
    topic: str
    created_at: datetime
    updated_at: datetime
    message_count: int = 0


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    chat_id: int
    role: Role
    content: str
    created_at: datetime
    status: MessageStatus = MessageStatus.OK
    model: str = ""
    """Which model wrote an assistant message (``offline-tutor`` for the built-in tutor)."""


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message about to be stored (no id or timestamp yet)."""

    role: Role
    content: str
    status: MessageStatus = MessageStatus.OK
    model: str = ""


@dataclass(frozen=True, slots=True)
class ChatPage:
    items: tuple[Chat, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class RefreshRecord:
    """A stored refresh token: only its hash is kept. ``family`` links a rotation chain."""

    token_hash: str
    user_id: int
    family: str
    expires_at: datetime
    used: bool = False
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    user_id: int
    name: str
    prefix: str
    """The first characters of the key, shown to the user to recognise it."""
    created_at: datetime
    last_used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Quota:
    """What a user has left today. ``resets_at`` is aware, in the policy's zone."""

    limit: int
    used: int
    resets_at: datetime

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    def seconds_until_reset(self, now: datetime) -> int:
        """Whole seconds (rounded up, at least 1) from ``now`` until the quota resets."""
        return max(math.ceil((self.resets_at - now).total_seconds()), 1)


@dataclass(frozen=True, slots=True)
class UserOverview:
    """What an administrator sees of a user (SPEC §4.6): never their chats or messages."""

    user: User
    used_today: int
    last_active_at: datetime | None
    """When the user last wrote in a chat or got a reply (the latest ``updated_at`` of their
    chats); ``None`` when they have no chat."""
    providers: tuple[Provider, ...] = ()


@dataclass(frozen=True, slots=True)
class UsageDay:
    """One user's counted requests on a quota day, and those given back after a tutor failure."""

    day: date
    requests: int
    failed: int


@dataclass(frozen=True, slots=True)
class DayTotals:
    """Everyone's usage on a quota day (deleted accounts included, anonymously)."""

    day: date
    requests: int
    active_users: int
    events: Mapping[str, int] = field(default_factory=dict)
    """Counters of the day by name: ``refused`` (quota refusals) and one per tutor failure code."""
    joined_deleted: int = 0
    """Accounts created that day and deleted since."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One administrative action, as recorded (append-only). Names are copies, so an entry stays
    readable after either user was deleted (their ids are then ``None``)."""

    id: int
    at: datetime
    admin_id: int | None
    admin_name: str
    action: str
    target_user_id: int | None
    target_name: str | None
    before: Mapping[str, object] | None
    after: Mapping[str, object] | None
