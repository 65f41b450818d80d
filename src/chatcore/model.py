"""Domain model: users, chats, messages and the quota a user has left, as frozen, slotted dataclasses.

Identifiers are integers assigned by the storage adapter when a row is added.
Timestamps are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import datetime

from chatcore.learning import Feedback, Level


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
    level: Level = Level.INTERMEDIATE
    """How hard the tutor's English is in this chat (SPEC §4.7)."""


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
    feedback: Feedback | None = None
    """On an assistant message: the tutor's feedback on the learner message it answers
    (``None`` when none could be produced, and on learner messages)."""


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message about to be stored (no id or timestamp yet)."""

    role: Role
    content: str
    status: MessageStatus = MessageStatus.OK
    model: str = ""
    feedback: Feedback | None = None


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
