"""Anonymous usage totals: what stays of a deleted account's quota counters.

Deleting an account adds its per-day request counts to ``anonymous_usage`` (one row per quota
day, no user id) before its ``quota_usage`` rows go with the user, so daily statistics keep
their totals while nothing ties them to a person.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "anonymous_usage",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.CheckConstraint("used >= 0", name=op.f("ck_anonymous_usage_used")),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_anonymous_usage")),
    )


def downgrade() -> None:
    op.drop_table("anonymous_usage")
