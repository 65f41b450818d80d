"""Learning (SPEC §4.7): a chat's level, the feedback stored with assistant messages, the
notebook of corrections and interview scorecards.

``chats.level`` is added with its default, so existing chats are ``intermediate``;
``messages.feedback`` is NULL for existing messages (no feedback). The new tables' rows go with
their user and their chat (``ON DELETE CASCADE``).

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEVELS = "level IN ('beginner', 'intermediate', 'advanced')"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its CHECK constraint in place (no table rebuild).
        op.execute(
            "ALTER TABLE chats ADD COLUMN level VARCHAR(20) DEFAULT 'intermediate' NOT NULL "
            f"CONSTRAINT ck_chats_level CHECK ({LEVELS})"
        )
    else:
        op.add_column(
            "chats", sa.Column("level", sa.String(length=20), server_default="intermediate", nullable=False)
        )
        op.create_check_constraint(op.f("ck_chats_level"), "chats", LEVELS)
    op.add_column("messages", sa.Column("feedback", sa.Text(), nullable=True))
    op.create_table(
        "notebook_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("original", sa.Text(), nullable=False),
        sa.Column("corrected", sa.Text(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("explanation_ko", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_notebook_entries_chat_id_chats"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notebook_entries_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notebook_entries")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_notebook_entries_chat_id"), "notebook_entries", ["chat_id"])
    op.create_index(op.f("ix_notebook_entries_user_id_id"), "notebook_entries", ["user_id", "id"])
    op.create_table(
        "scorecards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("overall", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("overall BETWEEN 0 AND 100", name=op.f("ck_scorecards_overall")),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_scorecards_chat_id_chats"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_scorecards_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorecards")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_scorecards_user_id"), "scorecards", ["user_id"])
    op.create_index(op.f("ix_scorecards_chat_id_id"), "scorecards", ["chat_id", "id"])


def downgrade() -> None:
    op.drop_table("scorecards")
    op.drop_table("notebook_entries")
    op.drop_column("messages", "feedback")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_chats_level"), "chats", type_="check")
    op.drop_column("chats", "level")
