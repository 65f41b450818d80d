"""Initial schema: users, identities, chats, messages, quota, tokens, keys, idempotency, logins.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _user_id(table: str) -> tuple[sa.Column[int], sa.ForeignKeyConstraint]:
    return (
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
        ),
    )


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("username_key", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("email_key", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        _timestamp("date_joined"),
        sa.Column("is_admin", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("daily_limit", sa.Integer(), nullable=True),
        sa.CheckConstraint("daily_limit IS NULL OR daily_limit >= 0", name=op.f("ck_users_daily_limit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email_key", name=op.f("uq_users_email_key")),
        sa.UniqueConstraint("username_key", name=op.f("uq_users_username_key")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "identities",
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        *_user_id("identities"),
        sa.Column("login", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("provider", "subject", name=op.f("pk_identities")),
    )
    op.create_index(op.f("ix_identities_user_id"), "identities", ["user_id"])
    op.create_table(
        "chats",
        sa.Column("id", sa.Integer(), nullable=False),
        *_user_id("chats"),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.Column("message_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint("mode IN ('conversation', 'interview')", name=op.f("ck_chats_mode")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chats")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_chats_user_id_updated_at_id",
        "chats",
        ["user_id", sa.text("updated_at DESC"), sa.text("id DESC")],
    )
    op.create_table(
        "messages",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        _timestamp("created_at"),
        sa.Column("status", sa.String(length=16), server_default="ok", nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.CheckConstraint("role IN ('user', 'assistant')", name=op.f("ck_messages_role")),
        sa.CheckConstraint("status IN ('ok', 'failed')", name=op.f("ck_messages_status")),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_messages_chat_id_chats"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_messages_chat_id_id", "messages", ["chat_id", "id"])
    op.create_table(
        "quota_usage",
        *_user_id("quota_usage"),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.CheckConstraint("used >= 0", name=op.f("ck_quota_usage_used")),
        sa.PrimaryKeyConstraint("user_id", "day", name=op.f("pk_quota_usage")),
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        *_user_id("refresh_tokens"),
        sa.Column("family", sa.String(length=64), nullable=False),
        _timestamp("expires_at"),
        sa.Column("used", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("revoked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_refresh_tokens")),
    )
    op.create_index(op.f("ix_refresh_tokens_family"), "refresh_tokens", ["family"])
    op.create_index(op.f("ix_refresh_tokens_user_id"), "refresh_tokens", ["user_id"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        *_user_id("api_keys"),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        _timestamp("created_at"),
        _timestamp("last_used_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_api_keys_user_id"), "api_keys", ["user_id"])
    op.create_table(
        "idempotency_keys",
        *_user_id("idempotency_keys"),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("reply_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_idempotency_keys_chat_id_chats"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index(op.f("ix_idempotency_keys_chat_id"), "idempotency_keys", ["chat_id"])
    op.create_table(
        "login_failures",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        _timestamp("failed_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index("ix_login_failures_key_failed_at", "login_failures", ["key", "failed_at"])
    op.create_table(
        "oauth_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        *_user_id("oauth_codes"),
        _timestamp("expires_at"),
        sa.Column("used", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_oauth_codes")),
    )
    op.create_index(op.f("ix_oauth_codes_user_id"), "oauth_codes", ["user_id"])


def downgrade() -> None:
    # Children first; their indexes go with them.
    for table in (
        "oauth_codes",
        "login_failures",
        "idempotency_keys",
        "api_keys",
        "refresh_tokens",
        "quota_usage",
        "messages",
        "chats",
        "identities",
        "users",
    ):
        op.drop_table(table)
