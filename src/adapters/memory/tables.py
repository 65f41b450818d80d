"""The in-memory data: one dict per table, shared by the store, its units of work and repositories.

Its own module so that the repositories and the store both depend on it, and not on each other.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime

from chatcore.learning import NotebookEntry, SavedScorecard
from chatcore.model import ApiKey, Chat, LinkedAccount, Message, RefreshRecord, User
from chatcore.ports.storage import IdempotencyRecord, OAuthState


@dataclass(frozen=True, slots=True)
class OAuthCode:
    """A one-time login code (by its hash, the table's key)."""

    user_id: int
    expires_at: datetime
    used: bool = False


@dataclass
class Tables:
    """The data. Values are frozen dataclasses, so a shallow copy of each table is a snapshot."""

    users: dict[int, User] = field(default_factory=dict)
    identities: dict[tuple[str, str], tuple[int, LinkedAccount]] = field(default_factory=dict)
    chats: dict[int, Chat] = field(default_factory=dict)
    messages: dict[int, Message] = field(default_factory=dict)
    quota: dict[tuple[int, str], int] = field(default_factory=dict)
    anonymous_usage: dict[str, int] = field(default_factory=dict)
    """Per quota day: the requests of users who have since deleted their account."""
    refresh_tokens: dict[str, RefreshRecord] = field(default_factory=dict)
    api_keys: dict[int, tuple[ApiKey, str]] = field(default_factory=dict)
    idempotency: dict[tuple[int, str], IdempotencyRecord] = field(default_factory=dict)
    oauth_states: dict[str, OAuthState] = field(default_factory=dict)
    oauth_codes: dict[str, OAuthCode] = field(default_factory=dict)
    notebook: dict[int, NotebookEntry] = field(default_factory=dict)
    scorecards: dict[int, SavedScorecard] = field(default_factory=dict)
    sequences: dict[str, int] = field(default_factory=dict)

    def next_id(self, table: str) -> int:
        self.sequences[table] = self.sequences.get(table, 0) + 1
        return self.sequences[table]

    def snapshot(self) -> Tables:
        return Tables(**{name: copy.copy(value) for name, value in vars(self).items()})
