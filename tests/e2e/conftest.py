"""End-to-end fixtures: a scratch PostgreSQL database per test (CI requires PostgreSQL)."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator

import pytest


def _admin_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _execute(dsn: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture
def postgres_database_url() -> Iterator[str]:
    """A fresh, empty database on the test PostgreSQL server, dropped afterwards."""
    base = os.environ.get("CHATCORE_TEST_POSTGRES_URL", "")
    if not base:
        if os.environ.get("CHATCORE_REQUIRE_POSTGRES") == "1":
            pytest.fail("CHATCORE_REQUIRE_POSTGRES=1 but CHATCORE_TEST_POSTGRES_URL is not set")
        pytest.skip("CHATCORE_TEST_POSTGRES_URL is not set")
    name = f"chatcore_e2e_{secrets.token_hex(4)}"
    admin = _admin_dsn(base)
    asyncio.run(_execute(admin, f'CREATE DATABASE "{name}"'))
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
