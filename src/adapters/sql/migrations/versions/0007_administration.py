"""Administration: deactivated accounts, failure and refusal counters, the audit trail.

- ``users.is_active``: false once an administrator deactivated the account.
- ``quota_usage.failed``: a user's requests given back after a tutor failure, per quota day.
- ``anonymous_usage.users`` / ``.joined``: how many deleted accounts had a request that day, and
  how many of them had joined that day.
- ``day_events``: counters per quota day tied to no one (``refused``, one per failure code).
- ``admin_audit``: the append-only record of administrative actions; the admin's and the
  target's names are copied so an entry outlives a deletion (which only clears the ids).
- Indexes for the statistics (``quota_usage (day, used)``, ``users.date_joined``) and for clearing a
  deleted user's ids from the audit trail.

Revision ID: 0007
Revises: 0006 (to be chained after 0006 when the OAuth branch is merged)
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column(
        "quota_usage", sa.Column("failed", sa.Integer(), server_default=sa.text("0"), nullable=False)
    )
    for column in ("users", "joined"):
        op.add_column(
            "anonymous_usage", sa.Column(column, sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
    op.create_index("ix_users_date_joined", "users", ["date_joined"])
    op.create_index("ix_quota_usage_day_used", "quota_usage", ["day", "used"])
    op.create_table(
        "day_events",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "name", name=op.f("pk_day_events")),
    )
    op.create_table(
        "admin_audit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("admin_id", sa.Integer(), nullable=True),
        sa.Column("admin_name", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target_user_id", sa.Integer(), nullable=True),
        sa.Column("target_name", sa.String(length=64), nullable=True),
        sa.Column("before", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("after", sa.JSON(none_as_null=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["admin_id"], ["users.id"], name=op.f("fk_admin_audit_admin_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["target_user_id"],
            ["users.id"],
            name=op.f("fk_admin_audit_target_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_audit")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_admin_audit_admin_id", "admin_audit", ["admin_id"])
    op.create_index("ix_admin_audit_target_user_id", "admin_audit", ["target_user_id"])


def downgrade() -> None:
    op.drop_index("ix_admin_audit_target_user_id", table_name="admin_audit")
    op.drop_index("ix_admin_audit_admin_id", table_name="admin_audit")
    op.drop_table("admin_audit")
    op.drop_table("day_events")
    op.drop_index("ix_quota_usage_day_used", table_name="quota_usage")
    op.drop_index("ix_users_date_joined", table_name="users")
    op.drop_column("anonymous_usage", "joined")
    op.drop_column("anonymous_usage", "users")
    op.drop_column("quota_usage", "failed")
    op.drop_column("users", "is_active")
