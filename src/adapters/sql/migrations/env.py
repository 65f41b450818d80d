"""Alembic environment, configured by :mod:`adapters.sql.migrate` (no ``alembic.ini`` needed).

The application hands over an open connection in ``config.attributes["connection"]`` (so the
migration runs inside its transaction); without one (a developer running Alembic's own command
line with ``sqlalchemy.url`` set) an async engine is made here.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from adapters.sql.engine import create_engine_for
from adapters.sql.schema import metadata

config = context.config


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite can alter tables only by copying them: let future migrations do so.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_with_own_engine(url: str) -> None:
    engine = create_engine_for(url, sqlite_foreign_keys=False)  # as adapters.sql.migrate does
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run)
    finally:
        await engine.dispose()


def main() -> None:
    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url or pass a connection in config.attributes")
    asyncio.run(run_with_own_engine(url))


main()
