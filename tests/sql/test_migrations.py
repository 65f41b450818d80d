"""Alembic migrations: empty -> head -> base -> head, and the models match the migrated schema."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from adapters.sql import (
    create_engine_for,
    current_revision,
    downgrade_to_base,
    head_revision,
    is_up_to_date,
    upgrade_to_head,
)
from adapters.sql.schema import DATA_TABLES, metadata


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, metadata))


async def schema_differences(url: str) -> list[Any]:
    """What Alembic's autogenerate would change to make the database match the models."""
    engine = create_engine_for(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_differences)
    finally:
        await engine.dispose()


async def table_names(url: str) -> set[str]:
    engine = create_engine_for(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def test_empty_to_head_to_base_to_head(empty_url: str) -> None:
    assert await current_revision(empty_url) is None
    assert await is_up_to_date(empty_url) is False

    await upgrade_to_head(empty_url)
    assert await current_revision(empty_url) == head_revision()
    assert await is_up_to_date(empty_url) is True
    assert await table_names(empty_url) == {*DATA_TABLES, "alembic_version"}

    await downgrade_to_base(empty_url)
    assert await current_revision(empty_url) is None
    assert await table_names(empty_url) == {"alembic_version"}

    await upgrade_to_head(empty_url)
    assert await current_revision(empty_url) == head_revision()
    assert await schema_differences(empty_url) == []


async def test_the_models_match_the_migrated_schema(empty_url: str) -> None:
    await upgrade_to_head(empty_url)
    assert await schema_differences(empty_url) == []


async def test_upgrading_an_up_to_date_database_changes_nothing(empty_url: str) -> None:
    await upgrade_to_head(empty_url)
    await upgrade_to_head(empty_url)
    assert await current_revision(empty_url) == head_revision()


async def test_the_comparison_notices_a_missing_index(empty_url: str) -> None:
    # Guards the test above: an incomplete migration must show up as a difference.
    await upgrade_to_head(empty_url)
    engine = create_engine_for(empty_url)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("DROP INDEX ix_chats_user_id_updated_at_id")
    finally:
        await engine.dispose()
    differences = await schema_differences(empty_url)
    assert [d[0] for d in differences] == ["add_index"]
