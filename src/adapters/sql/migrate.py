"""Schema migrations (Alembic) shipped inside the package and configured in code.

Each function opens its own short-lived engine. Connection failures raise
:class:`DatabaseUnreachable` with a one-line reason that never contains the password.

Alembic (and Mako) are imported by the functions that use them, not with this module: a serving
worker imports this package but never migrates, and they would cost it about 12 MB.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sql.engine import CONNECT_TIMEOUT, create_engine_for

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

T = TypeVar("T")


class DatabaseUnreachable(Exception):
    """The database cannot be reached or opened; ``str()`` is one line, without secrets."""


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration for the shipped migrations (and ``url``, for Alembic's CLI)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # ConfigParser syntax
    return config


def head_revision() -> str:
    """The newest revision this code knows."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def upgrade_to_head(url: str) -> None:
    """Apply every migration not applied yet (creates the schema in an empty database)."""
    from alembic import command

    await _in_transaction(url, lambda conn: command.upgrade(_bound(conn), "head"))


async def downgrade_to_base(url: str) -> None:
    """Undo every migration: drops every table of the schema (and all data)."""
    from alembic import command

    await _in_transaction(url, lambda conn: command.downgrade(_bound(conn), "base"))


async def current_revision(url: str) -> str | None:
    """The revision the database is at; ``None`` for an empty database."""
    from alembic.runtime.migration import MigrationContext

    return await _in_transaction(url, lambda conn: MigrationContext.configure(conn).get_current_revision())


async def is_up_to_date(url: str) -> bool:
    """Whether the database is at the newest revision."""
    return await current_revision(url) == head_revision()


def _bound(connection: Connection) -> Config:
    config = alembic_config()
    config.attributes["connection"] = connection
    return config


async def _in_transaction(url: str, work: Callable[[Connection], T]) -> T:
    # Foreign keys off on SQLite: a migration that rebuilds a table checks them itself.
    engine = create_engine_for(url, sqlite_foreign_keys=False)
    try:
        conn = await _connect(engine)
        try:
            async with conn.begin():
                return await conn.run_sync(work)
        finally:
            await conn.close()
    finally:
        await engine.dispose()


async def _connect(engine: AsyncEngine) -> AsyncConnection:
    where = engine.url.render_as_string(hide_password=True)
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT):
            return await engine.connect()
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "orig", None) or exc
        first_line = (str(reason).strip().splitlines() or [type(reason).__name__])[0]
        raise DatabaseUnreachable(f"cannot connect to {where}: {first_line}") from exc
