"""A user's e-mail is optional (``create-admin`` without ``--email``; providers that give none).

``email`` and ``email_key`` become nullable; the unique constraint on ``email_key`` stays, and
NULLs never clash with each other (SQLite and PostgreSQL alike), so it is unique when present.

SQLite cannot drop a NOT NULL in place: the table is rebuilt (copied), as SQLite documents it,
with foreign keys off for the migration's connection (``adapters.sql.migrate``); otherwise
dropping the old ``users`` table would delete, by ``ON DELETE CASCADE``, every row that refers to
it. The rebuild is checked with ``PRAGMA foreign_key_check`` before it commits.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _users(*, email_nullable: bool) -> sa.Table:
    """The ``users`` table as migration 0001 made it (reflection would lose AUTOINCREMENT)."""
    return sa.Table(
        "users",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("username_key", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=email_nullable),
        sa.Column("email_key", sa.String(length=254), nullable=email_nullable),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("date_joined", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_admin", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("daily_limit", sa.Integer(), nullable=True),
        sa.CheckConstraint("daily_limit IS NULL OR daily_limit >= 0", name="ck_users_daily_limit"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email_key", name="uq_users_email_key"),
        sa.UniqueConstraint("username_key", name="uq_users_username_key"),
        sqlite_autoincrement=True,
    )


def _set_email_nullable(nullable: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        for column in ("email", "email_key"):
            op.alter_column("users", column, existing_type=sa.String(length=254), nullable=nullable)
        return
    if bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError("rebuilding users needs foreign keys off (see adapters.sql.migrate)")
    # The copy would restart AUTOINCREMENT at the highest id left, and a deleted user's id (in
    # an access token that is still valid) must never be given to someone else.
    last_id = bind.exec_driver_sql("SELECT seq FROM sqlite_sequence WHERE name = 'users'").scalar()
    with op.batch_alter_table(
        "users", copy_from=_users(email_nullable=not nullable), recreate="always"
    ) as batch:
        for column in ("email", "email_key"):
            batch.alter_column(column, existing_type=sa.String(length=254), nullable=nullable)
    if last_id is not None:
        bind.exec_driver_sql("UPDATE sqlite_sequence SET seq = ? WHERE name = 'users'", (last_id,))
    broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"rebuilding users broke {len(broken)} foreign key reference(s)")


def upgrade() -> None:
    _set_email_nullable(True)


def downgrade() -> None:
    # The old schema needs an address: users without one get a placeholder that cannot clash
    # (usernames are unique) and that no mail server accepts (.invalid, RFC 2606).
    op.execute(
        "UPDATE users SET email = username || '@localhost.invalid', "
        "email_key = username_key || '@localhost.invalid' WHERE email IS NULL"
    )
    _set_email_nullable(False)
