"""The relational schema (SPEC §4-§5) as SQLAlchemy Core tables.

The Alembic migrations in ``adapters/sql/migrations`` create exactly this; a test compares the two.
Uniqueness that the domain defines case-insensitively (usernames, e-mails) is enforced on
``*_key`` columns holding ``str.casefold()`` of the value, so SQLite and PostgreSQL agree with
each other and with the in-memory store, also beyond ASCII.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    false,
    text,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# SQLite only gives INTEGER PRIMARY KEY columns automatic ids.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC ``datetime`` in, an aware UTC ``datetime`` out, on every database.

    PostgreSQL stores ``timestamptz``; SQLite stores naive UTC text in a fixed-width format,
    so comparing the stored text orders instants correctly (keyset pagination relies on it).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: chatcore stores aware UTC instants only")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _user_fk(**kwargs: Any) -> Column[int]:
    return Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, **kwargs)


users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False),
    Column("username_key", String(64), nullable=False, unique=True),
    # NULL when the user has no e-mail; unique only when present (NULLs never clash).
    Column("email", String(254)),
    Column("email_key", String(254), unique=True),
    Column("password_hash", String(255)),
    Column("date_joined", UtcDateTime, nullable=False),
    Column("is_admin", Boolean, nullable=False, server_default=false()),
    Column("daily_limit", Integer),
    CheckConstraint("daily_limit IS NULL OR daily_limit >= 0", name="daily_limit"),
    sqlite_autoincrement=True,
)

identities = Table(
    "identities",
    metadata,
    Column("provider", String(20), nullable=False),
    Column("subject", String(100), nullable=False),
    _user_fk(index=True),
    Column("login", String(255), nullable=False),
    PrimaryKeyConstraint("provider", "subject"),
)

chats = Table(
    "chats",
    metadata,
    Column("id", Integer, primary_key=True),
    _user_fk(),
    Column("title", String(200), nullable=False),
    Column("mode", String(20), nullable=False),
    Column("topic", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("message_count", Integer, nullable=False, server_default=text("0")),
    # SPEC §4.7 (migration 0008).
    Column("level", String(20), nullable=False, server_default="intermediate"),
    CheckConstraint("mode IN ('conversation', 'interview')", name="mode"),
    CheckConstraint("level IN ('beginner', 'intermediate', 'advanced')", name="level"),
    sqlite_autoincrement=True,
)
# Keyset pagination: WHERE user_id = ? AND (updated_at, id) < (?, ?) ORDER BY updated_at DESC, id DESC.
Index("ix_chats_user_id_updated_at_id", chats.c.user_id, chats.c.updated_at.desc(), chats.c.id.desc())

messages = Table(
    "messages",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("chat_id", ForeignKey("chats.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("content", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False, server_default="ok"),
    Column("model", String(100), nullable=False),
    # The feedback of an assistant message as JSON (SPEC §4.7, migration 0008); NULL when none.
    Column("feedback", Text),
    CheckConstraint("role IN ('user', 'assistant')", name="role"),
    CheckConstraint("status IN ('ok', 'failed')", name="status"),
    sqlite_autoincrement=True,
)
Index("ix_messages_chat_id_id", messages.c.chat_id, messages.c.id)

quota_usage = Table(
    "quota_usage",
    metadata,
    _user_fk(),
    Column("day", Date, nullable=False),
    Column("used", Integer, nullable=False),
    PrimaryKeyConstraint("user_id", "day"),
    CheckConstraint("used >= 0", name="used"),
)

# What is left of the usage of deleted accounts: requests per quota day, tied to no one (migration 0005).
anonymous_usage = Table(
    "anonymous_usage",
    metadata,
    Column("day", Date, primary_key=True),
    Column("used", Integer, nullable=False),
    CheckConstraint("used >= 0", name="used"),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    _user_fk(index=True),
    Column("family", String(64), nullable=False, index=True),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used", Boolean, nullable=False, server_default=false()),
    Column("revoked", Boolean, nullable=False, server_default=false()),
)
Index("ix_refresh_tokens_expires_at", refresh_tokens.c.expires_at)  # housekeeping (migration 0003)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    _user_fk(index=True),
    Column("name", String(100), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime),
    sqlite_autoincrement=True,
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    _user_fk(),
    Column("key", String(255), nullable=False),
    Column("chat_id", ForeignKey("chats.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("message_id", BigInteger),
    Column("reply_id", BigInteger),
    PrimaryKeyConstraint("user_id", "key"),
)
Index("ix_idempotency_keys_created_at", idempotency_keys.c.created_at)  # housekeeping (0003)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("key", String(255), nullable=False),
    Column("failed_at", UtcDateTime, nullable=False),
)
Index("ix_login_failures_key_failed_at", login_failures.c.key, login_failures.c.failed_at)
Index("ix_login_failures_failed_at", login_failures.c.failed_at)  # housekeeping (0003)

# One-time codes handed to the browser after an OAuth login (SPEC §4.1, exchanged within 60 s).
oauth_codes = Table(
    "oauth_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    _user_fk(index=True),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used", Boolean, nullable=False, server_default=false()),
)

Index("ix_oauth_codes_expires_at", oauth_codes.c.expires_at)  # housekeeping (migration 0006)

# Logins and links started with a provider, until their callback (migration 0006). Hashes only.
oauth_states = Table(
    "oauth_states",
    metadata,
    Column("state_hash", String(64), primary_key=True),
    Column("browser_hash", String(64), nullable=False),
    Column("provider", String(20), nullable=False),
    # The user linking an account; NULL for a login.
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), index=True),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)

# The tutor's corrections, kept for review (SPEC §4.7, migration 0008). ``message_id`` is the
# learner's message the correction is about; it goes with its chat, so it needs no key of its own.
notebook_entries = Table(
    "notebook_entries",
    metadata,
    Column("id", BigId, primary_key=True),
    _user_fk(),
    Column("chat_id", ForeignKey("chats.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("message_id", BigInteger, nullable=False),
    Column("original", Text, nullable=False),
    Column("corrected", Text, nullable=False),
    Column("explanation", Text, nullable=False),
    Column("explanation_ko", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("reviewed", Boolean, nullable=False, server_default=false()),
    sqlite_autoincrement=True,
)
# The notebook, newest first: WHERE user_id = ? AND id < ? ORDER BY id DESC.
Index("ix_notebook_entries_user_id_id", notebook_entries.c.user_id, notebook_entries.c.id)

# Interview scorecards (SPEC §4.7, migration 0008): the scorecard as JSON, the overall score beside it.
scorecards = Table(
    "scorecards",
    metadata,
    Column("id", Integer, primary_key=True),
    _user_fk(index=True),
    Column("chat_id", ForeignKey("chats.id", ondelete="CASCADE"), nullable=False),
    Column("overall", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("overall BETWEEN 0 AND 100", name="overall"),
    sqlite_autoincrement=True,
)
Index("ix_scorecards_chat_id_id", scorecards.c.chat_id, scorecards.c.id)

DATA_TABLES = (
    "scorecards",
    "notebook_entries",
    "oauth_states",
    "login_failures",
    "oauth_codes",
    "idempotency_keys",
    "api_keys",
    "refresh_tokens",
    "quota_usage",
    "anonymous_usage",
    "messages",
    "chats",
    "identities",
    "users",
)
"""Every table, children before parents (the order in which rows can be deleted)."""
