"""SQL storage (SQLAlchemy 2 async): SQLite through aiosqlite and PostgreSQL through asyncpg.

Every storage port of :mod:`chatcore.ports`, the attempt limiter, the engine factory and the
Alembic migrations that create the schema.
"""

from adapters.sql.engine import create_engine_for, ping
from adapters.sql.limiter import SqlAttemptLimiter
from adapters.sql.migrate import (
    DatabaseUnreachable,
    current_revision,
    downgrade_to_base,
    head_revision,
    is_up_to_date,
    upgrade_to_head,
)
from adapters.sql.uow import SqlUnitOfWork, SqlUnitOfWorkFactory

__all__ = [
    "DatabaseUnreachable",
    "SqlAttemptLimiter",
    "SqlUnitOfWork",
    "SqlUnitOfWorkFactory",
    "create_engine_for",
    "current_revision",
    "downgrade_to_base",
    "head_revision",
    "is_up_to_date",
    "ping",
    "upgrade_to_head",
]
